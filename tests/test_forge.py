"""The Forge manifest parser reads every real manifest and every documented form, and says where a broken one breaks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from site_builder.errors import Problems
from site_builder.forge.manifest import EGRESS_KINDS, Manifest, parse_manifest, placeholders_in, product_of_module
from site_builder.content.source import load_yaml, parse_yaml

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "fixtures" / "forge-manifests"
SYNTHETIC = Path(__file__).resolve().parent / "fixtures" / "apps" / "manifests"


def real_manifests() -> list[Path]:
    files = sorted(REAL.glob("*.yml"))
    if not files and os.environ.get("CI") == "true":
        raise AssertionError(f"the shared Forge manifests are missing: {REAL}")
    return files


def parse_file(path: Path) -> tuple[Manifest | None, Problems]:
    problems = Problems()
    document = load_yaml(path, path.name, problems)
    assert document is not None, [str(p) for p in problems.items]
    return parse_manifest(document, problems), problems


def parse_text(text: str, name: str = "manifest.yml") -> tuple[Manifest | None, Problems]:
    problems = Problems()
    document = parse_yaml(text, name, problems)
    assert document is not None, [str(p) for p in problems.items]
    return parse_manifest(document, problems), problems


def messages(problems: Problems, severity: str = "error") -> list[str]:
    return [str(p) for p in problems.sorted() if p.severity == severity]


# An independent reading of the raw YAML, to check the parser against.
def raw_scopes(data: dict) -> list[str]:
    scopes = (data.get("permissions") or {}).get("scopes") or []
    return list(dict.fromkeys(scopes if isinstance(scopes, list) else list(scopes)))


def raw_egress(data: dict) -> set[tuple[str, str]]:
    external = (data.get("permissions") or {}).get("external") or {}
    found = set()
    for kind in EGRESS_KINDS:
        group, _, sub = kind.partition(".")
        entries = (external.get(group) or {}).get(sub) if sub else external.get(group)
        for entry in entries or []:
            found.add((kind, entry if isinstance(entry, str) else entry.get("address", "")))
    return found


REAL_PRODUCTS = {
    "FabianSchurig__forge-bitbucket-ai-agent-dispatcher.yml": ["Bitbucket"],
    "Firsttry-Solutions__Firsttry.yml": ["Jira"],
    "Flagsmith__flagsmith-jira-integration.yml": ["Jira"],
    "atlassian-labs__FSRT__jira-pp.yml": ["Jira"],
    "atlassian-labs__gitlab-for-compass.yml": ["Compass"],
    "atlassian-labs__issue-status-helper.yml": ["Jira"],
    "atlassian-labs__mermaid-diagrams-viewer.yml": ["Confluence"],
    "atlassian__jenkins-for-jira.yml": ["Jira"],
    "jbyun-atlassian__forge_aar_checker_jira.yml": ["Confluence", "Jira"],
}


@pytest.mark.parametrize("path", real_manifests(), ids=lambda p: p.name)
def test_every_real_manifest_parses_cleanly(path: Path) -> None:
    manifest, problems = parse_file(path)
    assert manifest is not None
    assert problems.items == [], [str(p) for p in problems.items]
    data = yaml.safe_load(path.read_text("utf-8"))
    assert [s.name for s in manifest.scopes] == raw_scopes(data)
    assert all(s.info is not None for s in manifest.scopes), "every real scope is in the catalogue"
    assert {(e.kind, e.address) for e in manifest.egress} == raw_egress(data)
    assert [p.name for p in manifest.products] == REAL_PRODUCTS[path.name]
    assert manifest.runtime.startswith("nodejs")
    assert manifest.app_id.startswith("ari:cloud:ecosystem::app/")


def test_every_real_manifest_is_covered_by_the_expectations() -> None:
    names = {p.name for p in real_manifests()}
    assert names <= set(REAL_PRODUCTS), f"add expectations for {sorted(names - set(REAL_PRODUCTS))}"


def real(name: str) -> Manifest:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    manifest, _ = parse_file(path)
    assert manifest is not None
    return manifest


def test_real_any_domain_backend_is_flagged() -> None:
    manifest = real("atlassian-labs__FSRT__jira-pp.yml")
    (egress,) = manifest.egress
    assert (egress.kind, egress.address, egress.any_domain, egress.in_scope_eud) == ("fetch.backend", "*", True, True)
    assert [s.info.access for s in manifest.scopes if s.name.startswith("manage:")] == ["manage"] * 3


def test_real_wildcards_content_and_webtrigger_of_gitlab_for_compass() -> None:
    manifest = real("atlassian-labs__gitlab-for-compass.yml")
    wildcards = {e.address for e in manifest.egress if e.wildcard}
    assert wildcards == {"*.services.atlassian.com", "*.gitlab.com", "*.atlassian.com", "*.atl-paas.net"}
    assert {e.kind for e in manifest.egress if e.address == "*.atlassian.com"} == {"fetch.client", "images"}
    assert [(c.directive, c.value, c.risky) for c in manifest.content] == [("styles", "unsafe-inline", True)]
    assert [(w.key, w.static) for w in manifest.webtriggers] == [("gitlab-event-webtrigger", False)]
    assert "compass:dataProvider" in manifest.module_types and "consumer" in manifest.module_types


def test_real_url_with_path_is_kept_verbatim() -> None:
    manifest = real("atlassian__jenkins-for-jira.yml")
    backend = [e for e in manifest.egress if e.kind == "fetch.backend"]
    assert backend[0].address == "https://app.launchdarkly.com/api/v2/flags/Jenkins"
    assert backend[0].host == "app.launchdarkly.com"
    assert len([e for e in manifest.egress if e.kind == "fetch.client"]) == 6


def test_real_wildcard_inside_url_and_licensing() -> None:
    manifest = real("atlassian-labs__issue-status-helper.yml")
    (image,) = manifest.egress
    assert (image.kind, image.host, image.wildcard, image.any_domain) == ("images", "*.atlassian.net", True, False)
    assert manifest.licensing is False


def test_real_connect_scopes_and_commented_out_remotes() -> None:
    manifest = real("jbyun-atlassian__forge_aar_checker_jira.yml")
    legacy = [s.name for s in manifest.scopes if s.info.legacy_connect]
    assert legacy == ["read:connect-jira", "write:connect-jira"]
    assert manifest.remotes == () and manifest.connect_modules == ()
    assert len(manifest.webtriggers) == 3 and not any(w.static for w in manifest.webtriggers)


def synthetic(name: str) -> tuple[Manifest | None, Problems]:
    return parse_file(SYNTHETIC / name)


def test_map_form_scopes_keep_impersonation() -> None:
    manifest, problems = synthetic("map-scopes.yml")
    assert problems.items == []
    assert [(s.name, s.allow_impersonation) for s in manifest.scopes] == [
        ("read:confluence-content.summary", True),
        ("write:confluence-content", False),
        ("write:jira-work", False),
        ("storage:app", False),
    ]
    assert manifest.scopes[0].position.line == 16
    assert manifest.products == ()  # only core modules: no product


def test_object_egress_categories_and_defaults() -> None:
    manifest, problems = synthetic("object-egress.yml")
    assert problems.items == []
    by_address = {e.address: e for e in manifest.egress}
    accoil = by_address["in.accoil.com"]
    assert (accoil.category, accoil.in_scope_eud, accoil.analytics_without_eud) == ("analytics", False, True)
    segment = by_address["api.segment.io"]
    assert (segment.category, segment.in_scope_eud, segment.analytics_without_eud) == ("ANALYTICS", True, False)
    telemetry = by_address["https://telemetry.example.com"]
    assert (telemetry.kind, telemetry.category, telemetry.in_scope_eud, telemetry.analytics_without_eud) == ("fetch.client", "", False, False)
    assert by_address["images.example.com"].in_scope_eud is True
    assert {e.kind for e in manifest.egress} == set(EGRESS_KINDS)
    assert [(c.directive, c.value, c.risky) for c in manifest.content] == [
        ("scripts", "unsafe-eval", True),
        ("scripts", "sha256-abc123=", False),
        ("styles", "unsafe-inline", True),
    ]


def test_remotes_with_region_maps_and_references() -> None:
    manifest, problems = synthetic("remotes-regions.yml")
    assert problems.items == []
    backend, logging = manifest.remotes
    assert backend.base_urls == (("default", "https://backend.example.com"), ("EU", "https://eu.backend.example.com"), ("US", "https://us.backend.example.com"))
    assert backend.regional and backend.operations == ("storage", "compute") and backend.stores_eud is True and backend.may_store_eud
    assert logging.base_urls == (("", "https://logs.example.com"),) and not logging.regional and not logging.may_store_eud
    refs = [(e.kind, e.remote, e.address, e.in_scope_eud) for e in manifest.egress]
    assert refs == [("fetch.backend", "remote-backend", "https://backend.example.com", True), ("fetch.client", "logging", "https://logs.example.com", True)]


def test_remote_without_operations_is_assumed_to_store_end_user_data() -> None:
    manifest, problems = parse_text("app: {id: x, runtime: {name: nodejs22.x}}\nmodules: {function: [{key: f, handler: i.f}]}\nremotes:\n  - key: r\n    baseUrl: https://r.example.com\n")
    (remote,) = manifest.remotes
    assert not remote.operations_declared and remote.may_store_eud


def test_no_scopes_key_means_no_scopes() -> None:
    manifest, problems = synthetic("no-scopes.yml")
    assert problems.items == []
    assert manifest.scopes == () and manifest.egress == () and manifest.remotes == ()
    assert [p.name for p in manifest.products] == ["Confluence"]  # the unprefixed macro module


def test_empty_and_missing_permissions() -> None:
    for text in ("permissions:\n  scopes: []\n", "permissions:\n  scopes:\n", "permissions: {}\n", ""):
        manifest, problems = parse_text("app: {id: x, runtime: {name: nodejs22.x}}\nmodules: {function: [{key: f, handler: i.f}]}\n" + text)
        assert manifest.scopes == () and problems.errors == [], text


def test_duplicates_are_shown_once_with_a_warning() -> None:
    manifest, problems = synthetic("duplicates.yml")
    assert [s.name for s in manifest.scopes] == ["read:jira-work", "storage:app"]
    assert [e.address for e in manifest.egress] == ["api.example.com"]
    assert problems.errors == []
    warnings = messages(problems, "warning")
    assert warnings == [
        "duplicates.yml:18:7: warning: permissions.scopes[2]: scope 'read:jira-work' is listed twice (first on line 16); it is shown once (remove the repeated line)",
        "duplicates.yml:23:11: warning: permissions.external.fetch.backend[1]: 'api.example.com' is listed twice under fetch.backend (first on line 22); it is shown once (remove the repeated entry)",
    ]


def test_wildcards() -> None:
    manifest, problems = synthetic("wildcards.yml")
    assert problems.items == []
    flags = [(e.address, e.host, e.any_domain, e.wildcard) for e in manifest.egress]
    assert flags == [
        ("*", "*", True, False),
        ("*.gitlab.com", "*.gitlab.com", False, True),
        ("https://api.example.com/v2/flags", "api.example.com", False, False),
        ("https://*.atlassian.net", "*.atlassian.net", False, True),
    ]


def test_placeholders_are_kept_verbatim_and_flagged() -> None:
    manifest, problems = synthetic("placeholders.yml")
    assert problems.errors == []
    assert manifest.placeholders == ("API_HOST", "BACKEND_URL")
    (egress,) = manifest.egress
    assert egress.address == "https://${API_HOST}/v1" and egress.placeholders == ("API_HOST",)
    (remote,) = manifest.remotes
    assert remote.default_url == "${BACKEND_URL}" and remote.placeholders == ("BACKEND_URL",)
    warnings = messages(problems, "warning")
    assert len(warnings) == 2
    assert warnings[0].startswith("placeholders.yml:23:11: warning: permissions.external.fetch.backend[0]: ${API_HOST} is an environment variable")
    assert warnings[1].startswith("placeholders.yml:26:14: warning: remotes[0].baseUrl: ${BACKEND_URL}")
    assert placeholders_in("${A}-${B}-${A}") == ("A", "B")


def test_unknown_scopes_are_errors_with_suggestions() -> None:
    manifest, problems = synthetic("unknown-scope.yml")
    assert manifest is not None and [s.info for s in manifest.scopes] == [None, None]
    assert messages(problems) == [
        "unknown-scope.yml:16:7: permissions.scopes[0]: unknown scope 'read:jira-wrok' (did you mean 'read:jira-work' or 'read:jira-user' or 'write:jira-work'?)",
        "unknown-scope.yml:17:7: permissions.scopes[1]: unknown scope 'frobnicate:everything' (see the Forge scopes reference for valid names)",
    ]


def test_unknown_scope_in_map_form_points_at_the_key() -> None:
    _, problems = parse_text("app: {id: x, runtime: {name: nodejs22.x}}\nmodules: {function: [{key: f, handler: i.f}]}\npermissions:\n  scopes:\n    storage:ap: {}\n")
    assert messages(problems) == ["manifest.yml:5:5: permissions.scopes.storage:ap: unknown scope 'storage:ap' (did you mean 'storage:app'?)"]


def test_not_a_manifest_is_an_error_with_a_line() -> None:
    manifest, problems = synthetic("not-a-manifest.yml")
    assert manifest is None
    assert messages(problems) == ["not-a-manifest.yml:2:1: is not a Forge manifest: it has no 'app' or 'modules' section (copy in the app's own manifest.yml, the file 'forge deploy' reads)"]
    for text in ("- a\n- list\n", "just text\n", "{}\n"):
        manifest, problems = parse_text(text)
        assert manifest is None and len(problems.errors) == 1


def test_wrong_types_are_errors_at_their_lines() -> None:
    manifest, problems = synthetic("wrong-types.yml")
    assert manifest is not None
    assert messages(problems) == [
        "wrong-types.yml:4:12: app.runtime: expected 'app.runtime' (a mapping of keys to values), found text",
        "wrong-types.yml:6:20: modules.jira:issuePanel: expected the jira:issuePanel modules (a list), found text (write one '- item' per line)",
        "wrong-types.yml:8:11: permissions.scopes: expected a list of scope names (or a map of scope to options), found text (write one '- read:jira-work' per line)",
        "wrong-types.yml:13:23: permissions.external.fetch.backend[0].inScopeEUD: expected true or false, found text (write true or false without quotes)",
        "wrong-types.yml:14:13: permissions.external.images: expected the images destinations (a list), found text (write one '- item' per line)",
        "wrong-types.yml:17:14: remotes[0].baseUrl: 42 is read as a number, not text (put it in quotes: '42')",
    ]
    # A bad inScopeEUD never understates: the entry counts as carrying End-User Data.
    assert manifest.egress[0].in_scope_eud is True


@pytest.mark.parametrize(
    "text, expected",
    [
        ("permissions:\n  scopes:\n    read:jira-work: {allowImpersonaton: true}\n", "did you mean 'allowImpersonation'?"),
        ("permissions:\n  scopes:\n    read:jira-work: yes-please\n", "expected the options of scope 'read:jira-work'"),
        ("permissions:\n  external:\n    fetch:\n      backend:\n        - {address: a.example.com, inScopeEud: false}\n", "did you mean 'inScopeEUD'?"),
        ("permissions:\n  external:\n    imagez: [a.example.com]\n", "did you mean 'images'?"),
        ("permissions:\n  external:\n    fetch:\n      backend:\n        - {category: analytics}\n", "needs an 'address'"),
        ("permissions:\n  external:\n    fetch:\n      backend:\n        - 42\n", "expected a domain"),
        ("permissions:\n  scoeps: [read:jira-work]\n", "did you mean 'scopes'?"),
        ("permissions:\n  content:\n    scripts: unsafe-eval\n", "expected the scripts sources"),
        ("remotes:\n  - key: r\n    baseURL: https://r.example.com\n", "did you mean 'baseUrl'?"),
        ("remotes:\n  - key: r\n    baseUrl: {EU: https://eu.r.example.com}\n", "needs a 'default'"),
        ("remotes:\n  - key: r\n    baseUrl: https://r.example.com\n    operations: [storag]\n", "did you mean 'storage'?"),
        ("remotes:\n  - key: r\n    baseUrl: https://a.example.com\n  - key: r\n    baseUrl: https://b.example.com\n", "is used twice"),
        ("remotes:\n  - baseUrl: https://a.example.com\n", "needs a 'key'"),
        ("app: {id: x, runtime: {name: nodejs22.x}, storage: {classifications: data}}\n", "expected 'app.storage.classifications'"),
        ("app: {id: x, runtime: {name: nodejs22.x}, licensing: {enabled: maybe}}\n", "expected true or false"),
    ],
)
def test_each_kind_of_mistake_is_reported(text: str, expected: str) -> None:
    base = "app: {id: x, runtime: {name: nodejs22.x}}\n" if not text.startswith("app:") else ""
    manifest, problems = parse_text(base + "modules: {function: [{key: f, handler: i.f}]}\n" + text)
    assert manifest is not None
    errors = messages(problems)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("manifest.yml:") and e.split(":")[1].isdigit() for e in errors), errors


def test_unknown_remote_reference_is_an_error() -> None:
    manifest, problems = synthetic("unknown-remote.yml")
    assert manifest.egress == ()
    assert messages(problems) == [
        "unknown-remote.yml:19:19: permissions.external.fetch.backend[0].remote: unknown remote 'remote-backnd' (did you mean 'remote-backend'?)",
        "unknown-remote.yml:21:9: permissions.external.images[0]: a remote reference is only allowed under fetch.backend and fetch.client, not images (list the remote's domain here instead)",
    ]


def test_legacy_runtime_is_flagged() -> None:
    manifest, problems = synthetic("legacy-runtime.yml")
    assert manifest.runtime == "" and manifest.legacy_runtime
    assert problems.errors == []
    assert [p.position.line for p in problems.warnings] == [5]
    assert "legacy Forge runtime" in problems.warnings[0].message


def test_webtriggers_are_dynamic_unless_declared_static() -> None:
    manifest, problems = synthetic("webtriggers.yml")
    assert problems.items == []
    assert [(w.key, w.static) for w in manifest.webtriggers] == [("static-hook", True), ("dynamic-hook", False), ("default-hook", False)]


def test_connect_modules_count_as_products() -> None:
    manifest, problems = synthetic("connect.yml")
    assert problems.items == []
    assert manifest.connect_modules == ("jira:webPanels",)
    assert [p.name for p in manifest.products] == ["Jira"]
    assert all(s.info.legacy_connect for s in manifest.scopes)


def test_customer_managed_egress_is_recorded() -> None:
    manifest, problems = parse_text("app: {id: x, runtime: {name: nodejs22.x}}\nmodules: {function: [{key: f, handler: i.f}]}\npermissions:\n  external:\n    configurable:\n      enabled: true\n")
    assert problems.items == [] and manifest.customer_managed_egress


def test_storage_classifications_entities_and_licensing() -> None:
    manifest, problems = parse_text(
        "app:\n  id: x\n  runtime: {name: nodejs22.x}\n  licensing: {enabled: true}\n  storage:\n    classifications: [UGC, PII]\n    entities:\n      - name: item\n        attributes: {a: {type: string}}\n"
        "modules: {function: [{key: f, handler: i.f}]}\n"
    )
    assert problems.items == []
    assert (manifest.storage_classifications, manifest.storage_entities, manifest.licensing) == (("UGC", "PII"), ("item",), True)


@pytest.mark.parametrize(
    "module, product",
    [
        ("jira:issuePanel", ("jira", "Jira")),
        ("confluence:contentBylineItem", ("confluence", "Confluence")),
        ("jiraServiceManagement:portalRequestDetail", ("jira-service-management", "Jira Service Management")),
        ("compass:adminPage", ("compass", "Compass")),
        ("bitbucket:repoPullRequestCard", ("bitbucket", "Bitbucket")),
        ("devops:buildInfoProvider", ("jira", "Jira")),
        ("rovo:agent", ("rovo", "Rovo")),
        ("macro", ("confluence", "Confluence")),
        ("someNewProduct:thing", ("some-new-product", "Some New Product")),
        ("function", None),
        ("trigger", None),
        ("scheduledTrigger", None),
        ("webtrigger", None),
        ("consumer", None),
        ("migration:dataResidency", None),
    ],
)
def test_products_from_module_types(module: str, product: tuple[str, str] | None) -> None:
    assert product_of_module(module) == product


def test_parsing_is_deterministic_and_pure() -> None:
    path = SYNTHETIC / "object-egress.yml"
    first, _ = parse_file(path)
    second, _ = parse_file(path)
    assert first == second
    problems = Problems()
    document = load_yaml(path, path.name, problems)
    before = repr(document.data)
    parse_manifest(document, problems)
    assert repr(document.data) == before
