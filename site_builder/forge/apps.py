"""The vendor's Forge apps: each app's own manifest plus the vendor's words about it, checked against each other.

``content/apps/<slug>/manifest.yml`` says what the app *may* do; ``app.yaml`` says why. Everything a
page shows is derived here once (permission rows sorted by risk, egress rows, the Runs on Atlassian
verdict, products at a glance), so templates only lay out facts and cannot drift from the manifest.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Position, Problems
from .manifest import EGRESS_KIND_HELP, EGRESS_KINDS, Egress, Manifest, Product, Remote, parse_manifest
from ..pickling import pickled_by_fields
from ..cache.incremental import LoadMemo
from .scopes import RISK_ORDER, ScopeCatalogue, load_catalogue
from ..content.source import Document, file_status, load_yaml
from ..content.validate import validate

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")  # \Z, not $: "app\n" is not a slug
APP_FILE = "app.yaml"
MANIFEST_FILE = "manifest.yml"
ACCESS_LABELS: dict[str, str] = {"delete": "Delete", "manage": "Manage", "write": "Write", "read": "Read", "other": "Other"}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PermissionRow:
    """One line of the permission table: a scope, what it allows and why the app needs it."""

    scope: str
    product: str
    product_key: str
    access: str  # delete, manage, write, read or other
    description: str
    why: str  # "" when app.yaml gives no justification
    legacy_connect: bool
    allow_impersonation: bool
    known: bool  # False when the name is not in the scope catalogue

    @property
    def access_label(self) -> str:
        return ACCESS_LABELS.get(self.access, self.access.capitalize())


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class EgressRow:
    """One line of the egress table: where data may go, how, and why."""

    destination: str
    host: str
    kind: str
    kind_label: str
    kind_help: str
    category: str
    end_user_data: bool  # may carry in-scope End-User Data
    any_domain: bool
    wildcard: bool
    remote: str
    why: str
    placeholders: tuple[str, ...]
    analytics_without_eud: bool


@dataclass(frozen=True)
class RemoteRow:
    remote: Remote
    why: str


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Reason:
    """Why an app is not eligible for Runs on Atlassian; ``code`` groups reasons for tests and styling."""

    code: str  # remote, connect, egress, webtrigger, runtime
    text: str


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AccessSummary:
    """At a glance: which products the app may read, write, delete or manage in."""

    access: str
    label: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class App:
    slug: str
    name: str
    listing_url: str
    summary: str
    data_stored: tuple[str, ...]
    data_processed: tuple[str, ...]
    retention: str
    is_sample: bool
    manifest: Manifest
    permissions: tuple[PermissionRow, ...]
    egress: tuple[EgressRow, ...]
    remotes: tuple[RemoteRow, ...]
    verdict: Verdict
    products: tuple[Product, ...]
    access: tuple[AccessSummary, ...]
    source: Position

    @property
    def sends_data_outside(self) -> bool:
        """Any declared destination outside Atlassian, analytics included."""
        return bool(self.egress or self.remotes)

    @property
    def destinations(self) -> tuple[str, ...]:
        """Distinct destinations, remotes' base URLs included, in table order."""
        found = [row.destination for row in self.egress] + [url for row in self.remotes for _, url in row.remote.base_urls]
        return tuple(dict.fromkeys(found))

    def access_to(self, access: str) -> tuple[str, ...]:
        return next((a.products for a in self.access if a.access == access), ())


