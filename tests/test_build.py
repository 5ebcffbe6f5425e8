"""`site-builder build` end to end on small fixture sites: the files, the page, overrides, the atomic swap, the CLI."""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from site_builder import __version__
from site_builder.cli import make_parser
from site_builder.emit.staging import MARKER, write_site


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``, hidden ones included, with the SHA-256 of each file."""
    digest: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        digest[relative] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "<dir>"
    return digest


def page(out: Path, name: str = "index.html") -> BeautifulSoup:
    return BeautifulSoup((out / name).read_text("utf-8"), "html.parser")


@pytest.fixture
def minimal_build(copy_fixture, build_project, tmp_path: Path) -> tuple[Path, Path]:
    project = copy_fixture("minimal", tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = build_project(project, out)
    assert code == 0, stderr
    return project, out


# --- what a build writes -------------------------------------------------------------------------


def test_build_writes_the_site_and_says_where(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    out = tmp_path / "site"
    code, stdout, stderr = build_project(project, out)
    assert code == 0
    match = re.fullmatch(r"Wrote (\d+) pages \((\d+) files, draft\) to (.*)/\n", stdout)
    assert match, stdout
    # without a release the site is a draft, and says so once as a warning
    assert "warning: no release yet, so the site is built as a draft" in stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert {MARKER, "404.html", "index.html", "static/css/site.css", "static/favicon.svg"} <= set(files)
    assert int(match.group(1)) == len([f for f in files if f.endswith(".html")])
    assert int(match.group(2)) == len(files) - 1  # all but the marker
    assert Path(match.group(3)).resolve() == out.resolve()
    # nothing is left beside the output: no staging or retired folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal", "site"]


def test_out_defaults_to_build_in_the_project(copy_fixture, run_cli, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    code, stdout, _ = run_cli("build", "--project", project)
    assert code == 0
    assert (project / "build" / "index.html").is_file()
    assert "build/" in stdout


def test_page_has_title_facts_toc_sections_contact_and_footer(minimal_build) -> None:
    _, out = minimal_build
    soup = page(out)
    assert soup.html["lang"] == "en"
    assert soup.title.get_text() == "Minimal Example Security Policy · Minimal Example trust center"
    assert [h.get_text() for h in soup.find_all("h1")] == ["Minimal Example Security Policy"]
    assert soup.find("link", rel="canonical")["href"] == "https://minimal.example/trust/"
    # draft: banner, no version number, noindex
    assert "Draft, not yet in effect." in soup.select_one(".draft-banner").get_text()
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert str(soup.select_one("#document-facts time")) == '<time datetime="2024-02-29">29 February 2024</time>'
    # table of contents: one link per section, in order, grouped
    toc = soup.select_one("nav#contents")
    assert [a["href"] for a in toc.find_all("a")] == ["#introduction", "#vulnerability-reporting"]
    assert toc.select_one(".toc-group").get_text() == "Incident response"
    # every section: a <section id=anchor> with an h2 title; sub-headings are h3
    sections = soup.select("section.policy-section")
    assert [s["id"] for s in sections] == ["introduction", "vulnerability-reporting"]
    assert [s.find("h2").get_text(strip=True) for s in sections] == ["Introduction", "Reporting a vulnerability"]
    assert sections[1].find("h3")["id"] == "vulnerability-reporting-what-happens-next"
    # the contact block
    card = soup.select_one("aside.contact-card")
    assert card.find("a", href="mailto:security@minimal.example")
    assert card.find("a", href="https://minimal.example/support")
    assert "within 2 business days" in card.get_text() and "within 5 days" in card.get_text()
    # the footer: organisation, address lines, email, website, copyright
    footer = soup.find("footer")
    text = footer.get_text(" ", strip=True)
    for fact in ("Minimal Example", "1 Test Street", "12345 Testville, Testland", "© 2024 Minimal Example"):
        assert fact in text
    assert footer.find("a", href="mailto:hello@minimal.example")
    assert footer.find("a", href="https://minimal.example")
    assert footer.find("a", href="mailto:security@minimal.example")


def test_pages_are_self_contained(minimal_build) -> None:
    """No inline script or style, no third-party requests: every loaded resource is a relative path."""
    _, out = minimal_build
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert {"index.html", "404.html"} <= set(names)
    for name in names:
        html = (out / name).read_text("utf-8")
        soup = BeautifulSoup(html, "html.parser")
        assert not soup.find_all(["script", "style", "iframe", "object", "embed"]), name
        assert not [tag.name for tag in soup.find_all(style=True)], name
        assert not [attr for tag in soup.find_all(True) for attr in tag.attrs if attr.lower().startswith("on")], name
        loaded = [tag.get("src") for tag in soup.find_all(src=True)] + [link["href"] for link in soup.find_all("link") if link.get("rel") != ["canonical"]]
        for url in loaded:
            assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url), f"{name} loads {url}"
    css = (out / "static/css/site.css").read_text("utf-8")
    assert "@import" not in css and "url(http" not in css and "url(//" not in css


def test_released_page_says_version_and_effective_date(copy_fixture, run_cli, build_project, tmp_path: Path) -> None:
    """After 'site-builder release', the trust page is that version: number, effective date, indexable, no banner."""
    project = copy_fixture("minimal", tmp_path)
    code, _, stderr = run_cli("release", "1.0", "--date", "2025-07-01", "--summary", "First published version", "--project", project)
    assert code == 0, stderr
    out = tmp_path / "out"
    code, stdout, stderr = build_project(project, out, "--strict")
    assert (code, stderr) == (0, "")
    assert "released" in stdout
    soup = page(out)
    line = soup.select_one(".version-line")
    assert " ".join(line.get_text(" ").split()) == "Version 1.0 · effective 1 July 2025"
    assert str(line.time) == '<time datetime="2025-07-01">1 July 2025</time>'
    effective = soup.find("dt", string="Effective").find_next_sibling("dd")
    assert str(effective.time) == '<time datetime="2025-07-01">1 July 2025</time>'
    assert not soup.select(".draft-banner")
    assert not soup.find("meta", attrs={"name": "robots"})


def test_404_page_links_work_from_any_address(minimal_build) -> None:
    _, out = minimal_build
    soup = page(out, "404.html")
    assert soup.find("h1").get_text() == "Page not found"
    assert soup.find("link", rel="stylesheet")["href"] == "/trust/static/css/site.css"
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"


def test_index_links_only_to_existing_files_and_anchors(minimal_build) -> None:
    _, out = minimal_build
    soup = page(out)
    ids = {tag["id"] for tag in soup.find_all(id=True)}
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if href.startswith("#"):
            assert href[1:] in ids, href
        elif not href.startswith(("https:", "mailto:")):
            assert (out / href.split("#")[0]).is_file(), href


# --- template and static overrides ---------------------------------------------------------------


def test_project_templates_and_static_win_over_the_default(copy_fixture, build_project, tmp_path: Path, repo_root: Path) -> None:
    project = copy_fixture("override", tmp_path)
    out = tmp_path / "out"
    code, _, stderr = build_project(project, out)
    assert code == 0, stderr
    soup = page(out)
    # base.html is the project's: its body class and footer; index.html is still the default's
    assert soup.body["class"] == ["project-override"]
    assert soup.select_one("footer.override-footer").get_text(strip=True) == "Footer from the project's own templates/base.html"
    assert not soup.select(".site-header")
    assert [s["id"] for s in soup.select("section.policy-section")] == ["introduction"]
    assert soup.title.get_text() == "Override Example Security Policy · Override Example"
    assert page(out, "404.html").body["class"] == ["project-override"]
    # static/: the project's site.css replaces the default; its extra file is added; the rest is the default's
    assert (out / "static/css/site.css").read_bytes() == (project / "static/css/site.css").read_bytes()
    assert (out / "static/extra.txt").read_bytes() == (project / "static/extra.txt").read_bytes()
    assert (out / "static/favicon.svg").read_bytes() == (repo_root / "static/favicon.svg").read_bytes()


def test_default_theme_is_used_without_overrides(minimal_build, repo_root: Path) -> None:
    _, out = minimal_build
    assert (out / "static/css/site.css").read_bytes() == (repo_root / "static/css/site.css").read_bytes()
    assert page(out).select_one("header.site-header")


def test_broken_template_override_is_reported_not_raised(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("override", tmp_path)
    (project / "templates/base.html").write_text("<p>{{ site.no_such_field }}</p>{% block main %}{% endblock %}\n", "utf-8")
    code, _, stderr = build_project(project, tmp_path / "out")
    assert code == 1
    assert "Traceback" not in stderr
    assert "no_such_field" in stderr
    assert not (tmp_path / "out").exists()


# --- the atomic swap -----------------------------------------------------------------------------


def test_failed_build_leaves_previous_output_byte_for_byte(minimal_build, build_project) -> None:
    project, out = minimal_build
    (out.parent / "unrelated.txt").write_text("beside the output", "utf-8")
    before = tree_digest(out)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("last_reviewed: 2024-02-29", "last_reviewed: 2024-02-30"), "utf-8")
    (project / "content/policy/01-introduction.md").write_text("Changed, and no front matter any more.\n", "utf-8")
    code, stdout, stderr = build_project(project, out)
    assert code == 1
    assert "Build failed; the previous output was left as it was." in stdout
    assert tree_digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["minimal", "out", "unrelated.txt"]


def test_failed_template_render_leaves_previous_output(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("override", tmp_path)
    out = tmp_path / "out"
    assert build_project(project, out).code == 0
    before = tree_digest(out)
    (project / "templates/base.html").write_text("{% block main %}{% endblock %}{{ undefined_variable }}\n", "utf-8")
    assert build_project(project, out).code == 1
    assert tree_digest(out) == before


def test_failure_while_writing_restores_previous_output(minimal_build, tmp_path: Path) -> None:
    """A write that fails half-way (here: a file where a folder must go) leaves the old site in place."""
    _, out = minimal_build
    before = tree_digest(out)
    with pytest.raises(OSError):
        write_site({"a.html": b"first", "a.html/b.html": b"cannot exist"}, out)
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal", "out"]


def test_successful_rebuild_replaces_the_whole_output(minimal_build, build_project) -> None:
    project, out = minimal_build
    (out / "stale.html").write_text("from an older build", "utf-8")
    intro = project / "content/policy/01-introduction.md"
    intro.write_text(intro.read_text("utf-8").replace("keeps a short policy", "keeps a shorter policy"), "utf-8")
    code, _, stderr = build_project(project, out)
    assert code == 0, stderr
    assert not (out / "stale.html").exists()
    assert "keeps a shorter policy" in (out / "index.html").read_text("utf-8")
    assert (out / MARKER).is_file()


def test_refuses_to_replace_a_folder_it_did_not_write(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work", "utf-8")
    before = tree_digest(out)
    code, stdout, stderr = build_project(project, out)
    assert code == 1
    assert f"{out.resolve()}: is not empty and was not written by site-builder (choose an empty or new folder, or remove it yourself)" in stderr.splitlines()
    assert tree_digest(out) == before


def test_builds_into_an_existing_empty_folder(copy_fixture, build_project, tmp_path: Path) -> None:
    project = copy_fixture("minimal", tmp_path)
    out = tmp_path / "empty"
    out.mkdir()
    assert build_project(project, out).code == 0
    assert (out / "index.html").is_file()


@pytest.mark.parametrize("where", [".", "content", "content/policy"])
def test_refuses_an_output_folder_that_holds_the_content(copy_fixture, build_project, tmp_path: Path, where: str) -> None:
    project = copy_fixture("minimal", tmp_path)
    before = tree_digest(project)
    code, _, stderr = build_project(project, project / where)
    assert code == 1
    assert "the output folder would contain or replace the project's own content" in stderr
    assert tree_digest(project) == before


# --- the command line ----------------------------------------------------------------------------


def test_version(run_cli) -> None:
    code, stdout, _ = run_cli("--version")
    assert (code, stdout) == (0, f"site-builder {__version__}\n")


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command (``app add`` too), found in the parser itself."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in sorted(action.choices.items()):
                found.append(prefix + (name,))
                found.extend(command_paths(sub, prefix + (name,)))
    return found


def test_help_on_every_command(run_cli) -> None:
    code, stdout, _ = run_cli("--help")
    assert code == 0 and stdout.startswith("usage: site-builder")
    commands = command_paths(make_parser())
    assert {("build",), ("init",)} <= set(commands)
    for command in commands:
        if len(command) == 1:
            assert command[0] in stdout, f"site-builder --help does not list {command[0]}"
        code, stdout_command, stderr = run_cli(*command, "--help")
        assert code == 0, (command, stderr)
        assert stdout_command.startswith(f"usage: site-builder {' '.join(command)}"), command
        assert "-h, --help" in stdout_command


def test_build_help_lists_its_options(run_cli) -> None:
    _, stdout, _ = run_cli("build", "--help")
    for option in ("--project", "--out", "--strict", "--draft"):
        assert option in stdout


def test_unknown_option_is_a_usage_error(run_cli) -> None:
    code, _, stderr = run_cli("build", "--no-such-option")
    assert code == 2
    assert "unrecognized arguments: --no-such-option" in stderr


def test_init_creates_a_project_that_builds(run_cli, build_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751328000")  # 2025-07-01
    target = tmp_path / "acme-security"
    code, stdout, _ = run_cli("init", target)
    assert code == 0
    assert stdout.startswith(f"Created a trust-center project in {target}/")
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == ["content/policy/01-introduction.md", "content/policy/02-vulnerability-reporting.md", "content/site.yaml"]
    site_yaml = yaml.safe_load((target / "content/site.yaml").read_text("utf-8"))
    assert site_yaml["organisation"]["name"] == "Acme Security"  # from the folder's name
    assert str(site_yaml["policy"]["last_reviewed"]) == "2025-07-01"  # today, from SOURCE_DATE_EPOCH
    code, _, stderr = build_project(target, target / "build")
    assert code == 0, stderr
    soup = page(target / "build")
    assert soup.find("h1").get_text() == "Security Policy for Acme Security Cloud Apps"
    assert [s["id"] for s in soup.select("section.policy-section")] == ["introduction", "vulnerability-reporting"]


def test_init_never_overwrites(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.txt").write_text("mine", "utf-8")
    code, _, stderr = run_cli("init", target)
    assert code == 1
    assert "already exists and is not empty" in stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("name", ["Example & Co", 'Acme: "Security" #1 \\ Ltd', "Ünïcode — Société"])
def test_init_name_option_builds_whatever_the_name(run_cli, build_project, tmp_path: Path, name: str) -> None:
    """The name goes into YAML: colons, quotes, '#' and backslashes must not break the starter project."""
    target = tmp_path / "x"
    assert run_cli("init", target, "--name", name).code == 0
    assert yaml.safe_load((target / "content/site.yaml").read_text("utf-8"))["organisation"]["name"] == name
    code, _, stderr = build_project(target, target / "build")
    assert code == 0, stderr
    assert page(target / "build").find("h1").get_text() == f"Security Policy for {name} Cloud Apps"


@pytest.mark.parametrize("warm", [False, True])
def test_a_build_leaves_the_garbage_collector_as_it_found_it(copy_fixture, tmp_path: Path, warm: bool) -> None:
    """A build keeps its model out of the collector's scans while it runs, and only while it runs:
    a process that builds (serve, a library user) must not be left with every object frozen."""
    import gc
    from datetime import date

    from site_builder.pipeline import BuildOptions, build, render_project

    project = copy_fixture("minimal", tmp_path)
    assert gc.get_freeze_count() == 0
    result = build(project, tmp_path / "site", BuildOptions(build_date=date(2026, 12, 4)), use_cache=warm)
    assert result.site is not None and not result.problems.has_errors()
    assert gc.get_freeze_count() == 0
    assert render_project(project, BuildOptions(build_date=date(2026, 12, 4))).site is not None
    assert gc.get_freeze_count() == 0
