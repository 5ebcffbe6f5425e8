"""A realistic trust center at scale, and the same site for Hugo, MkDocs and Pelican.

``python benchmarks/corpus.py --apps 1000 --out benchmarks/work/n1000`` writes::

    OUT/site-builder/   a site-builder project: content/site.yaml, policy/, apps/<slug>/{app.yaml,manifest.yml},
                        releases.yaml and releases/<v>/ (frozen copies, as 'site-builder release' makes them)
    OUT/hugo/           the same pages for Hugo: content/*.md, a minimal theme in layouts/, hugo.yaml
    OUT/mkdocs/         the same pages for MkDocs: docs/*.md, a minimal theme in theme/, mkdocs.yml
    OUT/pelican/        the same pages for Pelican: content/pages/*.md, a minimal theme, pelicanconf.py
    OUT/expected.json   every HTML page each output must have, and the table rows it must hold

Apps are made up but realistic: 3 to 30 real scope names from ``site_builder/data/forge-scope-names.txt``
chosen around one product, about a third with egress (backend APIs, analytics without End-User Data,
images, wildcards, now and then ``*``), about one in ten with a remote back end and a region map, and
an app.yaml that justifies every scope, destination and remote. Each release adds apps and changes a
few scopes and one policy sentence, so the version and change pages have something to say.

The peers get the same *facts*: the generator loads each app with site-builder's own loader and
writes its permission, egress and remote tables, the at-a-glance table and the policy sections as
Markdown, so each peer renders the same pages, bodies, tables and site-wide navigation with a
minimal theme of its own. Deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from site_builder.forge.apps import App, load_app  # noqa: E402
from site_builder.errors import Problems  # noqa: E402
from site_builder.render.engine import relative_url  # noqa: E402
from site_builder.forge.scopes import load_catalogue  # noqa: E402

PEERS = ("hugo", "mkdocs", "pelican")
FIRST_RELEASE = date(2023, 1, 2)
RELEASE_EVERY = timedelta(days=91)

# Module types per product, and the scope suffixes that belong to it.
PRODUCTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "jira": ("jira:issuePanel", ("jira", "jira-software")),
    "confluence": ("confluence:contentBylineItem", ("confluence",)),
    "jsm": ("jiraServiceManagement:portalRequestDetail", ("jira-service-management", "jira")),
    "compass": ("compass:adminPage", ("compass",)),
    "bitbucket": ("bitbucket:repoMainMenuPage", ("bitbucket",)),
}
PRODUCT_WEIGHTS = {"jira": 50, "confluence": 25, "jsm": 12, "compass": 5, "bitbucket": 8}
CLASSIC_BY_PRODUCT = {
    "jira": ("read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-project", "manage:jira-configuration"),
    "confluence": ("read:confluence-content.all", "write:confluence-content", "read:confluence-space.summary", "search:confluence"),
    "jsm": ("read:servicedesk-request", "manage:servicedesk-customer", "read:jira-work"),
    "compass": ("read:jira-user",),
    "bitbucket": ("read:account",),
}
WORDS = (
    "Issue", "Page", "Sprint", "Release", "Board", "Backlog", "Review", "Audit", "Ticket", "Timer", "Report",
    "Checklist", "Template", "Export", "Sync", "Insight", "Tracker", "Planner", "Digest", "Label", "Workflow",
    "Approval", "Roadmap", "Metrics", "Notes", "Status", "Queue", "Portal", "Asset", "Deploy", "Glossary",
)
SUFFIXES = ("Pro", "Cloud", "Helper", "Hub", "Kit", "Lens", "Flow", "Desk", "Bot", "Board", "Sync", "Suite")
SUMMARY_TAILS = (
    "It keeps its settings in Forge storage inside Atlassian's cloud.",
    "Everything it shows is computed when the page opens; nothing is kept afterwards.",
    "A project admin chooses which projects it is active in.",
    "Results are cached for a few minutes to keep pages fast.",
)
ANALYTICS_HOSTS = ("in.accoil.com", "api.segment.io", "api-js.mixpanel.com")
IMAGE_HOSTS = ("*.gravatar.com", "images.unsplash.com", "*.githubusercontent.com")
REGIONS = ("EU", "US", "AU", "DE", "JP")


@dataclass(frozen=True)
class EgressSpec:
    kind: str  # "fetch.backend", "fetch.client", "images", ...
    address: str
    category: str = ""
    in_scope_eud: bool | None = None
    why: str = ""


@dataclass(frozen=True)
class RemoteSpec:
    key: str
    base_urls: tuple[tuple[str, str], ...]  # region "" for one URL
    operations: tuple[str, ...]
    stores_eud: bool
    why: str


@dataclass(frozen=True)
class AppSpec:
    """What the generator decides about one app; rendered into manifest.yml and app.yaml."""

    index: int
    slug: str
    name: str
    product: str
    summary: str
    scopes: tuple[str, ...]
    egress: tuple[EgressSpec, ...]
    remotes: tuple[RemoteSpec, ...]
    data_processed: tuple[str, ...]

    @property
    def stores(self) -> bool:
        return "storage:app" in self.scopes


@dataclass(frozen=True)
class SectionSpec:
    file: str  # NN-slug.md
    text: str  # front matter and body, as in the repo's default content
    title: str
    anchor: str
    body: str


@dataclass(frozen=True)
class EditionSpec:
    sections: tuple[SectionSpec, ...]
    apps: tuple[AppSpec, ...]


@dataclass(frozen=True)
class ReleaseSpec:
    version: str
    date: date
    summary: str
    edition: EditionSpec


@dataclass(frozen=True)
class CorpusSpec:
    apps: int
    releases: tuple[ReleaseSpec, ...]
    working: EditionSpec
    site_yaml: str


# --------------------------------------------------------------------------------------------- data


def scope_pools() -> dict[str, list[str]]:
    """Real scope names grouped by the product suffix they end in; Connect-only scopes left out."""
    names = [line.strip() for line in (REPO / "site_builder/data/forge-scope-names.txt").read_text().splitlines()]
    pools: dict[str, list[str]] = {}
    for name in names:
        if not name or name.startswith("#") or "connect" in name:
            continue
        parts = name.split(":")
        if len(parts) == 3:
            pools.setdefault(parts[2], []).append(name)
    return pools


def make_app(index: int, rng: random.Random, pools: dict[str, list[str]]) -> AppSpec:
    product = rng.choices(list(PRODUCT_WEIGHTS), weights=list(PRODUCT_WEIGHTS.values()))[0]
    _, suffixes = PRODUCTS[product]
    pool = sorted({name for suffix in suffixes for name in pools.get(suffix, [])})
    count = min(len(pool), max(3, min(30, int(rng.triangular(3, 30, 8)))))
    scopes = set(rng.sample(pool, count - 1))
    scopes.add(rng.choice(CLASSIC_BY_PRODUCT[product]) if rng.random() < 0.5 else "storage:app")
    while len(scopes) < 3:
        scopes.add(rng.choice(pool))
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}"
    slug = f"{name.lower().replace(' ', '-')}-{index:05d}"
    vendor = f"{slug.rsplit('-', 1)[0]}.example.com"
    egress: list[EgressSpec] = []
    remotes: list[RemoteSpec] = []
    roll = rng.random()
    if roll < 0.12:
        regions = rng.sample(REGIONS, rng.randint(0, 3))
        urls = (("default", f"https://api.{vendor}"),) + tuple((r, f"https://{r.lower()}.api.{vendor}") for r in sorted(regions)) if regions else (("", f"https://api.{vendor}"),)
        remotes.append(RemoteSpec("backend", urls, ("storage", "compute"), True, "Runs the analysis the app's pages show, on our own servers, and keeps its results."))
        egress.append(EgressSpec("fetch.backend", "remote:backend"))
    if roll < 0.4:
        if rng.random() < 0.6:
            egress.append(EgressSpec("fetch.backend", rng.choice(ANALYTICS_HOSTS), "analytics", False, "Receives anonymous feature-usage counts, never End-User Data."))
        if rng.random() < 0.5:
            egress.append(EgressSpec("fetch.backend", f"https://hooks.{vendor}", "", None, "Sends the notifications a project admin turns on to the team's own webhook."))
        if rng.random() < 0.3:
            egress.append(EgressSpec("images", rng.choice(IMAGE_HOSTS), "", None, "Shows avatars and pictures next to the items they belong to."))
        if rng.random() < 0.2:
            egress.append(EgressSpec("fetch.client", f"*.cdn.{vendor}", "", None, "Loads the app's help articles in the user's browser."))
        if rng.random() < 0.03:
            egress.append(EgressSpec("fetch.backend", "*", "", None, "Fetches previews of any link a user pastes into an issue."))
    processed = [f"The {rng.choice(WORDS).lower()}s of the {product if product != 'jsm' else 'service desk'} item being viewed"]
    if rng.random() < 0.5:
        processed.append("The account ID of the user who opens the app")
    tail = rng.choice(SUMMARY_TAILS)
    summary = f"{name} adds a {rng.choice(WORDS).lower()} view to {'Jira Service Management' if product == 'jsm' else product.capitalize()} so a team can see its work at a glance. {tail}"
    return AppSpec(index, slug, name, product, summary, tuple(sorted(scopes)), tuple(egress), tuple(remotes), tuple(processed))


def older(app: AppSpec) -> AppSpec:
    """The same app one release earlier: one scope fewer, so the change page has something to report."""
    return AppSpec(app.index, app.slug, app.name, app.product, app.summary, app.scopes[:-1], app.egress, app.remotes, app.data_processed)


def read_sections(folder: Path) -> tuple[SectionSpec, ...]:
    sections = []
    for file in sorted(folder.glob("*.md")):
        text = file.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        meta = dict(line.split(": ", 1) for line in front.strip().splitlines() if ": " in line)
        sections.append(SectionSpec(file.name, text, meta["title"].strip().strip("'\""), meta["anchor"].strip(), body))
    return tuple(sections)


def revise(sections: tuple[SectionSpec, ...], version: str) -> tuple[SectionSpec, ...]:
    """Each release adds one dated sentence to the first section; everything else stays as it is."""
    first = sections[0]
    note = f"\nThis policy was reviewed for release {version}.\n"
    return (SectionSpec(first.file, first.text + note, first.title, first.anchor, first.body + note),) + sections[1:]


def make_corpus(apps: int, releases: int, seed: int = 8) -> CorpusSpec:
    rng = random.Random(seed)
    pools = scope_pools()
    all_apps = [make_app(i, rng, pools) for i in range(apps)]
    base_sections = read_sections(REPO / "content" / "policy")
    step = max(1, apps // 20)
    release_specs = []
    for r in range(releases):
        version = f"1.{r}"
        count = max(1, apps - (releases - 1 - r) * step)
        chosen = tuple(older(a) if a.index % 10 == r and r < releases - 1 and len(a.scopes) > 3 else a for a in all_apps[:count])
        edition = EditionSpec(revise(base_sections, version), chosen)
        summary = "First published version." if r == 0 else f"Adds {step} apps and updates the permissions of others."
        release_specs.append(ReleaseSpec(version, FIRST_RELEASE + r * RELEASE_EVERY, summary, edition))
    working = release_specs[-1].edition if release_specs else EditionSpec(base_sections, tuple(all_apps))
    site_yaml = (REPO / "content" / "site.yaml").read_text(encoding="utf-8")
    return CorpusSpec(apps, tuple(release_specs), working, site_yaml)


# ----------------------------------------------------------------------------- site-builder project


def q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def manifest_yaml(app: AppSpec) -> str:
    module, _ = PRODUCTS[app.product]
    lines = [
        "modules:",
        f"  {module}:",
        f"    - key: {app.slug}-main",
        "      resource: main",
        "      resolver:",
        "        function: resolver",
        "      render: native",
        f"      title: {q(app.name)}",
        "  function:",
        "    - key: resolver",
        "      handler: index.handler",
        "resources:",
        "  - key: main",
        "    path: src/frontend/index.jsx",
    ]
    if app.remotes:
        lines.append("remotes:")
        for remote in app.remotes:
            lines.append(f"  - key: {remote.key}")
            if len(remote.base_urls) == 1 and remote.base_urls[0][0] == "":
                lines.append(f"    baseUrl: {remote.base_urls[0][1]}")
            else:
                lines.append("    baseUrl:")
                lines.extend(f"      {region}: {url}" for region, url in remote.base_urls)
            lines.append(f"    operations: [{', '.join(remote.operations)}]")
            lines.append(f"    storage:\n      inScopeEUD: {'true' if remote.stores_eud else 'false'}")
    lines += ["permissions:", "  scopes:"]
    lines.extend(f"    - {scope}" for scope in app.scopes)
    if app.egress:
        lines.append("  external:")
        by_kind: dict[str, list[EgressSpec]] = {}
        for egress in app.egress:
            by_kind.setdefault(egress.kind, []).append(egress)
        fetch = {k: v for k, v in by_kind.items() if k.startswith("fetch.")}
        if fetch:
            lines.append("    fetch:")
            for kind, items in fetch.items():
                lines.append(f"      {kind.split('.')[1]}:")
                lines.extend(_egress_item(e, "        ") for e in items)
        for kind, items in by_kind.items():
            if not kind.startswith("fetch."):
                lines.append(f"    {kind}:")
                lines.extend(_egress_item(e, "      ") for e in items)
    lines += [
        "app:",
        f"  id: ari:cloud:ecosystem::app/{app.index:08d}-0000-4000-8000-{app.index:012d}",
        "  runtime:",
        "    name: nodejs22.x",
        "  licensing:",
        f"    enabled: {'true' if app.index % 2 else 'false'}",
    ]
    return "\n".join(lines) + "\n"


def _egress_item(egress: EgressSpec, indent: str) -> str:
    if egress.address.startswith("remote:"):
        return f"{indent}- remote: {egress.address.split(':', 1)[1]}"
    if egress.category or egress.in_scope_eud is not None:
        parts = [f"address: {q(egress.address)}"]
        if egress.category:
            parts.append(f"category: {egress.category}")
        if egress.in_scope_eud is not None:
            parts.append(f"inScopeEUD: {'true' if egress.in_scope_eud else 'false'}")
        return f"{indent}- {{{', '.join(parts)}}}"
    return f"{indent}- {q(egress.address)}"


def app_yaml(app: AppSpec) -> str:
    catalogue = load_catalogue()
    lines = [f"name: {q(app.name)}", f"listing_url: https://marketplace.atlassian.com/apps/{100000 + app.index}", f"summary: {q(app.summary)}"]
    if app.stores:
        lines += ["data_stored:", "  - The app's settings for each project (which fields to show, and in what order)", "retention: " + q("Kept while the app is installed; Atlassian deletes the app's Forge storage after it is uninstalled.")]
    else:
        lines += ["data_stored: []", "retention: Nothing is stored."]
    lines.append("data_processed:")
    lines.extend(f"  - {q(item)}" for item in app.data_processed)
    lines.append("scopes:")
    for scope in app.scopes:
        info = catalogue.lookup(scope)
        what = info.description.rstrip(".").lower() if info else scope
        lines.append(f"  {scope}: {q(f'The app needs to {what} to show it in its panel.')}")
    plain = [e for e in app.egress if not e.address.startswith("remote:")]
    if plain:
        lines.append("egress:")
        lines.extend(f"  {q(e.address)}: {q(e.why)}" for e in plain)
    if app.remotes:
        lines.append("remotes:")
        lines.extend(f"  {r.key}: {q(r.why)}" for r in app.remotes)
    return "\n".join(lines) + "\n"


def write_edition(folder: Path, edition: EditionSpec, site_yaml: str, rendered: dict[AppSpec, tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(site_yaml, encoding="utf-8")
    policy = folder / "policy"
    policy.mkdir(exist_ok=True)
    for section in edition.sections:
        (policy / section.file).write_text(section.text, encoding="utf-8")
    for app in edition.apps:
        manifest, descr = rendered.setdefault(app, (manifest_yaml(app), app_yaml(app)))
        target = folder / "apps" / app.slug
        target.mkdir(parents=True, exist_ok=True)
        (target / "manifest.yml").write_text(manifest, encoding="utf-8")
        (target / "app.yaml").write_text(descr, encoding="utf-8")


def write_project(root: Path, corpus: CorpusSpec) -> None:
    content = root / "content"
    rendered: dict[AppSpec, tuple[str, str]] = {}
    write_edition(content, corpus.working, corpus.site_yaml, rendered)
    if not corpus.releases:
        return
    entries = [f"  - version: {q(r.version)}\n    date: {q(r.date.isoformat())}\n    summary: {q(r.summary)}" for r in corpus.releases]
    (content / "releases.yaml").write_text("releases:\n" + "\n".join(entries) + "\n", encoding="utf-8")
    for release in corpus.releases:
        write_edition(content / "releases" / release.version, release.edition, corpus.site_yaml, rendered)
    write_lock(content, corpus)


def write_lock(content: Path, corpus: CorpusSpec) -> None:
    """What 'site-builder release' writes besides the frozen copies: each release's record and releases.lock.

    Uses site-builder's own functions when this version has them, so the corpus follows the format.
    """
    try:
        from site_builder.releases import lockfile
        from site_builder.releases import history as releases_module
    except ImportError:  # a site-builder without release integrity: the copies are enough
        return
    record = getattr(releases_module, "record_text", None)
    record_file = getattr(releases_module, "RECORD_FILE", None)
    if record is not None and record_file:
        for release in corpus.releases:
            (content / "releases" / release.version / record_file).write_text(record(release.version, release.date, release.summary), encoding="utf-8")
    if getattr(lockfile, "GITATTRIBUTES", None):
        (content / "releases" / lockfile.GITATTRIBUTES).write_text(lockfile.GITATTRIBUTES_TEXT, encoding="utf-8")
    entries = [
        (file.relative_to(content).as_posix(), lockfile.sha256_file(file))
        for file in sorted((content / "releases").rglob("*"))
        if file.is_file() and file.relative_to(content).as_posix().count("/") >= 2
    ]
    (content / lockfile.LOCK_FILE).write_text(lockfile.format_lines(entries), encoding="utf-8")


# ------------------------------------------------------------------------------------ the page model


@dataclass(frozen=True)
class PeerPage:
    """One page of the peer sites: its output path, title and Markdown body (links relative to it)."""

    path: str  # e.g. "apps/foo/index.html"
    title: str
    body: str
    rows: int  # table data rows (<tr> with <td>) the rendered page must hold


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: Iterable[str], rows: list[list[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def names(items: Iterable[str]) -> str:
    items = list(items)
    return ", ".join(items) if items else "None"


def outside(app: App) -> str:
    if app.remotes:
        return f"**Yes**: to the vendor's own servers ({len(app.remotes)} remote{'s' if len(app.remotes) != 1 else ''})"
    if any(r.any_domain for r in app.egress):
        return "**Yes**: to any domain"
    if any(not r.analytics_without_eud for r in app.egress):
        count = len(app.destinations)
        return f"**Yes**: {count} destination{'s' if count != 1 else ''}"
    return "Analytics only, without End-User Data" if app.egress else "No"


def glance(apps: tuple[App, ...], page: str, prefix: str = "") -> str:
    rows = []
    for app in apps:
        link = relative_url(page, f"{prefix}apps/{app.slug}/")
        verdict = "Eligible" if app.verdict.eligible else f"[Not eligible]({relative_url(page, f'{prefix}apps/{app.slug}/#runs-on-atlassian')})"
        rows.append([
            f"[{app.name}]({link})",
            names(p.name for p in app.products),
            names(app.access_to("delete")),
            names(app.access_to("manage")),
            names(app.access_to("write")),
            names(app.access_to("read")),
            outside(app),
            verdict,
        ])
    header = ("App", "Extends", "Can delete in", "Can manage", "Can write in", "Can read in", "Sends data outside Atlassian", "Runs on Atlassian")
    return table(header, rows)


def policy_page(path: str, title: str, sections: tuple[SectionSpec, ...], apps: tuple[App, ...], version_line: str, prefix: str = "") -> PeerPage:
    parts = [version_line, "", "## Contents", ""]
    parts += [f"1. [{s.title}](#{s.anchor})" for s in sections]
    if apps:
        parts.append("1. [Apps and their permissions](#apps)")
    parts.append("")
    rows = 0
    for section in sections:
        parts += [f"## {section.title} {{#{section.anchor}}}", "", section.body.strip(), ""]
        rows += section_rows(section.body)
    if apps:
        parts += ["## Apps and their permissions {#apps}", "", "Each app's permissions below are read from the app's own Forge manifest.", "", glance(apps, path, prefix), f"[All apps and their permissions]({relative_url(path, prefix + 'apps/')})", ""]
        rows += len(apps)
    return PeerPage(path, title, "\n".join(parts), rows)


def section_rows(body: str) -> int:
    """Data rows of the Markdown tables in a section body: table lines minus header and rule."""
    rows, in_table = 0, False
    for line in body.splitlines():
        if line.startswith("|"):
            rows += 1
            if not in_table:
                rows -= 2
            in_table = True
        else:
            in_table = False
    return rows


def app_page(app: App, prefix: str = "") -> PeerPage:
    path = f"{prefix}apps/{app.slug}/index.html"
    manifest = app.manifest
    parts = [
        f"[Apps]({relative_url(path, prefix + 'apps/')})",
        "",
        app.summary,
        "",
        f"- **Extends**: {names(p.name for p in app.products)}",
        f"- **Runs on Atlassian**: {'Eligible' if app.verdict.eligible else 'Not eligible'}",
        f"- **Marketplace listing**: <{app.listing_url}>" if app.listing_url else "",
        f"- **Forge runtime**: `{manifest.runtime}`",
        "",
        "## Runs on Atlassian {#runs-on-atlassian}",
        "",
    ]
    if app.verdict.eligible:
        parts.append("**Eligible.** By its manifest, the app runs and stores data only on Atlassian's cloud.")
    else:
        parts.append(f"**Not eligible**, for {len(app.verdict.reasons)} reason(s):\n")
        parts += [f"- {r.text}" for r in app.verdict.reasons]
    parts += ["", "## Permissions {#permissions}", ""]
    rows = 0
    if app.permissions:
        parts.append(table(("Scope", "Product", "Access", "What it allows", "Why the app needs it"), [[f"`{r.scope}`", r.product, r.access_label, r.description, r.why or "*Not explained yet.*"] for r in app.permissions]))
        rows += len(app.permissions)
    else:
        parts.append("The app declares no scopes.")
    parts += ["", "## Where data may go {#egress}", ""]
    if app.egress:
        parts.append(table(("Destination", "Kind", "Category", "End-User Data", "Why"), [[f"`{r.destination}`", r.kind_label, r.category.lower() or "None", "May be sent" if r.end_user_data else "Not sent", r.why or "*Not explained yet.*"] for r in app.egress]))
        rows += len(app.egress)
    else:
        parts.append("The manifest allows no connections outside Atlassian.")
    parts += ["", "## Data residency {#data-residency}", ""]
    if app.remotes:
        parts.append(table(("Remote", "Address by region", "Used for", "Stores End-User Data", "Why"), [[f"`{r.remote.key}`", "; ".join(f"{region or 'Default'}: `{url}`" for region, url in r.remote.base_urls), names(r.remote.operations), "Yes" if r.remote.may_store_eud else "No", r.why] for r in app.remotes]))
        rows += len(app.remotes)
    else:
        parts.append("The app declares no remote back ends.")
    parts += ["", "## Storage {#storage}", "", "Data stored:", ""]
    parts += [f"- {item}" for item in app.data_stored] or ["- Nothing."]
    parts += ["", "Data processed, not stored:", ""]
    parts += [f"- {item}" for item in app.data_processed] or ["- Nothing listed."]
    parts += ["", f"Retention: {app.retention or 'Not stated.'}", "", "## Content security {#content-security}", "", "None: the app's pages run under Atlassian's default Content Security Policy.", ""]
    return PeerPage(path, f"{app.name}: permissions and data", "\n".join(parts), rows)


def apps_overview(apps: tuple[App, ...], prefix: str = "") -> PeerPage:
    path = f"{prefix}apps/index.html"
    parts = ["Every permission on these pages is read from the app's own Forge manifest.", "", glance(apps, path, prefix), "## The apps {#app-list}", ""]
    for app in apps:
        parts += [f"### [{app.name}]({relative_url(path, f'{prefix}apps/{app.slug}/')})", "", app.summary, ""]
    return PeerPage(path, "Apps and their permissions", "\n".join(parts), len(apps))


def changes_page(old: str, new: str, old_sections: tuple[SectionSpec, ...], new_sections: tuple[SectionSpec, ...], old_apps: dict[str, App], new_apps: dict[str, App]) -> PeerPage:
    """What changed between two editions: sections, then per app the scopes added and removed (lists, as ours)."""
    path = f"changes/{old}...{new}/index.html"
    changed = [t for s, t in zip(old_sections, new_sections) if s.body != t.body]
    parts = [f"What changed between version {old} and {new}.", "", "## Policy sections", ""]
    for section in changed:
        parts += [f"### {section.title}", "", section.body.strip(), ""]
    if not changed:
        parts.append("No section changed.")
    parts += ["", "## Apps", ""]
    count = 0
    for slug, app in new_apps.items():
        before = old_apps.get(slug)
        if before is None:
            parts += [f"### {app.name}", "", f"New app: {len(app.permissions)} scopes, {len(app.egress)} destinations outside Atlassian.", ""]
            parts += [f"- Added: `{r.scope}` ({r.access_label}, {r.product})" for r in app.permissions]
            count += 1
            continue
        added = sorted({r.scope for r in app.permissions} - {r.scope for r in before.permissions})
        removed = sorted({r.scope for r in before.permissions} - {r.scope for r in app.permissions})
        if added or removed:
            parts += [f"### {app.name}", ""] + [f"- Added: `{scope}`" for scope in added] + [f"- Removed: `{scope}`" for scope in removed] + [""]
            count += 1
    if not count:
        parts.append("No app changed.")
    return PeerPage(path, f"Changes from {old} to {new}", "\n".join(parts), 0)


def marketplace_page(apps: tuple[App, ...]) -> PeerPage:
    """The Marketplace kit: per app the addresses to paste and a badge snippet to copy."""
    path = "marketplace/index.html"
    parts = ["Everything to put into an app's Atlassian Marketplace listing.", "", "## Security policy badge", "", "```html", '<a href="https://techlead.vn/trust/"><img src="https://techlead.vn/trust/badges/policy.svg" alt="Security policy"></a>', "```", ""]
    for app in apps:
        base = f"https://techlead.vn/trust/apps/{app.slug}/"
        parts += [
            f"## {app.name} {{#app-{app.slug}}}",
            "",
            f"- Privacy policy: <{base}#storage>",
            f"- Security and data: <{base}>",
            f"- Data residency: <{base}#data-residency>",
            f"- Privacy & Security answers: <{base}privacy-and-security.json>",
            "",
            "```markdown",
            f"[![{app.name}: security]({base}badge.svg)]({base})",
            "```",
            "",
        ]
    return PeerPage(path, "Marketplace kit", "\n".join(parts), 0)


def peer_pages(corpus: CorpusSpec, loaded: dict[AppSpec, App]) -> list[PeerPage]:
    """Every page of the site as site-builder draws it in a --draft build; the order does not matter."""
    title = "Security Policy for TechLead Atlassian Forge Cloud Apps"
    working_apps = tuple(loaded[a] for a in corpus.working.apps)
    pages = [policy_page("index.html", title, corpus.working.sections, working_apps, "**Draft** · not yet in effect")]
    if working_apps:
        pages.append(apps_overview(working_apps))
        pages.extend(app_page(app) for app in working_apps)
        pages.append(marketplace_page(working_apps))
    if corpus.releases:
        versions = [r.version for r in corpus.releases]
        listing = table(("Version", "Effective", "Summary", "Changes"), [[f"[{r.version}]({relative_url('versions/index.html', f'versions/{r.version}/')})", r.date.isoformat(), r.summary, "—" if i == 0 else f"[{versions[i - 1]} → {r.version}]({relative_url('versions/index.html', f'changes/{versions[i - 1]}...{r.version}/')})"] for i, r in enumerate(corpus.releases)])
        pages.append(PeerPage("versions/index.html", "Versions", "Every published version of the policy, newest last.\n\n" + listing, len(corpus.releases)))
        by_release = []
        for release in corpus.releases:
            prefix = f"versions/{release.version}/"
            apps = tuple(loaded[a] for a in release.edition.apps)
            by_release.append({a.slug: a for a in apps})
            pages.append(policy_page(f"{prefix}index.html", title, release.edition.sections, apps, f"Version {release.version} · effective {release.date.isoformat()}", prefix))
            if apps:
                pages.append(apps_overview(apps, prefix))
                pages.extend(app_page(app, prefix) for app in apps)
        for i in range(1, len(corpus.releases)):
            old, new = corpus.releases[i - 1], corpus.releases[i]
            pages.append(changes_page(old.version, new.version, old.edition.sections, new.edition.sections, by_release[i - 1], by_release[i]))
        latest = corpus.releases[-1]
        pages.append(changes_page(latest.version, "draft", latest.edition.sections, corpus.working.sections, by_release[-1], {a.slug: a for a in working_apps}))
    pages.append(PeerPage("404.html", "Page not found", "The page you asked for is not here. Start from the [security policy](/).", 0))
    return pages


def load_facts(root: Path, corpus: CorpusSpec) -> dict[AppSpec, App]:
    """Each distinct app, loaded once with site-builder's own loader from the project just written."""
    problems = Problems()
    loaded: dict[AppSpec, App] = {}
    places = [(root / "content", corpus.working)] + [(root / "content" / "releases" / r.version, r.edition) for r in corpus.releases]
    for folder, edition in places:
        for spec in edition.apps:
            if spec not in loaded:
                app = load_app(folder / "apps" / spec.slug, f"apps/{spec.slug}", problems)
                if app is None:
                    raise SystemExit("\n".join(str(p) for p in problems.sorted()))
                loaded[spec] = app
    if problems.errors:
        raise SystemExit("\n".join(str(p) for p in problems.errors))
    return loaded


