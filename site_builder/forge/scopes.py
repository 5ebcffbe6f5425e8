"""The catalogue of Forge scopes, described in plain language for a customer's security reviewer.

Scope *names* are facts: the shipped ``data/forge-scope-names.txt`` lists every name the Forge
CLI accepts, and nothing outside it is ever in the catalogue. *Descriptions* are ours. The
classic, platform and Connect scopes (names that are not ``verb:resource:product``) are written
by hand in ``data/classic-scopes.yaml``; the several hundred granular names are described by the
rules below, so a new granular scope in the names file is covered without editing anything.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Iterable, Iterator, Literal, Mapping

import yaml

from ..pickling import pickled_by_fields

Access = Literal["delete", "manage", "write", "read", "other"]

ACCESS_VALUES: tuple[str, ...] = ("delete", "manage", "write", "read", "other")

# Most dangerous first, so a table sorted by this puts what a reviewer should look at on top.
RISK_ORDER: dict[str, int] = {"delete": 0, "manage": 1, "write": 2, "read": 3, "other": 4}

NAMES_FILE = "forge-scope-names.txt"
CLASSIC_FILE = "classic-scopes.yaml"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """What one scope lets an app do, in words a non-developer can act on."""

    name: str
    product: str
    product_key: str
    access: str
    description: str
    granular: bool
    legacy_connect: bool


@dataclass(frozen=True)
class _Product:
    key: str
    display: str
    # How the product is named inside a sentence ("Read Jira issues."); empty when the resource
    # phrase already says enough on its own ("Read customer notes.").
    phrase: str


def _product(key: str, display: str, phrase: str | None = None) -> _Product:
    return _Product(key, display, display if phrase is None else phrase)


# Product by the last segment of a scope name. Keys are stable (they may end up in URLs and
# CSS classes); display names are what the reviewer reads.
_PRODUCTS_BY_SUFFIX: Mapping[str, _Product] = MappingProxyType(
    {
        "jira": _product("jira", "Jira"),
        "jira-software": _product("jira-software", "Jira Software"),
        "jira-service-management": _product("jira-service-management", "Jira Service Management"),
        "confluence": _product("confluence", "Confluence"),
        "bitbucket": _product("bitbucket", "Bitbucket"),
        "compass": _product("compass", "Compass"),
        "cmdb": _product("assets", "Assets", ""),
        "realtime": _product("platform", "Forge platform", ""),
        "rovo": _product("rovo", "Rovo"),
        "teams": _product("teams", "Atlassian Teams", "Atlassian"),
        "brie": _product("backup-restore", "Backup and restore", ""),
        "capacity-planning": _product("capacity-planning", "Capacity planning", ""),
        "customer-notes": _product("customer-notes", "Customer notes", ""),
        "artifacts": _product("artifacts", "Artifacts", "Atlassian"),
        "support-api-gateway": _product("support", "Atlassian Support", ""),
        # The two entitlement services are undocumented; both concern licensing.
        "ccg": _product("ccg", "Atlassian commerce (CCG)", ""),
        "fsag": _product("fsag", "Atlassian commerce (FSAG)", ""),
        # Suffixes that only occur on Teamwork Graph scopes (read:graph:<resource>:<suffix>).
        "atlassian": _product("atlassian", "Atlassian platform", "Atlassian"),
        "external": _product("external", "Connected third-party tools", ""),
        "focus": _product("focus", "Atlassian Focus"),
        "loom": _product("loom", "Loom"),
        "opsgenie": _product("opsgenie", "Opsgenie"),
        "talent": _product("talent", "Atlassian Talent"),
    }
)

# Products of hand-written entries that no granular suffix produces.
_OTHER_PRODUCTS: tuple[_Product, ...] = (_product("account", "Atlassian account"),)

PRODUCTS: Mapping[str, str] = MappingProxyType(
    {p.key: p.display for p in (*_PRODUCTS_BY_SUFFIX.values(), *_OTHER_PRODUCTS)}
)
"""Stable product key -> display name, for every product the catalogue can report."""

# Verb -> (access, how the sentence starts, how it ends). Verbs outside read/write/delete/manage are mapped
# by what they can do to customer data:
#   readonly, view, search, validate: look without changing anything -> read
#   send (notifications), import (data into Assets): create data -> write
#   redact: irreversibly removes content from issues -> delete
#   admin: Bitbucket's word for manage -> manage
# An unknown verb is "other" so it sorts last but is never hidden.
_VERBS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "read": ("read", "Read", ""),
        "readonly": ("read", "Read", " without being able to change them"),
        "view": ("read", "View", ""),
        "search": ("read", "Search", ""),
        "validate": ("read", "Validate", ""),
        "write": ("write", "Create and update", ""),
        "send": ("write", "Send", ""),
        "import": ("write", "Import", ""),
        "delete": ("delete", "Delete", ""),
        "redact": ("delete", "Redact", ""),
        "manage": ("manage", "Manage", ""),
        "admin": ("manage", "Administer", ""),
    }
)

# Single words in resource names that read badly as they are.
_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "cmdb": "Assets (CMDB)",
        "jql": "JQL",
        "sla": "SLA",
        "devops": "DevOps",
        "csm": "customer service",
        "meta": "metadata",
        "forge": "Forge",
        "blogpost": "blog post",
        "pullrequest": "pull request",
        "requesttype": "request type",
        "inlinetask": "inline task",
        "servicedesk": "service desk",
        "knowledgebase": "knowledge base article",
        "ops": "operations",
        "org": "organization",
        "changelog": "change history",
        "dev": "development",
        "config": "configuration",
        "airtrack": "Airtrack",
    }
)

# Nouns with no sensible plural in a sentence such as "Read Jira ___."
_UNCOUNTABLE = frozenset(
    {
        "information", "data", "metadata", "content", "configuration", "history", "work",
        "feedback", "tracking", "code", "analytics", "hierarchy", "storage", "administration",
        "details", "values", "columns", "options", "votes", "viewers", "entitlements", "notes",
        "adjustments", "credentials", "expressions", "logs",
    }
)

# Resources whose mechanical wording is unclear to a reviewer. Applied before the rules; a
# ``(product_key, resource)`` key wins over a bare resource key.
_RESOURCE_OVERRIDES: Mapping[str | tuple[str, str], str] = MappingProxyType(
    {
        ("jira", "attachment"): "issue attachments",
        ("jira", "comment"): "issue comments",
        ("jira", "field"): "issue fields",
        ("jira", "priority"): "issue priorities",
        ("jira", "resolution"): "issue resolutions",
        ("jira", "status"): "issue statuses",
        ("jira", "security"): "issue security settings",
        ("jira", "object"): "data objects",
        ("jira", "role"): "roles",
        ("jira-service-management", "request"): "customer requests",
        ("jira-service-management", "task"): "tasks",
        ("jira-service-management", "product"): "customer service products",
        ("bitbucket", "runner"): "pipeline runners",
        ("bitbucket", "permission"): "repository and workspace permissions",
        ("teams", "membership"): "team memberships",
        ("teams", "membership-temp"): "team memberships (temporary variant of this scope)",
        ("teams", "team"): "teams",
        ("teams", "team-temp"): "teams (temporary variant of this scope)",
        ("capacity-planning", "contribution"): "capacity planning contributions",
        ("capacity-planning", "non-project-work"): "capacity planning non-project work",
        ("capacity-planning", "contributor-work-association"):
            "capacity planning links between people and the work they contribute to",
        ("customer-notes", "notes"): "customer notes",
        ("atlassian", "project"): "projects (Atlassian Home)",
        ("atlassian", "project-update"): "project updates (Atlassian Home)",
        ("atlassian", "goal"): "goals",
        ("atlassian", "goal-update"): "goal updates",
        ("atlassian", "assets-object"): "Assets objects",
        ("external", "organisation"): "organizations",
        ("external", "design"): "designs",
        ("external", "remote-link"): "remote links",
        ("jira", "issue-remote-link"): "issue links to external resources",
        ("jira", "cmdb-attribute"): "Assets (CMDB) object attributes",
        ("jira", "cmdb-schema"): "Assets (CMDB) object schemas",
        ("jira", "cmdb-type"): "Assets (CMDB) object types",
        ("jira-service-management", "organization.user"): "organization members",
        ("jira-service-management", "request.sla"): "request SLA information",
        "analytics.content": "content analytics",
        "board-scope": "boards and their contents",
        "board-scope.admin": "board scope administration",
        "content.attachment": "attachments",
        "content-details": "content details",
        "hierarchical-content": "content hierarchy",
        "custom-field-contextual-configuration": "custom field context settings",
        "filter.default-share-scope": "default filter sharing settings",
        "group": "user groups",
        "email-address": "user email addresses",
        "embed": "embedded content",
        "design": "designs linked to issues",
        "forge-app": "Forge app details",
        "instance-configuration": "site configuration",
        "issue-meta": "issue create and edit metadata",
        "issue.remote-link": "issue links to external resources",
        "issue.votes": "issue votes",
        "field.options": "field options",
        "license": "license information",
        "mail-logs.connectivity": "email channel connection logs",
        "mail-logs.processing": "email channel processing logs",
        "media-credentials": "media service credentials (for attachment uploads and downloads)",
        "project.email": "project sender email addresses",
        "relation": "content relations",
        "remote-link": "links to external resources",
        "request.notification": "request notification subscriptions",
        "screenable-field": "fields that can be placed on screens",
        "source-code": "source code information (repositories, branches and commits)",
        "user.columns": "users' issue navigator column settings",
        "field-configuration": "field configurations",
        "issue.time-tracking": "issue time-tracking data",
        "user-configuration": "user configuration",
        "app-data": "app data",
        "chat": "chat conversations",
        "entitlements": "license entitlements",
    }
)

# Whole descriptions for names where no resource phrase makes a good sentence.
_DESCRIPTION_OVERRIDES: Mapping[str, str] = MappingProxyType(
    {
        "read:graph:jira": "Read Jira data through the Atlassian Teamwork Graph.",
        "read:graph:confluence": "Read Confluence data through the Atlassian Teamwork Graph.",
        "read:jql:jira": "Read JQL reference data and autocomplete suggestions in Jira.",
        "validate:jql:jira": "Check whether Jira JQL queries are valid.",
        "read:jira-expressions:jira": "Evaluate Jira expressions against Jira data.",
        "redact:issue:jira": "Permanently redact sensitive text in Jira issues.",
        "delete:async-task:jira": "Cancel long-running Jira background tasks.",
        "write:issue.vote:jira": "Add and remove votes on Jira issues.",
        "write:issue.watcher:jira": "Add and remove watchers on Jira issues.",
        "write:issue.time-tracking:jira": "Change time-tracking estimates on Jira issues.",
        "read:issue.transition:jira": "Read which workflow transitions are available on Jira issues.",
        "read:issue-type-transition:jira": "Read the workflow transitions available for each Jira issue type.",
        "write:audit-log:confluence": "Add records to the Confluence audit log.",
        "write:audit-log:jira": "Add records to the Jira audit log.",
        "import:cmdb-import-configuration:jira": "Run Assets (CMDB) data imports in Jira using import configurations.",
        "import:import-configuration:cmdb": "Run Assets data imports using import configurations.",
        "read:app-global-channel:realtime": "Receive messages published on the app's Forge Realtime global channels.",
        "read:forge-proxy:support-api-gateway": "Call the Atlassian Support API through the Forge proxy.",
        "read:backup:brie": "Read site backups made with Atlassian's backup and restore service.",
        "write:backup:brie": "Start and update site backups with Atlassian's backup and restore service.",
        "read:restore:brie": "Read site restores made with Atlassian's backup and restore service.",
        "write:restore:brie": "Start and update site restores with Atlassian's backup and restore service.",
        "read:account:brie": "Read account details used by Atlassian's backup and restore service.",
        "write:storage:brie": "Write to the storage that Atlassian's backup and restore service uses for backups.",
        "read:entitlements:ccg": "Read license entitlement records from Atlassian's commerce system (CCG).",
        "read:entitlements:fsag": "Read license entitlement records from Atlassian's commerce system (FSAG).",
        "read:artifact:artifacts": "Read artifacts stored with Atlassian.",
        "read:issue:jira-software": "Read the issues on Jira Software boards, backlogs, epics and sprints.",
        "write:issue:jira-software": "Rank issues and move them between Jira Software boards, backlogs, epics and sprints.",
        "read:board-scope.admin:jira-software": "Read the administration settings of Jira Software boards.",
        "write:board-scope.admin:jira-software": "Change the administration settings of Jira Software boards.",
        "delete:board-scope.admin:jira-software": "Delete Jira Software boards and their administration settings.",
        "write:project.feature:jira": "Turn Jira project features on and off.",
        "write:watcher:confluence": "Add and remove watchers on Confluence content and spaces.",
        "write:request.status:jira-service-management": "Move Jira Service Management requests to a new status.",
        "write:request.approval:jira-service-management": "Approve or decline approvals on Jira Service Management requests.",
        "read:viewers:support-api-gateway": "Read who can view Atlassian Support requests.",
        "write:viewers:support-api-gateway": "Change who can view Atlassian Support requests.",
        "write:artifact:artifacts": "Create and update artifacts stored with Atlassian.",
    }
)

_AGENT_INTERFACE = "agent-interface"
_GRAPH = "graph"


def _humanise_words(text: str) -> list[str]:
    return " ".join(_WORDS.get(word, word) for word in text.split("-") if word).split()


def _plural(words: list[str]) -> list[str]:
    """Pluralise the last word, unless it names something uncountable."""
    if not words:
        return words
    *head, last = words
    if last in _UNCOUNTABLE or last.endswith(")") or last[:1].isupper():
        return words
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return [*head, last]


def humanise_resource(resource: str, product_key: str = "") -> str:
    """Turn a resource segment ("comment.property", "cmdb-object") into plural plain words.

    Dots mark a part of the thing before the dot ("comment.property" is a property of a comment),
    a trailing ``-info`` marks data that connected tools push into Jira, and a few resources are
    simply looked up in an override table because their own words mean little to a reviewer.
    """
    override = _RESOURCE_OVERRIDES.get((product_key, resource)) or _RESOURCE_OVERRIDES.get(resource)
    if override:
        return override
    base, _, part = resource.partition(".")
    from_tools = base.endswith("-info")
    if from_tools:
        base = base.removesuffix("-info")
    words = _humanise_words(base)
    if part == "admin":
        words = [*words, "administration"]
    elif part:
        words = [*words, *_plural(_humanise_words(part))]
    elif from_tools:
        words = [*words, "information from connected tools"]
    else:
        words = _plural(words)
    return " ".join(words)


def _fallback_product(suffix: str) -> _Product:
    """A product for a suffix Forge added after this table was written: named, never dropped."""
    display = suffix.replace("-", " ").capitalize()
    return _product(suffix, display)


def _from_rule(name: str) -> ScopeInfo | None:
    """Describe a granular name mechanically, or return None if it is not granular-shaped.

    Shapes: ``verb:resource:product``, ``read:graph:resource:product`` (Teamwork Graph) and the
    Rovo agent interface ``verb:product:agent-interface``.
    """
    parts = name.split(":")
    if len(parts) == 4 and parts[1] == _GRAPH:
        verb, _, resource, suffix = parts
    elif len(parts) == 3:
        verb, resource, suffix = parts
    else:
        return None
    if not all(parts):
        return None

    if suffix == _AGENT_INTERFACE:
        # The product is the middle segment: read:jira:agent-interface is about Jira.
        product = _PRODUCTS_BY_SUFFIX.get(resource) or _fallback_product(resource)
        subject = f"{product.phrase} content through Atlassian's agent interface (the Rovo MCP server)"
    else:
        product = _PRODUCTS_BY_SUFFIX.get(suffix) or _fallback_product(suffix)
        phrase = humanise_resource(resource, product.key)
        if len(parts) == 4 and product.key == "external":
            subject = f"{phrase} synced from connected third-party tools"
        else:
            subject = f"{product.phrase} {phrase}".strip()
        if len(parts) == 4:
            subject += " through the Atlassian Teamwork Graph"

    access, start, end = _VERBS.get(verb, ("other", f"Perform '{verb}' actions on", ""))
    description = _DESCRIPTION_OVERRIDES.get(name) or f"{start} {subject}{end}."
    return ScopeInfo(
        name=name,
        product=product.display,
        product_key=product.key,
        access=access,
        description=description,
        granular=True,
        legacy_connect=False,
    )


def _hand_entry(name: str, raw: object) -> ScopeInfo:
    """Validate one YAML entry; a bad entry is a packaging bug, so it raises."""
    if not isinstance(raw, dict):
        raise ValueError(f"{CLASSIC_FILE}: {name}: expected a mapping")
    unknown = set(raw) - {"product", "product_key", "access", "description", "legacy_connect", "granular"}
    if unknown:
        raise ValueError(f"{CLASSIC_FILE}: {name}: unknown fields {sorted(unknown)}")
    product_key = raw.get("product_key")
    product = raw.get("product")
    if PRODUCTS.get(product_key) != product:
        raise ValueError(f"{CLASSIC_FILE}: {name}: product {product!r} does not match key {product_key!r}")
    access = raw.get("access")
    if access not in RISK_ORDER:
        raise ValueError(f"{CLASSIC_FILE}: {name}: access must be one of {', '.join(ACCESS_VALUES)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip().endswith("."):
        raise ValueError(f"{CLASSIC_FILE}: {name}: description must be one sentence ending in a period")
    return ScopeInfo(
        name=name,
        product=product,
        product_key=product_key,
        access=access,
        description=description.strip(),
        granular=bool(raw.get("granular", False)),
        legacy_connect=bool(raw.get("legacy_connect", False)),
    )


class ScopeCatalogue:
    """Every valid Forge scope with its description; read-only once built."""

    def __init__(self, entries: Iterable[ScopeInfo]):
        self._by_name: Mapping[str, ScopeInfo] = MappingProxyType({e.name: e for e in entries})
        self._names: tuple[str, ...] = tuple(self._by_name)

    def lookup(self, name: str) -> ScopeInfo | None:
        """The entry for an exact scope name, or None if Forge does not accept that name."""
        return self._by_name.get(name)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest valid names, best first, for a "did you mean" hint on a typo."""
        return difflib.get_close_matches(name, self._names, n=limit, cutoff=0.6)

    def __iter__(self) -> Iterator[ScopeInfo]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def _read_data(filename: str) -> str:
    return (resources.files("site_builder") / "data" / filename).read_text(encoding="utf-8")


