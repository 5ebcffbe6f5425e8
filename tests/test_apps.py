"""Apps: loading, the derived facts (rows, verdict, glance), justification checks, the pages and `app add`."""

from __future__ import annotations

import html
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from site_builder.forge.apps import App, build_app, load_apps, runs_on_atlassian
from site_builder.commands.app_add import add_app, app_skeleton, slug_from
from site_builder.errors import Problems
from site_builder.forge.manifest import parse_manifest
from site_builder.content.load import load_site
from site_builder.releases.project import load_project
from site_builder.content.model import Edition, Project
from site_builder.render.pages.apps import app_pages
from site_builder.render.pages.policy import policy_pages
from site_builder.render.engine import RenderContext, render_site
from site_builder.content.source import load_yaml, parse_yaml
from site_builder.render.theme import Theme

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "fixtures" / "forge-manifests"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apps"
PROJECT = FIXTURES / "project"
THEME = Theme((REPO / "templates",), ())


def real_manifests() -> list[Path]:
    files = sorted(REAL.glob("*.yml"))
    if not files and os.environ.get("CI") == "true":
        raise AssertionError(f"the shared Forge manifests are missing: {REAL}")
    return files


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project."""
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    return target


def load(root: Path) -> tuple[tuple[App, ...], Problems]:
    problems = Problems()
    apps = load_apps(root / "content" / "apps", "content/apps", problems)
    return apps, problems


def messages(problems: Problems, severity: str = "error") -> list[str]:
    return [str(p) for p in problems.sorted() if p.severity == severity]


def render(apps: tuple[App, ...], generators=(app_pages,)) -> dict[str, str]:
    problems = Problems()
    site = load_site(PROJECT / "content" / "site.yaml", "content/site.yaml", problems)
    assert site is not None, problems.items
    edition = Edition(site, (), apps)
    ctx = RenderContext(Project((), edition), edition, None, True, date(2025, 7, 1))
    rendered = render_site(ctx, THEME, generators)
    return {path: data.decode("utf-8") for path, data in rendered.files.items()}


def section(page: str, anchor: str) -> str:
    """The HTML of one <section id=anchor> (sections are not nested)."""
    match = re.search(rf'<section[^>]* id="{anchor}"[^>]*>(.*?)</section>', page, re.S)
    assert match, f"no section #{anchor}"
    return html.unescape(match.group(1))


# --- loading and derived facts -------------------------------------------------------------


def test_fixture_project_loads_cleanly_and_sorted() -> None:
    apps, problems = load(PROJECT)
    assert problems.items == [], [str(p) for p in problems.items]
    assert [a.slug for a in apps] == ["analytics-only", "vendor-backend"]
    first = apps[0]
    assert (first.name, first.listing_url, first.is_sample) == ("Analytics Only", "https://marketplace.atlassian.com/apps/1234567/analytics-only", False)
    assert first.data_stored == ("Reading time per page ID",) and first.retention.startswith("Kept while")
    assert apps[1].is_sample is True


def test_permission_rows_are_sorted_by_risk_with_reasons() -> None:
    apps, _ = load(PROJECT)
    rows = apps[1].permissions
    assert [(r.scope, r.access) for r in rows] == [
        ("delete:issue:jira", "delete"),
        ("manage:jira-configuration", "manage"),
        ("write:jira-work", "write"),
        ("read:jira-work", "read"),
        ("storage:app", "other"),
    ]
    assert rows[0].why == "Deletes issues that were deleted in the vendor's service."
    assert rows[0].product == "Jira" and rows[0].description


def test_egress_rows_put_any_domain_first_and_resolve_remotes() -> None:
    apps, _ = load(PROJECT)
    rows = apps[1].egress
    assert [(r.destination, r.kind, r.any_domain, r.remote) for r in rows] == [
        ("*", "images", True, ""),
        ("https://api.vendor.example", "fetch.backend", False, "vendor-api"),
    ]
    assert rows[0].why == "Shows avatars that users pick from any site."
    assert rows[1].why == "The vendor's service that stores and syncs issues."
    (remote,) = apps[1].remotes
    assert remote.remote.base_urls == (("default", "https://api.vendor.example"), ("EU", "https://eu.api.vendor.example"))


def test_at_a_glance() -> None:
    apps, _ = load(PROJECT)
    vendor = apps[1]
    assert [p.name for p in vendor.products] == ["Jira", "Jira Service Management"]
    assert (vendor.access_to("delete"), vendor.access_to("manage"), vendor.access_to("write"), vendor.access_to("read")) == (("Jira",), ("Jira",), ("Jira",), ("Jira",))
    assert vendor.sends_data_outside
    assert vendor.destinations == ("*", "https://api.vendor.example", "https://eu.api.vendor.example")
    assert apps[0].access_to("delete") == () and apps[0].access_to("read") == ("Confluence",)


def test_verdict_eligible_with_analytics_without_end_user_data() -> None:
    apps, _ = load(PROJECT)
    verdict = apps[0].verdict
    assert verdict.eligible and verdict.reasons == ()


def test_verdict_lists_every_reason() -> None:
    apps, _ = load(PROJECT)
    verdict = apps[1].verdict
    assert not verdict.eligible
    assert [r.code for r in verdict.reasons] == ["remote", "egress", "webtrigger"]
    assert "vendor-api" in verdict.reasons[0].text and "any domain (*)" in verdict.reasons[1].text and "'inbound'" in verdict.reasons[2].text


def manifest_from(text: str):
    problems = Problems()
    document = parse_yaml("app: {id: x, runtime: {name: nodejs22.x}}\nmodules: {function: [{key: f, handler: i.f}]}\n" + text, "manifest.yml", problems)
    manifest = parse_manifest(document, problems)
    assert manifest is not None and problems.errors == [], problems.items
    return manifest


@pytest.mark.parametrize(
    "text, codes",
    [
        ("", []),
        ("permissions: {scopes: [read:jira-work, storage:app]}\n", []),
        ("permissions:\n  external:\n    fetch:\n      backend: [{address: in.accoil.com, category: analytics, inScopeEUD: false}]\n", []),
        ("permissions:\n  external:\n    scripts: [{address: cdn.example.com, category: Analytics, inScopeEUD: false}]\n", []),
        ("permissions:\n  external:\n    fetch:\n      backend: [{address: in.accoil.com, category: analytics}]\n", ["egress"]),
        ("permissions:\n  external:\n    fetch:\n      client: [{address: api.example.com, inScopeEUD: false}]\n", ["egress"]),
        ("permissions:\n  external:\n    fetch:\n      backend: [api.example.com]\n", ["egress"]),
        ("permissions:\n  external:\n    images: ['*.atlassian.com']\n", ["egress"]),
        ("permissions:\n  external:\n    fonts: [fonts.gstatic.com]\n    frames: [www.youtube.com]\n", ["egress", "egress"]),
        ("remotes: [{key: r, baseUrl: 'https://r.example.com', operations: [other]}]\n", ["remote"]),
        ("permissions:\n  external:\n    fetch:\n      backend: [{remote: r}]\nremotes: [{key: r, baseUrl: 'https://r.example.com', operations: [fetch]}]\n", ["remote"]),
        ("connectModules: {jira:webPanels: [{key: p}]}\nremotes: [{key: c, baseUrl: 'https://c.example.com'}]\n", ["remote", "connect"]),
    ],
)
def test_verdict_rules(text: str, codes: list[str]) -> None:
    verdict = runs_on_atlassian(manifest_from(text))
    assert [r.code for r in verdict.reasons] == codes
    assert verdict.eligible == (codes == [])


def test_verdict_webtriggers_and_runtime() -> None:
    problems = Problems()
    document = parse_yaml("app: {id: x}\nmodules:\n  webtrigger:\n    - {key: a, function: f, response: {type: static, outputs: [{key: ok, statusCode: 200}]}}\n    - {key: b, function: f}\n", "m.yml", problems)
    verdict = runs_on_atlassian(parse_manifest(document, problems))
    assert [r.code for r in verdict.reasons] == ["webtrigger", "runtime"]
    assert "'b'" in verdict.reasons[0].text


def test_verdict_notes_customer_managed_egress() -> None:
    verdict = runs_on_atlassian(manifest_from("permissions: {external: {configurable: {enabled: true}}}\n"))
    assert verdict.eligible and len(verdict.notes) == 1


REAL_VERDICTS = {
    "FabianSchurig__forge-bitbucket-ai-agent-dispatcher.yml": ["egress"],
    "Firsttry-Solutions__Firsttry.yml": [],
    "Flagsmith__flagsmith-jira-integration.yml": ["egress"],
    "atlassian-labs__FSRT__jira-pp.yml": ["egress"],
    "atlassian-labs__gitlab-for-compass.yml": ["egress"] * 7 + ["webtrigger"],
    "atlassian-labs__issue-status-helper.yml": ["egress"],
    "atlassian-labs__mermaid-diagrams-viewer.yml": [],
    "atlassian__jenkins-for-jira.yml": ["egress"] * 9 + ["webtrigger"] * 2,
    "jbyun-atlassian__forge_aar_checker_jira.yml": ["webtrigger"] * 3,
}


def real_app(path: Path) -> App:
    problems = Problems()
    document = load_yaml(path, path.name, problems)
    manifest = parse_manifest(document, problems)
    assert manifest is not None and problems.errors == []
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    info = parse_yaml(f"name: {path.stem}\nsummary: A real manifest from a public repository.\n", "app.yaml", problems)
    return build_app(slug, info, manifest, problems)


@pytest.mark.parametrize("path", real_manifests(), ids=lambda p: p.name)
def test_real_manifest_verdicts(path: Path) -> None:
    assert [r.code for r in real_app(path).verdict.reasons] == REAL_VERDICTS[path.name]


# --- justification checks ------------------------------------------------------------------


def test_missing_justifications_are_warnings_and_errors_with_strict(project: Path) -> None:
    app_yaml = project / "content/apps/vendor-backend/app.yaml"
    text = app_yaml.read_text("utf-8")
    text = text.replace("  storage:app: Keeps the sync cursor.\n", "  storage:app: ''\n").replace("  '*': Shows avatars that users pick from any site.\n", "")
    text = text.replace("remotes:\n  vendor-api: The vendor's service that stores and syncs issues.\n", "")
    app_yaml.write_text(text, "utf-8")
    apps, problems = load(project)
    assert len(apps) == 2 and problems.errors == []
    assert messages(problems, "warning") == [
        "content/apps/vendor-backend/app.yaml:1:1: warning: remotes: remote 'vendor-api' has no justification (say why the app needs it: under 'remotes:', write vendor-api: ...)",
        "content/apps/vendor-backend/app.yaml:14:3: warning: scopes: scope 'storage:app' has no justification (say why the app needs it: under 'scopes:', write storage:app: ...)",
        "content/apps/vendor-backend/app.yaml:15:1: warning: egress: egress destination '*' has no justification (say why the app needs it: under 'egress:', write \"*\": ...)",
    ]
    assert problems.has_errors(strict=True) and not problems.has_errors()
    vendor = apps[1]
    assert next(r for r in vendor.permissions if r.scope == "storage:app").why == ""


def test_stale_justifications_are_errors(project: Path) -> None:
    app_yaml = project / "content/apps/analytics-only/app.yaml"
    text = app_yaml.read_text("utf-8")
    text = text.replace("scopes:\n", "scopes:\n  write:page:confluence: Used to edit pages.\n  read:pag:confluence: Typo.\n")
    text += "  api.segment.io: Old analytics.\nremotes:\n  old-backend: Gone.\n"
    app_yaml.write_text(text, "utf-8")
    _, problems = load(project)
    assert messages(problems) == [
        "content/apps/analytics-only/app.yaml:10:3: scopes: stale justification: scope 'write:page:confluence' is not declared in manifest.yml (did you mean 'read:page:confluence'?)",
        "content/apps/analytics-only/app.yaml:11:3: scopes: stale justification: scope 'read:pag:confluence' is not declared in manifest.yml (did you mean 'read:page:confluence'?)",
        "content/apps/analytics-only/app.yaml:16:3: egress: stale justification: egress destination 'api.segment.io' is not declared in manifest.yml (manifest.yml does not declare it any more; remove the justification)",
        "content/apps/analytics-only/app.yaml:18:3: remotes: stale justification: remote 'old-backend' is not declared in manifest.yml (manifest.yml does not declare it any more; remove the justification)",
    ]


def test_storage_without_data_stored_is_a_warning(project: Path) -> None:
    app_yaml = project / "content/apps/analytics-only/app.yaml"
    text = app_yaml.read_text("utf-8").replace("data_stored:\n  - Reading time per page ID\n", "data_stored: []\n")
    app_yaml.write_text(text, "utf-8")
    _, problems = load(project)
    assert problems.errors == []
    assert [p.key for p in problems.warnings] == ["data_stored"]


def test_app_yaml_schema_errors(project: Path) -> None:
    app_yaml = project / "content/apps/analytics-only/app.yaml"
    text = app_yaml.read_text("utf-8").replace("name:", "nmae:").replace("listing_url: https://", "listing_url: http://")
    app_yaml.write_text(text, "utf-8")
    apps, problems = load(project)
    assert [a.slug for a in apps] == ["vendor-backend"]
    errors = messages(problems)
    assert "content/apps/analytics-only/app.yaml:1:1: missing required key 'name' (add 'name:' here)" in errors
    assert any("unknown key 'nmae'" in e and "did you mean 'name'?" in e for e in errors)
    assert any("is not an https: URL" in e for e in errors)


# --- folders and slugs ---------------------------------------------------------------------


def test_no_apps_folder_means_no_apps(tmp_path: Path) -> None:
    apps, problems = load(tmp_path)
    assert apps == () and problems.items == []


def test_bad_folders_are_refused(project: Path) -> None:
    apps_dir = project / "content/apps"
    shutil.copytree(apps_dir / "analytics-only", apps_dir / "My_App")
    shutil.copytree(apps_dir / "analytics-only", apps_dir / "Vendor-Backend")
    (apps_dir / "linked").symlink_to(apps_dir / "analytics-only", target_is_directory=True)
    (apps_dir / "README.md").write_text("notes\n", "utf-8")
    (apps_dir / ".DS_Store").write_bytes(b"\0")
    (apps_dir / "empty").mkdir()
    apps, problems = load(project)
    # 'Vendor-Backend' sorts first: it is an invalid slug, and 'vendor-backend' then collides with it.
    assert [a.slug for a in apps] == ["analytics-only"]
    assert messages(problems) == [
        "content/apps/My_App/: 'My_App' is not a valid app slug (use lower-case letters, digits and single hyphens, e.g. 'my-app'; it becomes the page address apps/<slug>/)",
        "content/apps/README.md: is not an app folder (apps/ holds one folder per app, each with app.yaml and manifest.yml)",
        "content/apps/Vendor-Backend/: 'Vendor-Backend' is not a valid app slug (use lower-case letters, digits and single hyphens, e.g. 'vendor-backend'; it becomes the page address apps/<slug>/)",
        "content/apps/empty/app.yaml: file not found (describe the app in app.yaml; 'site-builder app add' writes a skeleton)",
        "content/apps/empty/manifest.yml: file not found (copy in the app's own manifest.yml unmodified, or use 'site-builder app add PATH/TO/manifest.yml')",
        "content/apps/linked: is a symbolic link (put the app's folder itself in apps/, not a link to it)",
        "content/apps/vendor-backend/: app folder 'vendor-backend' differs from 'Vendor-Backend' only in case (rename or remove one of them; both would publish to the same address on case-insensitive disks)",
    ]


def test_symlinked_manifest_is_refused(project: Path, tmp_path: Path) -> None:
    manifest = project / "content/apps/analytics-only/manifest.yml"
    outside = tmp_path / "elsewhere.yml"
    shutil.copyfile(manifest, outside)
    manifest.unlink()
    manifest.symlink_to(outside)
    apps, problems = load(project)
    assert [a.slug for a in apps] == ["vendor-backend"]
    assert messages(problems) == ["content/apps/analytics-only/manifest.yml: is not a regular file (replace it with the file itself)"]


def test_broken_manifest_is_reported_with_its_file(project: Path) -> None:
    shutil.copyfile(FIXTURES / "manifests/not-a-manifest.yml", project / "content/apps/analytics-only/manifest.yml")
    apps, problems = load(project)
    assert [a.slug for a in apps] == ["vendor-backend"]
    assert messages(problems)[0].startswith("content/apps/analytics-only/manifest.yml:2:1: is not a Forge manifest")


def test_the_whole_project_loads_through_the_pipeline_loader() -> None:
    problems = Problems()
    loaded = load_project(PROJECT, problems)
    assert problems.errors == [] and [a.slug for a in loaded.working.apps] == ["analytics-only", "vendor-backend"]


# --- pages ---------------------------------------------------------------------------------


def test_pages_exist_for_every_app_and_none_without_apps() -> None:
    apps, _ = load(PROJECT)
    assert sorted(p for p in render(apps) if p.startswith("apps/")) == ["apps/analytics-only/index.html", "apps/index.html", "apps/vendor-backend/index.html"]
    assert not any(p.startswith("apps/") for p in render(()))


def test_app_page_shows_rows_anchors_and_verdict() -> None:
    apps, _ = load(PROJECT)
    page = render(apps)["apps/vendor-backend/index.html"]
    for anchor in ("permissions", "egress", "data-residency", "storage", "runs-on-atlassian"):
        assert f'id="{anchor}"' in page
    permissions = section(page, "permissions")
    order = [permissions.index(f"<code>{s}</code>") for s in ("delete:issue:jira", "manage:jira-configuration", "write:jira-work", "read:jira-work", "storage:app")]
    assert order == sorted(order), "rows are sorted by risk"
    assert "Deletes issues that were deleted in the vendor's service." in permissions
    egress = section(page, "egress")
    assert "<strong>Any domain</strong>" in egress and "any address on the internet" in egress
    residency = section(page, "data-residency")
    assert "https://eu.api.vendor.example" in residency and "EU" in residency and "Default" in residency
    verdict = section(page, "runs-on-atlassian")
    assert "Not eligible" in verdict and verdict.count("<li") == 3
    assert "Sample app" in page


def test_eligible_page_and_overview() -> None:
    apps, _ = load(PROJECT)
    files = render(apps)
    page = files["apps/analytics-only/index.html"]
    assert "<strong>Eligible.</strong>" in section(page, "runs-on-atlassian")
    assert "Sample app" not in page
    storage = html.unescape(section(page, "storage"))
    assert "Reading time per page ID" in storage and "reading-stat" in storage
    overview = html.unescape(files["apps/index.html"])
    assert 'href="../apps/analytics-only/index.html"' in overview and 'href="../apps/vendor-backend/index.html"' in overview
    assert "Not eligible" in overview and "Eligible" in overview


@pytest.mark.parametrize("path", real_manifests(), ids=lambda p: p.name)
def test_every_declared_scope_and_destination_of_real_manifests_is_on_its_page(path: Path) -> None:
    app = real_app(path)
    page = render((app,))[f"apps/{app.slug}/index.html"]
    permissions, egress = section(page, "permissions"), section(page, "egress")
    for scope in app.manifest.scopes:
        assert f"<code>{scope.name}</code>" in permissions, scope.name
    for entry in app.manifest.egress:
        assert f"<code>{entry.address}</code>" in egress, entry.address
    assert len(re.findall(r"<tr class=\"access-", permissions)) == len(app.manifest.scopes)
    verdict = section(page, "runs-on-atlassian")
    assert ("<strong>Eligible.</strong>" in verdict) == (REAL_VERDICTS[path.name] == [])


def test_pages_follow_the_html_rules() -> None:
    apps, _ = load(PROJECT)
    files = render(apps, (policy_pages, app_pages))
    for path in ("apps/index.html", "apps/analytics-only/index.html", "apps/vendor-backend/index.html", "index.html"):
        page = files[path]
        assert "style=" not in page and "<script" not in page, path
        tables = page.count("<table")
        assert tables == page.count("<caption") and tables == page.count('class="table-scroll" tabindex="0" role="region" aria-labelledby='), path
        assert '<th scope="col">' in page or tables == 0
        assert 'href="/' not in page, "links are relative"
        ids = re.findall(r' id="([^"]+)"', page)
        assert len(ids) == len(set(ids)), f"duplicate ids in {path}"
        for target in re.findall(r'aria-labelledby="([^"]+)"', page):
            assert target in ids, f"{path}: aria-labelledby={target} has no element"
    trust = files["index.html"]
    assert 'id="apps--title"' in trust and 'href="apps/vendor-backend/index.html"' in trust


def test_default_content_sample_apps_are_labelled_and_cover_the_cases() -> None:
    problems = Problems()
    apps = load_apps(REPO / "content/apps", "content/apps", problems)
    assert problems.items == [], [str(p) for p in problems.items]
    assert 2 <= len(apps) <= 3 and all(app.is_sample for app in apps)
    assert any(app.data_stored and app.manifest.scope("storage:app") for app in apps), "one sample stores data"
    assert any(app.egress and all(row.analytics_without_eud for row in app.egress) for app in apps), "one sample sends analytics only"
    assert any(not app.egress and not app.remotes for app in apps), "one sample has no egress at all"
    assert all(app.verdict.eligible for app in apps)
    files = render(apps)
    for app in apps:
        assert "Sample app" in files[f"apps/{app.slug}/index.html"]


# --- site-builder app add ------------------------------------------------------------------


def test_app_add_copies_the_manifest_and_writes_a_skeleton(project: Path, tmp_path: Path) -> None:
    source = REAL / "atlassian-labs__gitlab-for-compass.yml"
    if not source.is_file():
        pytest.skip("shared manifests not available")
    manifest = tmp_path / "gitlab-for-compass" / "manifest.yml"
    manifest.parent.mkdir()
    shutil.copyfile(source, manifest)
    problems = add_app(project, manifest, None)
    assert problems.items == []
    folder = project / "content/apps/gitlab-for-compass"
    assert (folder / "manifest.yml").read_bytes() == source.read_bytes()
    apps, loaded = load(project)
    # The skeleton validates except for the summary left to write.
    assert messages(loaded) == ["content/apps/gitlab-for-compass/app.yaml:6:10: summary: must not be empty (write one paragraph about what the app does)"]
    text = (folder / "app.yaml").read_text("utf-8").replace('summary: ""', "summary: Imports GitLab projects into Compass.")
    (folder / "app.yaml").write_text(text, "utf-8")
    apps, loaded = load(project)
    assert loaded.errors == []
    app = next(a for a in apps if a.slug == "gitlab-for-compass")
    justifications = [p for p in loaded.warnings if p.key in ("scopes", "egress")]
    assert len(justifications) == len(app.manifest.scopes) + len({e.address for e in app.manifest.egress})
    assert [p.key for p in loaded.warnings if p not in justifications] == ["data_stored"]  # storage:app, nothing listed
    assert all(row.why == "" for row in app.permissions + app.egress)


def test_app_add_refuses_to_overwrite(project: Path) -> None:
    manifest = project / "content/apps/analytics-only/manifest.yml"
    before = (project / "content/apps/analytics-only/app.yaml").read_bytes()
    problems = add_app(project, manifest, None)
    assert len(problems.errors) == 1 and "already exists" in problems.errors[0].message
    problems = add_app(project, manifest, "Analytics-Only")
    assert len(problems.errors) == 1 and "not a valid app slug" in problems.errors[0].message
    assert (project / "content/apps/analytics-only/app.yaml").read_bytes() == before


def test_app_add_refuses_a_file_that_is_not_a_manifest(project: Path) -> None:
    problems = add_app(project, FIXTURES / "manifests/not-a-manifest.yml", "site")
    assert len(problems.errors) == 1 and "is not a Forge manifest" in problems.errors[0].message
    assert not (project / "content/apps/site").exists()
    assert not [p for p in (project / "content/apps").iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_app_add_needs_a_project(tmp_path: Path) -> None:
    problems = add_app(tmp_path, FIXTURES / "manifests/no-scopes.yml", "x")
    assert "folder not found" in problems.errors[0].message


def test_skeleton_quotes_every_key_and_lists_remotes() -> None:
    problems = Problems()
    document = load_yaml(FIXTURES / "manifests/remotes-regions.yml", "m.yml", problems)
    skeleton = app_skeleton("remote-app", parse_manifest(document, problems))
    parsed = parse_yaml(skeleton, "app.yaml", problems)
    assert problems.errors == []
    assert parsed.data["scopes"] == {"read:jira-work": ""} and parsed.data["egress"] == {}
    assert parsed.data["remotes"] == {"remote-backend": "", "logging": ""}
    assert parsed.data["name"] == "Remote App"
    assert slug_from(Path("/x/My_Forge App/manifest.yml")) == "my-forge-app"