# ------------------------------------------------------------------------------------------ peers

NAV = (("Security policy", ""), ("Apps", "apps/"), ("Versions", "versions/"))
FOOTER = "TechLead · Floor 4 - No. 11 Nguyen Xien, Thanh Xuan - 10000 Hanoi, Vietnam · atlassian@techlead.vn"
CSS = "body{font:16px/1.5 system-ui,sans-serif;margin:0}main,header,footer{max-width:60rem;margin:auto;padding:1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem}\n"


def source_name(path: str) -> str:
    """Where a page's Markdown goes: ``X/index.html`` -> ``X.md`` (every peer turns it back into ``X/index.html``)."""
    if path == "index.html":
        return "index.md"
    return path.removesuffix("/index.html").removesuffix(".html") + ".md"


def yaml_front(**items: str) -> str:
    return "---\n" + "".join(f"{k}: {q(v)}\n" for k, v in items.items()) + "---\n\n"


def write_hugo(root: Path, pages: list[PeerPage]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hugo.yaml").write_text(
        "baseURL: https://techlead.vn/\ntitle: TechLead trust center\nrelativeURLs: true\nuglyURLs: false\n"
        "disableKinds: [taxonomy, term, RSS, sitemap, robotsTXT]\n"
        "markup:\n  goldmark:\n    parser:\n      attribute:\n        title: true\n    renderer:\n      unsafe: false\n",
        encoding="utf-8",
    )
    layouts = root / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    nav = "".join(f'<li><a href="{{{{ "{target}" | relURL }}}}">{label}</a></li>' for label, target in NAV)
    (layouts / "baseof.html").write_text(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{{ .Title }} · TechLead trust center</title>\n"
        '<link rel="stylesheet" href="{{ "css/site.css" | relURL }}">\n</head>\n<body>\n'
        f'<header><nav aria-label="Site"><ul>{nav}</ul></nav></header>\n'
        "<main>\n<h1>{{ .Title }}</h1>\n{{ block \"main\" . }}{{ end }}\n</main>\n"
        f"<footer><p>{FOOTER}</p></footer>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    for name in ("single.html", "list.html"):
        (layouts / name).write_text('{{ define "main" }}{{ .Content }}{{ end }}\n', encoding="utf-8")
    (root / "layouts" / "404.html").write_text('{{ define "main" }}<p>The page you asked for is not here.</p>{{ end }}\n', encoding="utf-8")
    (root / "static" / "css").mkdir(parents=True, exist_ok=True)
    (root / "static" / "css" / "site.css").write_text(CSS, encoding="utf-8")
    content = root / "content"
    flat = content / "p"
    flat.mkdir(parents=True, exist_ok=True)
    # a folder of pages is a Hugo section, which would get a list page of its own: not rendered
    (flat / "_index.md").write_text("---\nbuild:\n  render: never\n  list: always\n---\n", encoding="utf-8")
    for page in pages:
        if page.path == "404.html":
            continue  # Hugo draws its 404 page from layouts/404.html
        if page.path == "index.html":
            (content / "_index.md").write_text(yaml_front(title=page.title) + page.body, encoding="utf-8")
            continue
        # the url ends in index.html: "changes/1.0...1.1/" would be read as a file name
        (flat / hugo_name(page.path)).write_text(yaml_front(title=page.title, url="/" + page.path) + page.body, encoding="utf-8")


def hugo_name(path: str) -> str:
    return source_name(path).replace("/", "__")


MKDOCS_EXTENSIONS = ["tables", "toc", "attr_list", "def_list", "footnotes", "fenced_code"]


def write_mkdocs(root: Path, pages: list[PeerPage]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    nav = "\n".join(f"  - {q(label)}: {source_name(target + 'index.html')}" for label, target in NAV)
    (root / "mkdocs.yml").write_text(
        "site_name: TechLead trust center\nsite_url: https://techlead.vn/trust/\nuse_directory_urls: true\n"
        "theme:\n  name: null\n  custom_dir: theme\n  static_templates: [404.html]\nplugins: []\n"
        f"markdown_extensions: [{', '.join(MKDOCS_EXTENSIONS)}]\n"
        f"nav:\n{nav}\n"
        "not_in_nav: |\n  /apps/*\n  /versions/*\n  /changes/*\n  /marketplace.md\n"
        "validation:\n  nav:\n    omitted_files: ignore\n  links:\n    not_found: ignore\n    absolute_links: ignore\n    unrecognized_links: ignore\n    anchors: ignore\n",
        encoding="utf-8",
    )
    theme = root / "theme"
    (theme / "css").mkdir(parents=True, exist_ok=True)
    (theme / "css" / "site.css").write_text(CSS, encoding="utf-8")
    nav_html = "{% for item in nav %}<li><a href=\"{{ item.url|url }}\">{{ item.title }}</a></li>{% endfor %}"
    (theme / "main.html").write_text(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{{ page.title if page else 'Page not found' }} · TechLead trust center</title>\n"
        '<link rel="stylesheet" href="{{ \'css/site.css\'|url }}">\n</head>\n<body>\n'
        f'<header><nav aria-label="Site"><ul>{nav_html}</ul></nav></header>\n'
        "<main>\n<h1>{{ page.title if page else 'Page not found' }}</h1>\n{% block content %}{{ page.content if page else '' }}{% endblock %}\n</main>\n"
        f"<footer><p>{FOOTER}</p></footer>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    (theme / "404.html").write_text('{% extends "main.html" %}\n{% block content %}<p>The page you asked for is not here.</p>{% endblock %}\n', encoding="utf-8")
    docs = root / "docs"
    for page in pages:
        if page.path == "404.html":
            continue  # MkDocs draws 404.html from the theme
        target = docs / source_name(page.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml_front(title=page.title) + page.body, encoding="utf-8")


def write_pelican(root: Path, pages: list[PeerPage]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pelicanconf.py").write_text(
        "AUTHOR = 'TechLead'\nSITENAME = 'TechLead trust center'\nSITEURL = ''\nRELATIVE_URLS = True\nTIMEZONE = 'UTC'\nDEFAULT_LANG = 'en'\n"
        "PATH = 'content'\nPAGE_PATHS = ['pages']\nARTICLE_PATHS = []\nSTATIC_PATHS = []\nTHEME = 'theme'\nTHEME_STATIC_DIR = 'static'\n"
        "DIRECT_TEMPLATES = []\nFEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\nAUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\n"
        "AUTHOR_SAVE_AS = ''\nCATEGORY_SAVE_AS = ''\nTAG_SAVE_AS = ''\nAUTHORS_SAVE_AS = ''\nCATEGORIES_SAVE_AS = ''\nTAGS_SAVE_AS = ''\nARCHIVES_SAVE_AS = ''\nINDEX_SAVE_AS = ''\n"
        "DELETE_OUTPUT_DIRECTORY = False\nCACHE_CONTENT = True\nLOAD_CONTENT_CACHE = True\nCACHE_PATH = 'cache'\n"
        "MARKDOWN = {'extension_configs': {'markdown.extensions.tables': {}, 'markdown.extensions.toc': {}, 'markdown.extensions.attr_list': {}, 'markdown.extensions.def_list': {}, 'markdown.extensions.footnotes': {}, 'markdown.extensions.fenced_code': {}, 'markdown.extensions.meta': {}}, 'output_format': 'html5'}\n"
        f"NAV = {list(NAV)!r}\n",
        encoding="utf-8",
    )
    templates = root / "theme" / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (root / "theme" / "static" / "css").mkdir(parents=True, exist_ok=True)
    (root / "theme" / "static" / "css" / "site.css").write_text(CSS, encoding="utf-8")
    nav_html = "{% for label, target in NAV %}<li><a href=\"{{ SITEURL }}/{{ target }}\">{{ label }}</a></li>{% endfor %}"
    (templates / "base.html").write_text(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{% block title %}{% endblock %} · TechLead trust center</title>\n"
        '<link rel="stylesheet" href="{{ SITEURL }}/static/css/site.css">\n</head>\n<body>\n'
        f'<header><nav aria-label="Site"><ul>{nav_html}</ul></nav></header>\n'
        "<main>\n{% block content %}{% endblock %}\n</main>\n"
        f"<footer><p>{FOOTER}</p></footer>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    (templates / "page.html").write_text('{% extends "base.html" %}\n{% block title %}{{ page.title }}{% endblock %}\n{% block content %}<h1>{{ page.title }}</h1>\n{{ page.content }}{% endblock %}\n', encoding="utf-8")
    folder = root / "content" / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for page in pages:
        name = source_name(page.path).replace("/", "__")  # flat folder; the page says where it goes
        meta = f"Title: {page.title}\nSlug: {name.removesuffix('.md').replace('.', '-')}\nSave_as: {page.path}\nURL: {page.path.removesuffix('index.html')}\n\n"
        (folder / name).write_text(meta + page.body, encoding="utf-8")


# ---------------------------------------------------------------------------------------- driver


def generate(apps: int, releases: int, out: Path, *, seed: int = 8) -> dict:
    """Write the project and the three peer sites under ``out``; return (and write) the expectations."""
    if out.exists():
        shutil.rmtree(out)
    corpus = make_corpus(apps, releases, seed)
    write_project(out / "site-builder", corpus)
    loaded = load_facts(out / "site-builder", corpus)
    pages = peer_pages(corpus, loaded)
    write_hugo(out / "hugo", pages)
    write_mkdocs(out / "mkdocs", pages)
    write_pelican(out / "pelican", pages)
    expected = {
        "apps": apps,
        "releases": releases,
        "seed": seed,
        "pages": {page.path: page.rows for page in sorted(pages, key=lambda p: p.path)},
        # what the timed edits touch, per tool (source file relative to its root)
        "edit_policy": {"site-builder": "content/policy/" + corpus.working.sections[-1].file, "hugo": "content/_index.md", "mkdocs": "docs/index.md", "pelican": "content/pages/index.md"},  # noqa: E501
        "edit_app": _app_edit_paths(corpus.working.apps[len(corpus.working.apps) // 2]) if corpus.working.apps else {},
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return expected


def _app_edit_paths(app: AppSpec) -> dict[str, str]:
    page = f"apps/{app.slug}/index.html"
    return {
        "site-builder": f"content/apps/{app.slug}/app.yaml",
        "hugo": f"content/p/{hugo_name(page)}",
        "mkdocs": f"docs/{source_name(page)}",
        "pelican": f"content/pages/{source_name(page).replace('/', '__')}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=100, help="number of apps (default 100)")
    parser.add_argument("--releases", type=int, default=3, help="number of releases (default 3)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    args = parser.parse_args(argv)
    expected = generate(args.apps, args.releases, args.out, seed=args.seed)
    print(f"{args.out}: {len(expected['pages'])} pages, {sum(expected['pages'].values())} table rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
