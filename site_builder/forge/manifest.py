"""Reading an app's own Forge ``manifest.yml`` into what a customer's security reviewer needs.

The manifest is the developer's file, copied in unmodified, so the parser accepts every form Forge
accepts (scopes as a list or a map, egress as strings or objects or remote references, base URLs
per region) and is strict about types: a wrong type is an error at its line, because guessing
could understate what the app may do.  Pure: a ``Document`` in, a frozen ``Manifest`` plus
problems out; nothing here reads a file or reaches the network.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..errors import Position, Problems
from ..pickling import pickled_by_fields
from .scopes import PRODUCTS, ScopeCatalogue, ScopeInfo, load_catalogue
from ..content.source import Document, KeyPath, dotted

# Every kind of outbound connection a manifest can allow, in the order the page lists them.
EGRESS_KINDS: tuple[str, ...] = ("fetch.backend", "fetch.client", "fonts", "frames", "images", "media", "navigation", "scripts", "styles")
EGRESS_KIND_LABELS: dict[str, str] = {
    "fetch.backend": "backend",
    "fetch.client": "client",
    "fonts": "fonts",
    "frames": "frames",
    "images": "images",
    "media": "media",
    "navigation": "navigation",
    "scripts": "scripts",
    "styles": "styles",
}
EGRESS_KIND_HELP: dict[str, str] = {
    "fetch.backend": "the app's server-side functions call this address",
    "fetch.client": "the app's pages in the user's browser call this address",
    "fonts": "the browser loads fonts from here",
    "frames": "the app embeds pages from here",
    "images": "the browser loads images from here",
    "media": "the browser loads audio or video from here",
    "navigation": "the app may send the user to this address",
    "scripts": "the browser loads and runs scripts from here",
    "styles": "the browser loads style sheets from here",
}
CONTENT_DIRECTIVES: tuple[str, ...] = ("scripts", "styles")
REMOTE_OPERATIONS: tuple[str, ...] = ("storage", "compute", "fetch", "other")
ANALYTICS = "analytics"
LEGACY_RUNTIMES = frozenset({"sandbox"})

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_REMOTE_KEY = re.compile(r"^[a-zA-Z0-9_-]{1,23}$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

# Module types that run code or wire things together but do not extend an Atlassian product.
CORE_MODULES = frozenset(
    {"function", "trigger", "scheduledTrigger", "webtrigger", "consumer", "endpoint", "event", "apiRoute", "objectStore", "sql", "service", "services"}
)
CORE_PREFIXES = frozenset({"core", "migration", "forge"})
# Module prefixes whose product is not simply the prefix split into words.
_PREFIX_PRODUCTS: dict[str, tuple[str, str]] = {
    "jira": ("jira", "Jira"),
    "jiraServiceManagement": ("jira-service-management", "Jira Service Management"),
    "jiraSoftware": ("jira-software", "Jira Software"),
    "devops": ("jira", "Jira"),  # deployment, build and other DevOps providers feed Jira
    "confluence": ("confluence", "Confluence"),
    "compass": ("compass", "Compass"),
    "bitbucket": ("bitbucket", "Bitbucket"),
    "rovo": ("rovo", "Rovo"),
    "graph": ("teamwork-graph", "Teamwork Graph"),
    "teamworkGraph": ("teamwork-graph", "Teamwork Graph"),
    "automation": ("automation", "Automation"),
    "dashboards": ("dashboards", "Dashboards"),
    "csm": ("customer-service-management", "Customer Service Management"),
    "customerServiceManagement": ("customer-service-management", "Customer Service Management"),
}
# Unprefixed module types that belong to one product.
_UNPREFIXED_PRODUCTS: dict[str, tuple[str, str]] = {
    "macro": ("confluence", "Confluence"),
    "action": ("rovo", "Rovo"),
}

_PERMISSIONS_KEYS = ("scopes", "external", "content")
_EXTERNAL_KEYS = ("fetch", "fonts", "frames", "images", "media", "navigation", "scripts", "styles", "configurable")
_FETCH_KEYS = ("backend", "client")
_EGRESS_OBJECT_KEYS = ("address", "category", "inScopeEUD")
_REMOTE_KEYS = ("key", "baseUrl", "operations", "auth", "storage", "configurable", "configured")
_SCOPE_OPTION_KEYS = ("allowImpersonation",)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Scope:
    """One declared scope; ``info`` is None when the name is not one Forge accepts."""

    name: str
    allow_impersonation: bool
    info: ScopeInfo | None
    position: Position


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Egress:
    """One place the app may connect to, as declared under ``permissions.external``."""

    kind: str  # one of EGRESS_KINDS
    address: str  # verbatim; for a remote reference, the remote's default base URL
    category: str  # "" when none is declared
    in_scope_eud: bool  # may carry in-scope End-User Data (Forge's default: true)
    position: Position
    remote: str = ""  # the remote's key when declared as {remote: key}
    placeholders: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The host part of the address: ``https://a.b/c`` and ``a.b`` both give ``a.b``."""
        rest = _SCHEME.sub("", self.address)
        return re.split(r"[/:?#]", rest, maxsplit=1)[0] or rest

    @property
    def any_domain(self) -> bool:
        return self.host == "*"

    @property
    def wildcard(self) -> bool:
        """True for ``*.example.com``: every subdomain, however deep (not the parent itself)."""
        return self.host.startswith("*.")

    @property
    def analytics_without_eud(self) -> bool:
        """The one kind of egress Runs on Atlassian allows."""
        return self.category.lower() == ANALYTICS and not self.in_scope_eud

    @property
    def kind_label(self) -> str:
        return EGRESS_KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Remote:
    """A remote back end: an off-Atlassian service the app sends data to."""

    key: str
    base_urls: tuple[tuple[str, str], ...]  # (region, url); region "" for a single URL, "default" first otherwise
    operations: tuple[str, ...]
    operations_declared: bool
    stores_eud: bool | None  # storage.inScopeEUD; None when not declared
    position: Position
    customer_configured: bool = False
    placeholders: tuple[str, ...] = ()

    @property
    def default_url(self) -> str:
        return self.base_urls[0][1] if self.base_urls else ""

    @property
    def regional(self) -> bool:
        return any(region not in ("", "default") for region, _ in self.base_urls)

    @property
    def may_store_eud(self) -> bool:
        """Forge assumes a remote stores end-user data unless the manifest says otherwise."""
        if not self.operations_declared:
            return True
        return "storage" in self.operations and self.stores_eud is not False