def parse_names(text: str) -> list[str]:
    """Scope names from the names file: one per line, blank lines ignored, order kept."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def build_catalogue(names: list[str], classic: Mapping[str, object]) -> ScopeCatalogue:
    """Combine the names with hand entries and rules; raise if any name is left undescribed.

    Failing loudly here means an unexpected new name shape, or a typo in the YAML, is caught by
    the test suite instead of shipping a page with a blank row.
    """
    known = set(names)
    stray = sorted(set(classic) - known)
    if stray:
        raise ValueError(f"{CLASSIC_FILE}: not Forge scope names: {', '.join(stray)}")
    entries: list[ScopeInfo] = []
    for name in names:
        if name in classic:
            entries.append(_hand_entry(name, classic[name]))
            continue
        info = _from_rule(name)
        if info is None:
            raise ValueError(f"{name}: not a granular name; add a hand entry to {CLASSIC_FILE}")
        entries.append(info)
    return ScopeCatalogue(entries)


@cache
def load_catalogue() -> ScopeCatalogue:
    """The shipped catalogue, read from the package data once per process."""
    names = parse_names(_read_data(NAMES_FILE))
    classic = yaml.load(_read_data(CLASSIC_FILE), Loader=_Loader) or {}
    if not isinstance(classic, dict):
        raise ValueError(f"{CLASSIC_FILE}: expected a mapping of scope name to entry")
    return build_catalogue(names, classic)