def runs_on_atlassian(manifest: Manifest) -> Verdict:
    """Atlassian's published eligibility rules for the Runs on Atlassian badge, applied to a manifest.

    Not eligible when the manifest declares remotes, Connect modules, any egress other than
    analytics that carries no in-scope End-User Data (images, fonts, frames ... count too),
    dynamic web triggers (the default), or no current runtime. Every reason is listed.
    """
    reasons: list[Reason] = []
    for remote in manifest.remotes:
        where = remote.default_url or "an address the customer's admin sets"
        reasons.append(Reason("remote", f"Uses the remote back end {remote.key!r} ({where}): data is sent to a service outside Atlassian."))
    if manifest.connect_modules:
        reasons.append(Reason("connect", f"Has Atlassian Connect modules ({', '.join(manifest.connect_modules)}), which run on the vendor's own servers."))
    for egress in manifest.egress:
        if egress.remote or egress.analytics_without_eud:
            continue  # remote references are covered by the remote's own reason
        target = "any domain (*)" if egress.any_domain else egress.address
        if egress.category.lower() == "analytics":
            reasons.append(Reason("egress", f"Sends analytics to {target} ({egress.kind}) that may include in-scope End-User Data (inScopeEUD is not false)."))
        else:
            reasons.append(Reason("egress", f"Allows {egress.kind} egress to {target}, which is not analytics without End-User Data."))
    for trigger in manifest.webtriggers:
        if not trigger.static:
            reasons.append(Reason("webtrigger", f"Web trigger {trigger.key!r} is dynamic (no 'response: {{type: static}}'), so it can return any data to its caller."))
    if manifest.legacy_runtime:
        reasons.append(Reason("runtime", "Declares no current runtime (app.runtime.name); the legacy runtime it implies no longer runs on Atlassian."))
    notes: list[str] = []
    if manifest.customer_managed_egress:
        notes.append("Site admins can approve further destinations while the app runs (customer-managed egress); those are not in the manifest.")
    return Verdict(not reasons, tuple(reasons), tuple(notes))


def permission_rows(manifest: Manifest, why: dict[str, str]) -> tuple[PermissionRow, ...]:
    """Scopes as table rows, most dangerous first (delete, manage, write, read, other), then by product and name."""
    rows = []
    for scope in manifest.scopes:
        info = scope.info
        rows.append(
            PermissionRow(
                scope=scope.name,
                product=info.product if info else "Unknown",
                product_key=info.product_key if info else "unknown",
                access=info.access if info else "other",
                description=info.description if info else "Not a scope Forge accepts.",
                why=why.get(scope.name, ""),
                legacy_connect=bool(info and info.legacy_connect),
                allow_impersonation=scope.allow_impersonation,
                known=info is not None,
            )
        )
    return tuple(sorted(rows, key=lambda r: (RISK_ORDER.get(r.access, len(RISK_ORDER)), r.product, r.scope)))


def egress_rows(manifest: Manifest, why: dict[str, str], remote_why: dict[str, str]) -> tuple[EgressRow, ...]:
    """Destinations as table rows: 'any domain' first, then by kind (backend, client, ...) and address."""
    rows = [_egress_row(e, remote_why.get(e.remote, "") if e.remote else why.get(e.address, "")) for e in manifest.egress]
    order = {kind: index for index, kind in enumerate(EGRESS_KINDS)}
    return tuple(sorted(rows, key=lambda r: (not r.any_domain, order[r.kind], r.destination)))


def _egress_row(egress: Egress, why: str) -> EgressRow:
    return EgressRow(
        destination=egress.address,
        host=egress.host,
        kind=egress.kind,
        kind_label=egress.kind_label,
        kind_help=EGRESS_KIND_HELP[egress.kind],
        category=egress.category,
        end_user_data=egress.in_scope_eud,
        any_domain=egress.any_domain,
        wildcard=egress.wildcard,
        remote=egress.remote,
        why=why,
        placeholders=egress.placeholders,
        analytics_without_eud=egress.analytics_without_eud,
    )


def access_summary(rows: tuple[PermissionRow, ...]) -> tuple[AccessSummary, ...]:
    """For each access level that occurs, the products it applies to, in risk order."""
    by_access: dict[str, list[str]] = {}
    for row in rows:
        products = by_access.setdefault(row.access, [])
        if row.product not in products:
            products.append(row.product)
    levels = sorted(by_access, key=lambda a: RISK_ORDER.get(a, len(RISK_ORDER)))
    return tuple(AccessSummary(a, ACCESS_LABELS.get(a, a.capitalize()), tuple(sorted(by_access[a]))) for a in levels)


