"""The content model: what load_project makes of content/ (TechLead's default site and small fixtures)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from site_builder.errors import Problems
from site_builder.releases.project import load_project
from site_builder.content.model import Version
from site_builder.render.pages.policy import section_groups

# The default site's sections as the seed orders them: (anchor, group). Anchors are public: listings deep-link to them.
DEFAULT_SECTIONS = [
    ("introduction", ""),
    ("built-on-forge", ""),
    ("minimal-data-handling", "Data security"),
    ("encryption", "Data security"),
    ("encrypted-storage", "Data security"),
    ("data-residency", "Data security"),
    ("secure-development", "Application security"),
    ("dependency-management", "Application security"),
    ("access-control", "Application security"),
    ("vulnerability-reporting", "Incident response"),
    ("compliance", ""),
    ("customer-responsibilities", ""),
    ("contact", ""),
]


@pytest.fixture(scope="module")
def default_load(repo_root: Path):
    problems = Problems()
    project = load_project(repo_root, problems)
    return project, problems


def test_default_content_loads_without_errors(default_load) -> None:
    project, problems = default_load
    assert project is not None
    assert [str(p) for p in problems.errors] == []
    # The policy and site files themselves are clean: no warnings either.
    own = [str(p) for p in problems.warnings if p.position.path.startswith(("content/site.yaml", "content/policy"))]
    assert own == []


def test_default_content_has_the_thirteen_seed_sections_in_order(default_load) -> None:
    project, _ = default_load
    sections = project.working.sections
    assert [(s.anchor, s.group) for s in sections] == DEFAULT_SECTIONS
    orders = [s.order for s in sections]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert all(s.title and s.body_html.strip() for s in sections)
    assert all(s.source.path.startswith("content/policy/") and s.source.line > 0 for s in sections)


def test_default_content_groups_consecutive_sections(default_load) -> None:
    project, _ = default_load
    groups = [(group, [s.anchor for s in items]) for group, items in section_groups(project.working.sections)]
    assert groups == [
        ("", ["introduction", "built-on-forge"]),
        ("Data security", ["minimal-data-handling", "encryption", "encrypted-storage", "data-residency"]),
        ("Application security", ["secure-development", "dependency-management", "access-control"]),
        ("Incident response", ["vulnerability-reporting"]),
        ("", ["compliance", "customer-responsibilities", "contact"]),
    ]


def test_default_site_facts_are_the_seeds(default_load) -> None:
    project, _ = default_load
    site = project.working.site
    assert site.base_url.startswith("https://") and site.base_url.endswith("/")
    assert site.organisation.name == "TechLead"
    assert site.organisation.address == ("Floor 4 - No. 11 Nguyen Xien", "Thanh Xuan - 10000 Hanoi, Vietnam")
    assert site.organisation.website == "https://techlead.vn"
    assert site.organisation.email == "atlassian@techlead.vn"
    assert site.policy.title == "Security Policy for TechLead Atlassian Forge Cloud Apps"
    assert site.policy.applies_to == "All Atlassian Forge-based Cloud Apps developed by TechLead"
    assert site.policy.products_covered == "All Atlassian Cloud products"
    assert site.policy.last_reviewed == date(2025, 7, 1)
    assert site.contacts.security_email == "atlassian@techlead.vn"
    assert site.contacts.support_portal == "https://techlead-cloud.atlassian.net/servicedesk/customer/portal/1"
    assert site.contacts.response_time == "within 1 business day"
    assert site.contacts.critical_fix_time == "within 72 hours"


def test_default_releases_are_ordered_and_effective_from_the_seed_date(default_load) -> None:
    project, _ = default_load
    versions = [r.version for r in project.releases]
    assert versions == sorted(versions)
    if project.releases:  # the first published version is the seed's policy, effective 1 July 2025
        first = project.releases[0]
        assert (str(first.version), first.date) == ("1.0", date(2025, 7, 1))
        assert project.latest is project.releases[-1]
    else:
        assert project.latest is None


def test_minimal_fixture_model_and_defaults(copy_fixture, tmp_path: Path) -> None:
    project_dir = copy_fixture("minimal", tmp_path)
    problems = Problems()
    project = load_project(project_dir, problems)
    assert project is not None and problems.items == []
    assert project.releases == () and project.latest is None
    site = project.working.site
    assert site.language == "en"
    assert site.organisation.legal_name == "Minimal Example"  # defaults to name
    assert site.policy.short_title == site.policy.title  # defaults to title
    assert site.policy.last_reviewed == date(2024, 2, 29)  # a leap day is a real date
    assert site.policy.related == ()
    intro, reporting = project.working.sections
    assert (intro.anchor, intro.order, intro.group) == ("introduction", 1, "")  # order defaults to the NN prefix
    assert (reporting.anchor, reporting.order, reporting.group) == ("vulnerability-reporting", 2, "Incident response")
    assert [(h.level, h.title, h.anchor) for h in reporting.headings] == [(3, "What happens next", "vulnerability-reporting-what-happens-next")]
    assert reporting.source.path == "content/policy/02-reporting.md"
    assert project.working.apps == ()


def test_front_matter_order_wins_over_file_name(copy_fixture, tmp_path: Path) -> None:
    project_dir = copy_fixture("minimal", tmp_path)
    intro = project_dir / "content/policy/01-introduction.md"
    intro.write_text(intro.read_text("utf-8").replace("anchor: introduction\n", "anchor: introduction\norder: 99\n"), "utf-8")
    problems = Problems()
    project = load_project(project_dir, problems)
    assert project is not None and problems.items == []
    assert [(s.anchor, s.order) for s in project.working.sections] == [("vulnerability-reporting", 2), ("introduction", 99)]


def test_duplicate_anchor_is_an_error(copy_fixture, tmp_path: Path) -> None:
    project_dir = copy_fixture("minimal", tmp_path)
    (project_dir / "content/policy/03-again.md").write_text("---\ntitle: Again\nanchor: introduction\n---\nText.\n", "utf-8")
    problems = Problems()
    load_project(project_dir, problems)
    assert [str(p) for p in problems.errors] == [
        "content/policy/03-again.md:3:9: anchor: anchor 'introduction' is already used by content/policy/01-introduction.md (anchors must be unique)"
    ]


@pytest.mark.parametrize(
    ("low", "high"),
    [("1.0", "1.1"), ("1.9", "1.10"), ("1.10", "2.0"), ("2", "2.0.1"), ("0.9.9", "1.0")],
)
def test_versions_compare_numerically(low: str, high: str) -> None:
    assert Version.parse(low) < Version.parse(high)
    assert str(Version.parse(high)) == high


def test_model_is_immutable(default_load) -> None:
    project, _ = default_load
    with pytest.raises(AttributeError):
        project.working.sections[0].anchor = "changed"  # type: ignore[misc]
