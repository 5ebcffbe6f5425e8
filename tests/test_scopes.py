"""The scope catalogue covers exactly the names Forge accepts, and describes each one usefully."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest
import yaml

from site_builder.forge.scopes import (
    RISK_ORDER,
    ScopeInfo,
    _from_rule,
    build_catalogue,
    humanise_resource,
    load_catalogue,
    parse_names,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared/reference/forge-scope-names.txt"
DATA = resources.files("site_builder") / "data"

CLASSIC_SAMPLES = [
    "read:jira-work",
    "write:jira-work",
    "read:jira-user",
    "manage:jira-configuration",
    "manage:jira-project",
    "manage:jira-webhook",
    "read:confluence-content.all",
    "read:confluence-content.summary",
    "write:confluence-content",
    "storage:app",
    "report:personal-data",
    "read:app-system-token",
    "read:me",
    "read:account",
]

CONNECT_SCOPES = [
    "act-as-user:connect-jira",
    "act-as-user:connect-confluence",
    "admin:connect-jira",
    "admin:connect-confluence",
    "access-email-addresses:connect-jira",
    "access-email-addresses:connect-confluence",
    "delete:connect-jira",
    "delete:connect-confluence",
    "read:connect-jira",
    "write:connect-jira",
    "project-admin:connect-jira",
    "space-admin:connect-confluence",
]


def reference_names() -> list[str]:
    if not REFERENCE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference scope list missing in CI: {REFERENCE}")
        pytest.skip(f"reference scope list not available: {REFERENCE}")
    return parse_names(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def classic_yaml() -> dict:
    return yaml.safe_load((DATA / "classic-scopes.yaml").read_text(encoding="utf-8"))


def test_shipped_names_equal_reference():
    reference_names()
    assert (DATA / "forge-scope-names.txt").read_bytes() == REFERENCE.read_bytes()


def test_every_reference_name_is_described(catalogue):
    problems = []
    for name in reference_names():
        info = catalogue.lookup(name)
        if info is None:
            problems.append(f"{name}: missing")
            continue
        if not info.product or not info.product_key:
            problems.append(f"{name}: no product")
        if info.access not in RISK_ORDER:
            problems.append(f"{name}: bad access {info.access!r}")
        text = info.description.strip()
        if not text.endswith("."):
            problems.append(f"{name}: description does not end in a period")
        if text.rstrip(".").strip().lower() in {"", name.lower()} or name in text:
            problems.append(f"{name}: description is just the name")
        if not text[:1].isupper():
            problems.append(f"{name}: description does not start with a capital")
    assert not problems, "\n".join(problems)


def test_no_entry_outside_reference(catalogue, classic_yaml):
    names = set(reference_names())
    assert {info.name for info in catalogue} == names
    assert len(catalogue) == len(names)
    assert set(classic_yaml) <= names


def test_classic_scopes_are_hand_written(catalogue, classic_yaml):
    for name in CLASSIC_SAMPLES:
        info = catalogue.lookup(name)
        assert info is not None, name
        assert name in classic_yaml, name
        assert info.description == classic_yaml[name]["description"].strip()
        assert not info.granular
        rule = _from_rule(name)
        assert rule is None or rule.description != info.description


def test_every_non_granular_name_has_a_hand_entry(catalogue, classic_yaml):
    for info in catalogue:
        if _from_rule(info.name) is None:
            assert info.name in classic_yaml, info.name


def test_connect_scopes_are_legacy(catalogue):
    for name in CONNECT_SCOPES:
        info = catalogue.lookup(name)
        assert info is not None, name
        assert info.legacy_connect, name
    legacy = {info.name for info in catalogue if info.legacy_connect}
    assert legacy == {info.name for info in catalogue if "connect-" in info.name}


def test_access_levels(catalogue):
    assert catalogue.lookup("delete:attachment:jira").access == "delete"
    assert catalogue.lookup("manage:jira-configuration").access == "manage"
    assert catalogue.lookup("admin:repository:bitbucket").access == "manage"
    assert catalogue.lookup("read:comment:jira").access == "read"
    assert catalogue.lookup("write:page:confluence").access == "write"
    assert catalogue.lookup("validate:jql:jira").access == "read"
    assert catalogue.lookup("redact:issue:jira").access == "delete"
    assert catalogue.lookup("storage:app").access == "other"


def test_rule_descriptions_read_well(catalogue):
    expected = {
        "delete:attachment:jira": "Delete Jira issue attachments.",
        "read:comment:jira": "Read Jira issue comments.",
        "read:blogpost:confluence": "Read Confluence blog posts.",
        "admin:repository:bitbucket": "Administer Bitbucket repositories.",
        "read:cmdb-object:jira": "Read Jira Assets (CMDB) objects.",
        "read:comment.property:jira": "Read Jira comment properties.",
    }
    for name, text in expected.items():
        assert catalogue.lookup(name).description == text


def test_products(catalogue):
    assert catalogue.lookup("read:sprint:jira-software").product == "Jira Software"
    assert catalogue.lookup("read:request:jira-service-management").product_key == "jira-service-management"
    assert catalogue.lookup("read:component:compass").product == "Compass"
    assert catalogue.lookup("storage:app").product == "Forge platform"
    assert catalogue.lookup("read:me").product == "Atlassian account"
    assert catalogue.lookup("read:jira:agent-interface").product_key == "jira"


def test_humanise_resource():
    assert humanise_resource("cmdb-object") == "Assets (CMDB) objects"
    assert humanise_resource("comment.property") == "comment properties"
    assert humanise_resource("board-scope.admin") == "board scope administration"
    assert humanise_resource("build-info") == "build information from connected tools"


def test_suggest(catalogue):
    assert catalogue.suggest("read:jira-wrok")[0] == "read:jira-work"
    assert catalogue.suggest("read:coment:jira")[0] == "read:comment:jira"
    assert len(catalogue.suggest("read:jira-wrok", limit=2)) <= 2
    assert catalogue.suggest("zzzzzzzz") == []


def test_lookup_unknown(catalogue):
    assert catalogue.lookup("read:jira-wrok") is None
    assert catalogue.lookup("") is None


def test_loader_is_cached():
    assert load_catalogue() is load_catalogue()


def test_risk_order():
    ordered = sorted(RISK_ORDER, key=RISK_ORDER.__getitem__)
    assert ordered == ["delete", "manage", "write", "read", "other"]


def test_build_rejects_stray_and_undescribed_names():
    with pytest.raises(ValueError, match="not Forge scope names"):
        build_catalogue(["read:jira-work"], {"read:jira-wrok": {}})
    with pytest.raises(ValueError, match="hand entry"):
        build_catalogue(["read:jira-work"], {})
    catalogue = build_catalogue(["read:comment:jira"], {})
    assert isinstance(catalogue.lookup("read:comment:jira"), ScopeInfo)