def load_apps(apps_dir: Path, display_root: str, problems: Problems, catalogue: ScopeCatalogue | None = None, memo: LoadMemo | None = None) -> tuple[App, ...]:
    """Every ``<slug>/`` folder under ``apps_dir`` as an App, sorted by slug; no folder means no apps.

    ``memo`` (serve) reuses the App of a folder whose files did not change.
    """
    if not apps_dir.exists():
        return ()
    if apps_dir.is_symlink() or not apps_dir.is_dir():
        problems.error(Position(f"{display_root}/"), "is not a folder", hint="apps/ holds one folder per app")
        return ()
    catalogue = catalogue if catalogue is not None else load_catalogue()
    with os.scandir(apps_dir) as scan:  # its entries know whether they are links or folders: no stat each
        listing = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
    folded: dict[str, str] = {}
    apps: list[App] = []
    for listed in listing:
        display = f"{display_root}/{listed.name}"
        if listed.is_symlink():
            problems.error(Position(display), "is a symbolic link", hint="put the app's folder itself in apps/, not a link to it")
            continue
        if not listed.is_dir():
            problems.error(Position(display), "is not an app folder", hint=f"apps/ holds one folder per app, each with {APP_FILE} and {MANIFEST_FILE}")
            continue
        name = listed.name
        key = name.casefold()
        if key in folded:
            problems.error(Position(f"{display}/"), f"app folder {name!r} differs from {folded[key]!r} only in case", hint="rename or remove one of them; both would publish to the same address on case-insensitive disks")
            continue
        folded[key] = name
        if not SLUG.match(name):
            suggestion = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "my-app"
            problems.error(Position(f"{display}/"), f"{name!r} is not a valid app slug", hint=f"use lower-case letters, digits and single hyphens, e.g. {suggestion!r}; it becomes the page address apps/<slug>/")
            continue
        if memo is not None:  # a frozen release's unchanged copy of an app shares the app already loaded
            app = memo.call(load_app, listed.path, display, problems=problems, catalogue=catalogue, relocate=moved_app)
        else:
            app = load_app(Path(listed.path), display, problems, catalogue)
        if app is not None:
            apps.append(app)
    return tuple(sorted(apps, key=lambda a: a.slug))


def moved_app(app: App, display: str) -> App:
    """The App of a byte-identical folder elsewhere (LoadMemo's ``relocate``): the same facts, its own file names.

    Positions inside the manifest keep the first copy's file name; they only serve load-time
    messages, and a copy is shared only when loading it reported none.
    """
    source = Position(f"{display}/{APP_FILE}", app.source.line, app.source.column)
    return _replaced(app, source=source, manifest=_replaced(app.manifest, path=f"{display}/{MANIFEST_FILE}"))