@dataclass(frozen=True)
class ContentRelaxation:
    """A loosening of the Content Security Policy around the app's pages, e.g. 'unsafe-inline' styles."""

    directive: str  # "scripts" or "styles"
    value: str
    position: Position

    @property
    def risky(self) -> bool:
        return self.value.strip("'") in ("unsafe-inline", "unsafe-eval", "unsafe-hashes")


@dataclass(frozen=True)
class Product:
    """An Atlassian product the app extends, from its module types."""

    key: str
    name: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class WebTrigger:
    key: str
    static: bool  # only static web triggers cannot send data out
    position: Position


@dataclass(frozen=True)
class Manifest:
    """What a Forge manifest declares, in the terms the trust pages use."""

    path: str
    app_id: str
    runtime: str  # app.runtime.name; "" when missing (the retired legacy runtime)
    licensing: bool | None  # app.licensing.enabled; None when not declared
    storage_classifications: tuple[str, ...]
    storage_entities: tuple[str, ...]  # custom entity names under app.storage.entities
    scopes: tuple[Scope, ...]
    egress: tuple[Egress, ...]
    content: tuple[ContentRelaxation, ...]
    remotes: tuple[Remote, ...]
    products: tuple[Product, ...]
    module_types: tuple[str, ...]
    webtriggers: tuple[WebTrigger, ...]
    connect_modules: tuple[str, ...]
    customer_managed_egress: bool
    placeholders: tuple[str, ...]

    @property
    def legacy_runtime(self) -> bool:
        return not self.runtime or self.runtime in LEGACY_RUNTIMES

    def scope(self, name: str) -> Scope | None:
        return next((s for s in self.scopes if s.name == name), None)

    def remote(self, key: str) -> Remote | None:
        return next((r for r in self.remotes if r.key == key), None)


def placeholders_in(text: str) -> tuple[str, ...]:
    """Names of the ``${VAR}`` placeholders in a value, which Forge fills in only at deploy time."""
    return tuple(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(text)))