def _replaced(value: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for a frozen dataclass whose __init__ only stores its fields (App, Manifest):
    the same object a new __init__ would make, without walking fields() and setting each one again.
    A release's unchanged apps are thousands of such copies."""
    kind = type(value)
    if hasattr(kind, "__post_init__") or not hasattr(value, "__dict__") or not set(changes) <= value.__dict__.keys():
        return dataclasses.replace(value, **changes)
    copy = object.__new__(kind)
    copy.__dict__.update(value.__dict__, **changes)
    return copy


def load_app(folder: Path, display: str, problems: Problems, catalogue: ScopeCatalogue | None = None) -> App | None:
    """One app folder: its manifest, its app.yaml, and the checks that tie the two together."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    app_file, manifest_file = folder / APP_FILE, folder / MANIFEST_FILE
    app_display, manifest_display = f"{display}/{APP_FILE}", f"{display}/{MANIFEST_FILE}"
    missing = False
    for file, shown, hint in (
        (manifest_file, manifest_display, "copy in the app's own manifest.yml unmodified, or use 'site-builder app add PATH/TO/manifest.yml'"),
        (app_file, app_display, "describe the app in app.yaml; 'site-builder app add' writes a skeleton"),
    ):
        if file_status(file) is None:  # neither there nor a (dangling) link
            problems.error(Position(shown), "file not found", hint=hint)
            missing = True
    if missing:
        return None
    manifest_doc = load_yaml(manifest_file, manifest_display, problems)
    manifest = parse_manifest(manifest_doc, problems, catalogue) if manifest_doc is not None else None
    document = load_yaml(app_file, app_display, problems)
    if document is None or manifest is None:
        return None
    if not isinstance(document.data, dict):
        problems.error(document.position(), "must be a mapping of keys to values", hint="see site_builder/schemas/app.schema.json")
        return None
    if not validate(document, "app", problems):
        return None
    return build_app(folder.name, document, manifest, problems)


def build_app(slug: str, document: Document, manifest: Manifest, problems: Problems) -> App:
    """Combine a validated app.yaml with its parsed manifest; check the justifications against each other."""
    data: dict[str, Any] = document.data
    scope_why = _justifications(data, "scopes")
    egress_why = _justifications(data, "egress")
    remote_why = _justifications(data, "remotes")
    _check_justifications(document, problems, "scopes", "scope", scope_why, [s.name for s in manifest.scopes])
    _check_justifications(document, problems, "egress", "egress destination", egress_why, [e.address for e in manifest.egress if not e.remote])
    _check_justifications(document, problems, "remotes", "remote", remote_why, [r.key for r in manifest.remotes])
    permissions = permission_rows(manifest, scope_why)
    data_stored = tuple(data.get("data_stored") or ())
    retention = (data.get("retention") or "").strip()
    can_store = manifest.scope("storage:app") is not None or bool(manifest.storage_entities)
    if can_store and not data_stored:
        problems.warning(document.position(("data_stored",) if "data_stored" in data else ()), "the manifest lets the app store data (storage:app) but app.yaml lists no data stored", key="data_stored", hint="list what the app keeps in Forge storage, or say so if it keeps nothing")
    if data_stored and not retention:
        problems.warning(document.position(("retention",) if "retention" in data else ()), "the app stores data but app.yaml says nothing about retention", key="retention", hint="say how long stored data is kept and how it is deleted")
    return App(
        slug=slug,
        name=data["name"].strip(),
        listing_url=data.get("listing_url", ""),
        summary=data["summary"].strip(),
        data_stored=data_stored,
        data_processed=tuple(data.get("data_processed") or ()),
        retention=retention,
        is_sample=bool(data.get("sample", False)),
        manifest=manifest,
        permissions=permissions,
        egress=egress_rows(manifest, egress_why, remote_why),
        remotes=tuple(RemoteRow(r, remote_why.get(r.key, "")) for r in manifest.remotes),
        verdict=runs_on_atlassian(manifest),
        products=manifest.products,
        access=access_summary(permissions),
        source=document.position(),
    )


def _justifications(data: dict, section: str) -> dict[str, str]:
    return {str(k).strip(): (v or "").strip() for k, v in (data.get(section) or {}).items()}


def _check_justifications(document: Document, problems: Problems, section: str, noun: str, why: dict[str, str], declared: list[str]) -> None:
    """Missing justification: a warning (an error with --strict). Justification for nothing: a stale error."""
    declared_set = set(declared)
    for name in dict.fromkeys(declared):
        if why.get(name):
            continue
        raw_key = _raw_key(document, section, name)
        if raw_key is not None:
            where = document.position((section, raw_key), of_key=True)
        else:
            where = document.position((section,), of_key=True) if section in document.data else document.position()
        problems.warning(where, f"{noun} {name!r} has no justification", key=section, hint=f"say why the app needs it: under '{section}:', write {_yaml_key(name)}: ...")
    for raw_key in (document.data.get(section) or {}):
        name = str(raw_key).strip()
        if name in declared_set:
            continue
        close = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "manifest.yml does not declare it any more; remove the justification"
        problems.error(document.position((section, raw_key), of_key=True), f"stale justification: {noun} {name!r} is not declared in manifest.yml", key=section, hint=hint)


def _yaml_key(name: str) -> str:
    """A name as it can be typed as a YAML key: ``*.example.com`` needs quotes, ``read:jira-work`` does not."""
    if re.match(r"^[A-Za-z0-9]", name) and ": " not in name and " #" not in name:
        return name
    return json.dumps(name)


def _raw_key(document: Document, section: str, name: str) -> Any:
    for key in document.data.get(section) or {}:
        if str(key).strip() == name:
            return key
    return None