def product_of_module(module_type: str) -> tuple[str, str] | None:
    """``jira:issuePanel`` -> ("jira", "Jira"); ``function`` -> None (a core module, not a product)."""
    prefix, sep, _ = module_type.partition(":")
    if not sep:
        return _UNPREFIXED_PRODUCTS.get(module_type)
    if prefix in CORE_PREFIXES or not prefix:
        return None
    if prefix in _PREFIX_PRODUCTS:
        return _PREFIX_PRODUCTS[prefix]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", prefix).split()
    key = "-".join(w.lower() for w in words)
    return key, PRODUCTS.get(key) or " ".join(w[:1].upper() + w[1:] for w in words)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


@dataclass
class _Reader:
    """Type checks with positions; every method reports and returns a safe empty value on error."""

    document: Document
    problems: Problems

    def pos(self, path: KeyPath, *, of_key: bool = False) -> Position:
        return self.document.position(path, of_key=of_key)

    def error(self, path: KeyPath, message: str, hint: str = "", *, of_key: bool = False) -> None:
        self.problems.error(self.pos(path, of_key=of_key), message, key=dotted(path), hint=hint)

    def warning(self, path: KeyPath, message: str, hint: str = "", *, of_key: bool = False) -> None:
        self.problems.warning(self.pos(path, of_key=of_key), message, key=dotted(path), hint=hint)

    def mapping(self, value: Any, path: KeyPath, what: str, *, allow_none: bool = True) -> dict:
        if value is None and allow_none:
            return {}
        if isinstance(value, dict):
            return value
        self.error(path, f"expected {what} (a mapping of keys to values), found {_kind(value)}")
        return {}

    def sequence(self, value: Any, path: KeyPath, what: str) -> list:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.error(path, f"expected {what} (a list), found {_kind(value)}", hint="write one '- item' per line")
        return []

    def text(self, value: Any, path: KeyPath, what: str) -> str | None:
        if isinstance(value, str):
            return value
        raw = self.document.raw_scalars.get(path)
        if raw is not None:
            self.error(path, f"{raw} is read as {_kind(value)}, not text", hint=f"put it in quotes: '{raw}'")
        else:
            self.error(path, f"expected {what} as text, found {_kind(value)}", hint="write it as one plain value, as in the Forge manifest reference")
        return None

    def boolean(self, value: Any, path: KeyPath, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.error(path, f"expected true or false, found {_kind(value)}", hint="write true or false without quotes")
        return default

    def known_keys(self, data: dict, path: KeyPath, allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"{where} takes {', '.join(allowed)}"
                self.error(path + (key,), f"unknown key {key!r} in {where}", hint=hint, of_key=True)


def parse_manifest(document: Document, problems: Problems, catalogue: ScopeCatalogue | None = None) -> Manifest | None:
    """A Forge manifest document to a Manifest; None when the file is not a Forge manifest at all."""
    data = document.data
    if not isinstance(data, dict) or not ({"app", "modules", "connectModules"} & set(data)):
        problems.error(
            document.position(),
            "is not a Forge manifest: it has no 'app' or 'modules' section",
            hint="copy in the app's own manifest.yml, the file 'forge deploy' reads",
        )
        return None
    reader = _Reader(document, problems)
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if "app" not in data:
        reader.error((), "missing required key 'app'", hint="a Forge manifest starts with 'app:' holding the app's id and runtime")
    if "modules" not in data and "connectModules" not in data:
        reader.error((), "missing required key 'modules'", hint="a Forge manifest lists its modules under 'modules:'")

    app = reader.mapping(data.get("app"), ("app",), "'app'")
    app_id = _app_id(reader, app)
    runtime = _runtime(reader, app)
    licensing = _licensing(reader, app)
    classifications, entities = _storage(reader, app)

    modules = reader.mapping(data.get("modules"), ("modules",), "'modules'")
    connect = reader.mapping(data.get("connectModules"), ("connectModules",), "'connectModules'")
    module_types, products, webtriggers = _modules(reader, modules, connect)

    remotes = _remotes(reader, data.get("remotes"))
    permissions = reader.mapping(data.get("permissions"), ("permissions",), "'permissions'")
    reader.known_keys(permissions, ("permissions",), _PERMISSIONS_KEYS, "permissions")
    scopes = _scopes(reader, permissions.get("scopes"), catalogue)
    external = reader.mapping(permissions.get("external"), ("permissions", "external"), "'permissions.external'")
    egress, configurable = _external(reader, external, remotes)
    content = _content(reader, permissions.get("content"))

    placeholders = _flag_placeholders(reader, data)
    return Manifest(
        path=document.path,
        app_id=app_id,
        runtime=runtime,
        licensing=licensing,
        storage_classifications=classifications,
        storage_entities=entities,
        scopes=scopes,
        egress=egress,
        content=content,
        remotes=remotes,
        products=products,
        module_types=module_types,
        webtriggers=webtriggers,
        connect_modules=tuple(str(k) for k in connect),
        customer_managed_egress=configurable,
        placeholders=placeholders,
    )


def _app_id(reader: _Reader, app: dict) -> str:
    if "id" not in app:
        if app:
            reader.warning(("app",), "app.id is missing", hint="the Forge CLI writes 'id: ari:cloud:ecosystem::app/...' when the app is registered")
        return ""
    value = reader.text(app["id"], ("app", "id"), "the app id")
    return (value or "").strip()


def _runtime(reader: _Reader, app: dict) -> str:
    if "runtime" in app and not isinstance(app["runtime"], (dict, type(None))):
        reader.mapping(app["runtime"], ("app", "runtime"), "'app.runtime'")
        return ""
    runtime = reader.mapping(app.get("runtime"), ("app", "runtime"), "'app.runtime'")
    name = ""
    if "name" in runtime:
        name = reader.text(runtime["name"], ("app", "runtime", "name"), "the runtime name") or ""
    if (not name or name in LEGACY_RUNTIMES) and "app" in reader.document.data:
        reader.warning(
            ("app", "runtime") if "runtime" in app else ("app",),
            "no app.runtime.name: the app targets the legacy Forge runtime, which Atlassian stopped running on 28 February 2025",
            hint="deploy with a current runtime, e.g. 'runtime: {name: nodejs22.x}'",
        )
    return name


def _licensing(reader: _Reader, app: dict) -> bool | None:
    if "licensing" not in app:
        return None
    licensing = reader.mapping(app["licensing"], ("app", "licensing"), "'app.licensing'")
    if "enabled" not in licensing:
        return None
    return reader.boolean(licensing["enabled"], ("app", "licensing", "enabled"), False)


def _storage(reader: _Reader, app: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    storage = reader.mapping(app.get("storage"), ("app", "storage"), "'app.storage'")
    classifications: list[str] = []
    for index, item in enumerate(reader.sequence(storage.get("classifications"), ("app", "storage", "classifications"), "'app.storage.classifications'")):
        value = reader.text(item, ("app", "storage", "classifications", index), "a data classification")
        if value:
            classifications.append(value)
    entities: list[str] = []
    for index, item in enumerate(reader.sequence(storage.get("entities"), ("app", "storage", "entities"), "'app.storage.entities'")):
        path = ("app", "storage", "entities", index)
        entity = reader.mapping(item, path, "a custom entity", allow_none=False)
        if "name" in entity:
            name = reader.text(entity["name"], path + ("name",), "the entity name")
            if name:
                entities.append(name)
    return tuple(classifications), tuple(entities)


def _modules(reader: _Reader, modules: dict, connect: dict) -> tuple[tuple[str, ...], tuple[Product, ...], tuple[WebTrigger, ...]]:
    """Module types, the products they extend (Connect modules included) and the web triggers."""
    by_product: dict[str, tuple[str, list[str]]] = {}
    webtriggers: list[WebTrigger] = []
    for section, group in (("modules", modules), ("connectModules", connect)):
        for module_type, entries in group.items():
            path = (section, module_type)
            items = reader.sequence(entries, path, f"the {module_type} modules")
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    reader.error(path + (index,), f"expected a module (a mapping with a 'key'), found {_kind(item)}")
            product = product_of_module(str(module_type))
            if product is not None:
                key, name = product
                types = by_product.setdefault(key, (name, []))[1]
                if str(module_type) not in types:
                    types.append(str(module_type))
            if section == "modules" and module_type == "webtrigger":
                webtriggers.extend(_webtriggers(reader, items))
    products = tuple(sorted((Product(key, name, tuple(types)) for key, (name, types) in by_product.items()), key=lambda p: (p.name, p.key)))
    return tuple(str(t) for t in modules), products, tuple(webtriggers)


def _webtriggers(reader: _Reader, items: list) -> Iterator[WebTrigger]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        path = ("modules", "webtrigger", index)
        response = reader.mapping(item.get("response"), path + ("response",), "the web trigger response")
        kind = response.get("type", "dynamic")
        if kind not in ("static", "dynamic"):
            reader.error(path + ("response", "type"), f"web trigger response type {kind!r} is not static or dynamic")
        yield WebTrigger(str(item.get("key", f"#{index + 1}")), kind == "static", reader.pos(path))


def _scopes(reader: _Reader, value: Any, catalogue: ScopeCatalogue) -> tuple[Scope, ...]:
    """Scopes as a list of names, or as a map of name to options; each name once."""
    path: KeyPath = ("permissions", "scopes")
    declared: list[tuple[str, bool, KeyPath, bool]] = []  # name, allowImpersonation, path, path is a key
    if value is None:
        pass
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = reader.text(item, path + (index,), "a scope name")
            if name is not None:
                declared.append((name.strip(), False, path + (index,), False))
    elif isinstance(value, dict):
        for name, options in value.items():
            item_path = path + (name,)
            options = reader.mapping(options, item_path, f"the options of scope {name!r}")
            reader.known_keys(options, item_path, _SCOPE_OPTION_KEYS, "a scope's options")
            impersonation = reader.boolean(options.get("allowImpersonation"), item_path + ("allowImpersonation",), False)
            declared.append((str(name).strip(), impersonation, item_path, True))
    else:
        reader.error(path, f"expected a list of scope names (or a map of scope to options), found {_kind(value)}", hint="write one '- read:jira-work' per line")
    scopes: list[Scope] = []
    first: dict[str, KeyPath] = {}
    for name, impersonation, item_path, is_key in declared:
        if name in first:
            line = reader.pos(first[name], of_key=is_key).line
            reader.warning(item_path, f"scope {name!r} is listed twice (first on line {line}); it is shown once", hint="remove the repeated line", of_key=is_key)
            continue
        first[name] = item_path
        info = catalogue.lookup(name)
        if info is None:
            if placeholders_in(name):
                pass  # flagged with every other placeholder; cannot be checked before deploy
            else:
                close = catalogue.suggest(name)
                hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "see the Forge scopes reference for valid names"
                reader.error(item_path, f"unknown scope {name!r}", hint=hint, of_key=is_key)
        scopes.append(Scope(name, impersonation, info, reader.pos(item_path, of_key=is_key)))
    return tuple(scopes)


def _remotes(reader: _Reader, value: Any) -> tuple[Remote, ...]:
    remotes: list[Remote] = []
    seen: set[str] = set()
    for index, item in enumerate(reader.sequence(value, ("remotes",), "'remotes'")):
        path: KeyPath = ("remotes", index)
        data = reader.mapping(item, path, "a remote", allow_none=False)
        if not data:
            continue
        reader.known_keys(data, path, _REMOTE_KEYS, "a remote")
        key = reader.text(data.get("key"), path + ("key",), "the remote key") if "key" in data else None
        if key is None:
            if "key" not in data:
                reader.error(path, "a remote needs a 'key'", hint="add 'key: my-backend' so fetch permissions can refer to it")
            continue
        if not _REMOTE_KEY.match(key):
            reader.error(path + ("key",), f"remote key {key!r} is not valid", hint="1 to 23 letters, digits, '-' or '_'")
        if key in seen:
            reader.error(path + ("key",), f"remote key {key!r} is used twice", hint="each remote needs its own key")
            continue
        seen.add(key)
        configured = "configurable" in data or "configured" in data
        base_urls = _base_urls(reader, data.get("baseUrl"), path + ("baseUrl",), required=not configured)
        operations: list[str] = []
        for op_index, op in enumerate(reader.sequence(data.get("operations"), path + ("operations",), "the remote's operations")):
            op_text = reader.text(op, path + ("operations", op_index), "an operation")
            if op_text is None:
                continue
            if op_text not in REMOTE_OPERATIONS:
                close = difflib.get_close_matches(op_text, REMOTE_OPERATIONS, n=1)
                reader.error(path + ("operations", op_index), f"operation {op_text!r} is not one of {', '.join(REMOTE_OPERATIONS)}", hint=f"did you mean {close[0]!r}?" if close else "")
                continue
            if op_text not in operations:
                operations.append(op_text)
        storage = reader.mapping(data.get("storage"), path + ("storage",), "the remote's storage")
        stores_eud: bool | None = None
        if "inScopeEUD" in storage:
            stores_eud = reader.boolean(storage["inScopeEUD"], path + ("storage", "inScopeEUD"), True)
        if "storage" in operations and stores_eud is None:
            reader.warning(path + ("operations",), f"remote {key!r} stores data but does not say whether it is end-user data", hint="add 'storage: {inScopeEUD: true}' or false; Forge assumes true")
        texts = [url for _, url in base_urls]
        remotes.append(
            Remote(
                key=key,
                base_urls=base_urls,
                operations=tuple(operations),
                operations_declared="operations" in data,
                stores_eud=stores_eud,
                position=reader.pos(path),
                customer_configured=configured,
                placeholders=tuple(dict.fromkeys(p for url in texts for p in placeholders_in(url))),
            )
        )
    return tuple(remotes)


def _base_urls(reader: _Reader, value: Any, path: KeyPath, *, required: bool) -> tuple[tuple[str, str], ...]:
    if value is None:
        if required:
            reader.error(path[:-1], "a remote needs a 'baseUrl'", hint="add 'baseUrl: https://...' or a map of regions with a 'default'")
        return ()
    if isinstance(value, dict):
        urls: list[tuple[str, str]] = []
        for region, url in value.items():
            text = reader.text(url, path + (region,), f"the {region} base URL")
            if text is not None:
                urls.append((str(region), text))
        if "default" not in value:
            reader.error(path, "a region map of base URLs needs a 'default'", hint="add 'default: https://...' used where no region matches")
        urls.sort(key=lambda item: (item[0] != "default", item[0]))
        return tuple(urls)
    text = reader.text(value, path, "the base URL")
    return (("", text),) if text is not None else ()


def _external(reader: _Reader, external: dict, remotes: tuple[Remote, ...]) -> tuple[tuple[Egress, ...], bool]:
    reader.known_keys(external, ("permissions", "external"), _EXTERNAL_KEYS, "permissions.external")
    lists: list[tuple[str, KeyPath, Any]] = []
    fetch = reader.mapping(external.get("fetch"), ("permissions", "external", "fetch"), "'fetch'")
    reader.known_keys(fetch, ("permissions", "external", "fetch"), _FETCH_KEYS, "permissions.external.fetch")
    for sub in _FETCH_KEYS:
        if sub in fetch:
            lists.append((f"fetch.{sub}", ("permissions", "external", "fetch", sub), fetch[sub]))
    for kind in EGRESS_KINDS:
        if not kind.startswith("fetch.") and kind in external:
            lists.append((kind, ("permissions", "external", kind), external[kind]))
    by_remote = {r.key: r for r in remotes}
    egress: list[Egress] = []
    seen: dict[tuple[str, str], KeyPath] = {}
    for kind, path, value in lists:
        for index, item in enumerate(reader.sequence(value, path, f"the {kind} destinations")):
            entry = _egress_entry(reader, kind, path + (index,), item, by_remote)
            if entry is None:
                continue
            identity = (kind, entry.remote or entry.address)
            if identity in seen:
                reader.warning(path + (index,), f"{entry.remote or entry.address!r} is listed twice under {kind} (first on line {reader.pos(seen[identity]).line}); it is shown once", hint="remove the repeated entry")
                continue
            seen[identity] = path + (index,)
            egress.append(entry)
    configurable = False
    if "configurable" in external:
        setting = external["configurable"]
        if isinstance(setting, dict):
            configurable = reader.boolean(setting.get("enabled"), ("permissions", "external", "configurable", "enabled"), False)
        else:
            configurable = reader.boolean(setting, ("permissions", "external", "configurable"), False)
    return tuple(egress), configurable


def _egress_entry(reader: _Reader, kind: str, path: KeyPath, item: Any, remotes: dict[str, Remote]) -> Egress | None:
    if isinstance(item, str):
        return _egress_address(reader, kind, path, path, item, "", True)
    if not isinstance(item, dict):
        reader.error(path, f"expected a domain, an {{address: ...}} object or a {{remote: ...}} reference, found {_kind(item)}")
        return None
    if "remote" in item:
        if not kind.startswith("fetch."):
            reader.error(path, f"a remote reference is only allowed under fetch.backend and fetch.client, not {kind}", hint="list the remote's domain here instead")
            return None
        extra = sorted(set(item) - {"remote"})
        if extra:
            reader.error(path + (extra[0],), f"unknown key {extra[0]!r} beside 'remote'", hint="a remote reference holds only 'remote: KEY'", of_key=True)
        key = reader.text(item["remote"], path + ("remote",), "the remote key")
        if key is None:
            return None
        remote = remotes.get(key)
        if remote is None:
            close = difflib.get_close_matches(key, list(remotes), n=1)
            hint = f"did you mean {close[0]!r}?" if close else ("declare it under 'remotes:'" if not remotes else f"declared remotes: {', '.join(sorted(remotes))}")
            reader.error(path + ("remote",), f"unknown remote {key!r}", hint=hint)
            return None
        # Data sent to a remote is counted as possibly carrying end-user data: the reference has no inScopeEUD.
        return Egress(kind, remote.default_url, "", True, reader.pos(path), remote=key, placeholders=remote.placeholders)
    reader.known_keys(item, path, _EGRESS_OBJECT_KEYS, "an egress entry")
    if "address" not in item:
        reader.error(path, "an egress entry needs an 'address'", hint="add 'address: example.com'")
        return None
    address = reader.text(item["address"], path + ("address",), "the address")
    if address is None:
        return None
    category = ""
    if "category" in item:
        category = reader.text(item["category"], path + ("category",), "the category") or ""
        if category and category.lower() != ANALYTICS:
            reader.warning(path + ("category",), f"category {category!r} is not one Forge knows", hint="the only category is 'analytics'; otherwise leave it out")
    in_scope = reader.boolean(item.get("inScopeEUD"), path + ("inScopeEUD",), True)
    return _egress_address(reader, kind, path, path + ("address",), address, category, in_scope)


def _egress_address(reader: _Reader, kind: str, path: KeyPath, where: KeyPath, address: str, category: str, in_scope: bool) -> Egress | None:
    text = address.strip()
    if not text:
        reader.error(where, "the address is empty", hint="write a domain such as api.example.com, or remove the entry")
        return None
    if any(c.isspace() for c in text):
        reader.error(where, f"address {address!r} contains a space", hint="a domain or URL has no spaces")
        return None
    return Egress(kind, text, category, in_scope, reader.pos(path), placeholders=placeholders_in(text))


def _content(reader: _Reader, value: Any) -> tuple[ContentRelaxation, ...]:
    path: KeyPath = ("permissions", "content")
    content = reader.mapping(value, path, "'permissions.content'")
    reader.known_keys(content, path, CONTENT_DIRECTIVES, "permissions.content")
    relaxations: list[ContentRelaxation] = []
    for directive in CONTENT_DIRECTIVES:
        seen: set[str] = set()
        for index, item in enumerate(reader.sequence(content.get(directive), path + (directive,), f"the {directive} sources")):
            text = reader.text(item, path + (directive, index), "a CSP source")
            if text is None or text in seen:
                continue
            seen.add(text)
            relaxations.append(ContentRelaxation(directive, text, reader.pos(path + (directive, index))))
    return tuple(relaxations)


def _flag_placeholders(reader: _Reader, data: Any) -> tuple[str, ...]:
    """Warn at every ``${VAR}``: the value shown is the placeholder, not what is deployed."""
    names: list[str] = []

    def flag(path: KeyPath, text: str) -> None:
        found = placeholders_in(text)
        if not found:
            return
        names.extend(found)
        shown = ", ".join("${" + name + "}" for name in found)
        reader.warning(path, f"{shown} is an environment variable filled in at deploy time; the site shows it unresolved", hint="the real value depends on the environment the app is deployed to")

    def visit(value: Any, path: KeyPath) -> None:
        # every key and text in document order; "${" is tested first since few texts hold one
        if isinstance(value, str):
            if "${" in value:
                flag(path, value)
        elif isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str) and "${" in key and _PLACEHOLDER.search(key):
                    flag(path + (key,), key)
                if isinstance(child, str):
                    if "${" in child:
                        flag(path + (key,), child)
                elif isinstance(child, (dict, list)):
                    visit(child, path + (key,))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                visit(child, path + (index,))

    visit(data, ())
    return tuple(dict.fromkeys(names))
