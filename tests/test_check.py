"""site-builder check: each rule against a tiny hand-made broken site, then the command end to end."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import FIXTURE_SITES, REPO_ROOT
from site_builder.check.site import check_project, check_site, check_unanswered
from site_builder.commands.init import starter_files
from site_builder.errors import Position, Problems

TODAY = date(2026, 3, 1)
BASE = "https://example.com/trust/"
GOOD_SECURITY_TXT = "Contact: mailto:security@example.com\nExpires: 2026-09-01T00:00:00.000Z\n"


def page(body: str, *, title: str = "<h1>Title</h1>", head: str = "", up: str = "") -> str:
    """A valid page around ``body``; ``title`` is replaced when a test is about headings."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>t</title>\n'
        f'<link rel="stylesheet" href="{up}static/site.css">\n{head}</head>\n<body>\n<main id="main">\n{title}\n{body}\n</main>\n</body>\n</html>\n'
    )


def make_site(root: Path, files: dict[str, str], *, security_txt: str | None = GOOD_SECURITY_TXT) -> Path:
    """Write ``files`` (path -> text) plus a front page, a style sheet and a security.txt."""
    out = root / "site"
    defaults = {"index.html": page("<p>Home</p>"), "static/site.css": "body { color: black; }\n"}
    if security_txt is not None:
        defaults[".well-known/security.txt"] = security_txt
    for path, text in {**defaults, **files}.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return out


def run(tmp_path: Path, files: dict[str, str], **kwargs) -> Problems:
    out = make_site(tmp_path, files, **{k: v for k, v in kwargs.items() if k == "security_txt"})
    return check_site(out, kwargs.get("today", TODAY), base_url=BASE, display="site")


def lines(problems: Problems) -> list[str]:
    return [str(p) for p in problems.sorted()]


def keys(problems: Problems) -> list[str]:
    return [p.key for p in problems.sorted()]


def test_a_clean_site_has_no_problems(tmp_path: Path) -> None:
    problems = run(tmp_path, {
        "index.html": page('<p id="a"><a href="#a">self</a> <a href="apps/">apps</a> <a href="apps/x/index.html#perm">perm</a> '
                           '<a href="https://other.example/">other site</a> <a href="mailto:a@example.com">mail</a> '
                           f'<a href="{BASE}apps/">absolute</a> <img src="static/logo.svg" alt=""></p>\n'
                           '<h2>Two</h2><h3>Three</h3><h2>Two again</h2>\n<table><tr><th>h</th></tr><tr><td>d</td></tr></table>'),
        "apps/index.html": page('<a href="../index.html#a">back</a> <a href="x/">x</a> <a href="/trust/apps/x/#perm">root-relative</a>', up="../"),
        "apps/x/index.html": page('<section id="perm"><h2>P</h2></section>', up="../../"),
        "static/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    })
    assert lines(problems) == []


def test_broken_internal_link_names_file_line_column_and_element(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<p>\n  <a href="apps/missing/">gone</a></p>')})
    assert lines(problems) == [
        'site/index.html:12:3: link: <a href="apps/missing/">: apps/missing/index.html does not exist in the site (fix the link, or the page it points to)'
    ]
    assert problems.has_errors()


def test_link_to_a_folder_without_index_is_broken(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<a href="static/">static</a>')})
    assert keys(problems) == ["link"]


def test_missing_anchor_on_another_page_and_on_the_same_page(tmp_path: Path) -> None:
    problems = run(tmp_path, {
        "index.html": page('<a href="other.html#nowhere">a</a> <a href="#also-nowhere">b</a> <a href="other.html#there">ok</a>'),
        "other.html": page('<p id="there">x</p>'),
    })
    messages = [p.message for p in problems.sorted()]
    assert keys(problems) == ["anchor", "anchor"]
    assert any('no element with id "nowhere" on other.html' in m for m in messages)
    assert any('no element with id "also-nowhere" on this page' in m for m in messages)


def test_percent_encoded_anchor_resolves(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<p id="a b">x</p><a href="#a%20b">a</a>')})
    # the id itself is invalid (a space), but the link resolves to it
    assert keys(problems) == ["id"]


def test_link_that_climbs_out_of_the_site(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<a href="../outside.html">out</a> <a href="/elsewhere/">root</a>')})
    assert keys(problems) == ["link", "link"]
    assert all("points outside the site" in p.message for p in problems.items)


def test_absolute_links_into_the_site_are_checked(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page("", head=f'<link rel="canonical" href="{BASE}versions/1.0/">\n')})
    assert keys(problems) == ["link"]
    assert "versions/1.0/index.html does not exist" in problems.items[0].message


def test_duplicate_ids(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<p id="x">one</p>\n<p id="x">two</p>')})
    assert lines(problems) == [
        'site/index.html:12:1: duplicate-id: <p id="x">: duplicate id "x" (first at line 11) (ids must be unique on a page; links to the later one go to the first)'
    ]


@pytest.mark.parametrize("title, count", [("", 0), ("<h1>One</h1><h1>Two</h1>", 2)])
def test_not_exactly_one_h1(tmp_path: Path, title: str, count: int) -> None:
    problems = run(tmp_path, {"index.html": page("<p>x</p>", title=title)})
    assert keys(problems) == ["h1"]
    assert f"has {count} <h1> elements" in problems.items[0].message


def test_skipped_heading_level(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page("<h2>Two</h2>\n<h4>Four</h4>\n<h2>Two</h2><h3>Three</h3>")})
    assert lines(problems) == [
        "site/index.html:12:1: heading-order: <h4> follows <h2>: heading level 3 is skipped (screen-reader users navigate by heading level; do not skip one)"
    ]


def test_image_without_alt(tmp_path: Path) -> None:
    problems = run(tmp_path, {
        "index.html": page('<img src="static/a.svg">\n<img src="static/a.svg" alt="">\n<img src="static/a.svg" alt="A chart">'),
        "static/a.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    })
    assert keys(problems) == ["img-alt"]
    assert '<img src="static/a.svg">: image without alt' in problems.items[0].message


def test_table_without_header_cells(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page("<table><tr><td>a</td></tr></table>\n<table><thead><tr><th>h</th></tr></thead></table>")})
    assert keys(problems) == ["table-header"]


def test_inline_script_style_and_event_handlers(tmp_path: Path) -> None:
    problems = run(tmp_path, {
        "index.html": page('<script>alert(1)</script>\n<style>p{}</style>\n<p style="color:red">x</p>\n<button type="button" onclick="go()">b</button>\n<a href="javascript:go()">j</a>'),
    })
    assert sorted(keys(problems)) == ["inline-script", "inline-script", "inline-script", "inline-style", "inline-style"]


@pytest.mark.parametrize("markup", [
    '<script src="https://cdn.example.net/x.js"></script>',
    '<img src="//cdn.example.net/a.png" alt="">',
    '<img src="static/a.png" srcset="static/a.png 1x, https://cdn.example.net/a2.png 2x" alt="">',
    '<link rel="preload" href="https://fonts.example.net/f.woff2" as="font">',
    '<img src="data:image/png;base64,AAAA" alt="">',
    '<iframe src="https://video.example.net/embed" title="v"></iframe>',
])
def test_resources_from_another_origin(tmp_path: Path, markup: str) -> None:
    problems = run(tmp_path, {"index.html": page(markup), "static/a.png": ""})
    assert keys(problems) == ["third-party"]


def test_style_sheet_from_another_origin(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page("", head='<link rel="stylesheet" href="https://cdn.example.net/x.css">\n')})
    assert keys(problems) == ["third-party"]
    assert "loaded from another origin" in problems.items[0].message


def test_links_to_other_sites_are_not_resources(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<a href="https://developer.atlassian.com/">docs</a>', head='<link rel="alternate" type="application/atom+xml" href="https://feeds.example.net/x">\n')})
    assert lines(problems) == []


def test_css_url_and_import_from_another_origin_and_missing_files(tmp_path: Path) -> None:
    problems = run(tmp_path, {
        "static/site.css": (
            "/* url(https://commented.example.net/out.png) is ignored */\n"
            '@import "https://fonts.example.net/css";\n'
            "body { background: url( 'https://cdn.example.net/bg.png' ); }\n"
            "h1 { background: url(../img/logo.svg); }\n"
            "h2 { background: url(missing.png); }\n"
        ),
        "img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    })
    assert lines(problems) == [
        'site/static/site.css:2:1: third-party: @import "https://fonts.example.net/css": loaded from another origin (a trust site makes no third-party requests; copy the file under static/)',
        "site/static/site.css:3:20: third-party: url( 'https://cdn.example.net/bg.png' ): loaded from another origin (a trust site makes no third-party requests; copy the file under static/)",
        "site/static/site.css:5:18: link: url(missing.png): static/missing.png does not exist in the site (fix the link, or the page it points to)",
    ]


def test_http_links(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<a href="http://example.com/">plain</a> <a href="HTTP://EXAMPLE.COM/">upper</a> <a href="https://example.com/">fine</a>')})
    assert keys(problems) == ["http", "http"]


def test_security_txt_missing(tmp_path: Path) -> None:
    problems = run(tmp_path, {}, security_txt=None)
    assert lines(problems) == [
        "site/.well-known/security.txt: security-txt: missing: researchers look here for how to report a vulnerability (rebuild with a site-builder that writes /.well-known/security.txt)"
    ]


@pytest.mark.parametrize("days, severity", [(-1, "error"), (0, "warning"), (29, "warning"), (30, None), (200, None)])
def test_security_txt_expiry(tmp_path: Path, days: int, severity: str | None) -> None:
    expires = TODAY + timedelta(days=days)
    problems = run(tmp_path, {}, security_txt=f"# comment\nContact: mailto:s@example.com\nExpires: {expires.isoformat()}T12:00:00.000Z\n")
    assert [p.severity for p in problems.items] == ([severity] if severity else [])
    if severity:
        assert problems.items[0].position == Position("site/.well-known/security.txt", 3, 1)
        assert expires.isoformat() in problems.items[0].message


@pytest.mark.parametrize("text", ["Contact: mailto:s@example.com\n", "Contact: mailto:s@example.com\nExpires: next year\n"])
def test_security_txt_without_a_readable_expires(tmp_path: Path, text: str) -> None:
    problems = run(tmp_path, {}, security_txt=text)
    assert keys(problems) == ["security-txt"] and problems.has_errors()


def test_missing_output_folder(tmp_path: Path) -> None:
    problems = check_site(tmp_path / "nothing", TODAY, display="nothing")
    assert lines(problems) == ["nothing: out: folder not found (build the site first, or name the folder with --out)"]


def test_unanswered_marketplace_fields_are_warnings() -> None:
    source = Position("content/apps/timer/app.yaml", 1, 1)
    edition = SimpleNamespace(apps=(SimpleNamespace(slug="timer", source=source), SimpleNamespace(slug="other", source=source)))
    problems = Problems()
    unanswered = lambda app: ["logDetails.isEndUserDataInLogs"] if app.slug == "timer" else []  # noqa: E731
    check_unanswered(edition, problems, (unanswered, {"logDetails.isEndUserDataInLogs": "Does the app write End-User Data to its logs?"}))
    assert [(p.severity, p.position, p.key) for p in problems.items] == [("warning", source, "marketplace")]
    assert "logDetails.isEndUserDataInLogs (Does the app write End-User Data to its logs?)" in problems.items[0].message


def test_the_publishing_kit_answers_are_what_check_reports() -> None:
    from site_builder.check.site import marketplace_questions

    found = marketplace_questions()
    assert found is not None, "site_builder.forge.privacy.unanswered_fields is gone: check can no longer report unanswered Marketplace fields"


# --- the project and the command ------------------------------------------------------------------


def starter_project(root: Path, today: date) -> Path:
    for relative, text in starter_files("Example", today).items():
        file = root / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return root


def renew_security_txt(out: Path, today: date) -> None:
    """The command tests are about the exit status, not about which helper writes security.txt."""
    (out / ".well-known").mkdir(exist_ok=True)
    (out / ".well-known/security.txt").write_text(f"Contact: mailto:security@example.com\nExpires: {(today + timedelta(days=180)).isoformat()}T00:00:00.000Z\n", "utf-8")


def test_review_date_older_than_the_interval_is_a_warning(tmp_path: Path, build_project) -> None:
    reviewed = date(2025, 1, 15)
    project = starter_project(tmp_path / "project", reviewed)
    out = tmp_path / "out"
    assert build_project(project, out).code == 0
    renew_security_txt(out, reviewed + timedelta(days=366))
    fresh = check_project(project, out, reviewed + timedelta(days=365), display="out")
    assert [p.key for p in fresh.items] == []
    stale = check_project(project, out, reviewed + timedelta(days=366), display="out")
    assert [(p.severity, p.key, p.position.path, p.position.line) for p in stale.items] == [("warning", "policy.last_reviewed", "content/site.yaml", 17)]
    assert "2025-01-15, 366 days ago (more than 365)" in stale.items[0].message


def test_review_interval_is_configurable(tmp_path: Path) -> None:
    reviewed = date(2025, 1, 15)
    project = starter_project(tmp_path / "project", reviewed)
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("  last_reviewed:", "  review_interval_days: 90\n  last_reviewed:"), "utf-8")
    out = make_site(tmp_path, {})
    problems = check_project(project, out, reviewed + timedelta(days=91), display="out")
    assert [p.key for p in problems.items] == ["policy.last_reviewed"]
    assert "(more than 90)" in problems.items[0].message


def test_check_command_exit_status(tmp_path: Path, build_project, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    today = date.today()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = starter_project(tmp_path / "project", today)
    out = tmp_path / "out"
    assert build_project(project, out).code == 0
    renew_security_txt(out, today)
    clean = run_cli("check", "--project", project, "--out", out)
    assert (clean.code, clean.err) == (0, "")
    assert "no errors" in clean.out

    index = out / "index.html"
    index.write_text(index.read_text("utf-8").replace("</main>", '<a href="nowhere.html">x</a></main>'), "utf-8")
    broken = run_cli("check", "--project", project, "--out", out)
    assert broken.code == 1
    assert "index.html" in broken.err and "nowhere.html does not exist" in broken.err
    assert broken.err.strip().endswith("1 error")


def test_build_check_runs_the_check_after_the_build(tmp_path: Path, build_project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = starter_project(tmp_path / "project", date.today())
    template = project / "templates/404.html"
    template.parent.mkdir()
    template.write_text('{% extends "base.html" %}{% block title %}x{% endblock %}{% block main %}<h1>Not here</h1><p style="color: red">gone</p>{% endblock %}\n', "utf-8")
    result = build_project(project, tmp_path / "out", "--check")
    assert result.code == 1
    assert "404.html" in result.err and "inline-style" in result.err
    assert (tmp_path / "out/404.html").is_file()  # the build itself succeeded and was written


@pytest.mark.parametrize("name", ["default", *sorted(p.name for p in FIXTURE_SITES.iterdir() if (p / "content/site.yaml").is_file())])
def test_the_sites_we_ship_and_test_pass_the_check(tmp_path: Path, build_project, name: str) -> None:
    """The default site and every buildable fixture: no errors (warnings, e.g. an old review date, are allowed)."""
    source = REPO_ROOT if name == "default" else FIXTURE_SITES / name
    project = tmp_path / "project"
    for part in ("content", "templates", "static") if name != "default" else ("content",):
        if (source / part).is_dir():
            shutil.copytree(source / part, project / part)
    out = tmp_path / "out"
    assert build_project(project, out).code == 0
    problems = check_project(project, out, date.today(), display="out")
    assert [str(p) for p in problems.errors] == []


def test_the_review_date_is_the_one_the_built_site_shows(tmp_path: Path, build_project, run_cli) -> None:
    """Released build: the latest release's site.yaml. Draft build (--draft): the working copy's."""
    reviewed = date(2025, 1, 15)
    project = starter_project(tmp_path / "project", reviewed)
    released = run_cli("release", "--project", project, "1.0", "--date", reviewed.isoformat(), "--summary", "First version.")
    assert released.code == 0, released.err
    site_yaml = project / "content/site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace(reviewed.isoformat(), (reviewed + timedelta(days=100)).isoformat()), "utf-8")
    today = reviewed + timedelta(days=400)
    assert build_project(project, tmp_path / "released").code == 0
    assert build_project(project, tmp_path / "draft", "--draft").code == 0

    stale = [p for p in check_project(project, tmp_path / "released", today).items if p.key == "policy.last_reviewed"]
    # the message names the published version; the position is the file an author edits (releases are frozen)
    assert [(p.position.path, p.position.line) for p in stale] == [("content/site.yaml", 17)]
    assert stale[0].message.startswith("version 1.0 of the policy was last reviewed on 2025-01-15, 400 days ago")
    assert "release a new version" in stale[0].hint
    assert [p for p in check_project(project, tmp_path / "draft", today).items if p.key == "policy.last_reviewed"] == []


def test_nested_tables_count_their_own_header_cells(tmp_path: Path) -> None:
    problems = run(tmp_path, {"index.html": page('<table id="outer"><tr><td><table id="inner"><tr><th>h</th></tr></table></td></tr></table>')})
    assert [(p.key, p.message) for p in problems.items] == [("table-header", '<table id="outer">: table without header cells')]


def test_messy_markup_is_read_as_a_browser_would(tmp_path: Path) -> None:
    """Upper-case tags, a '>' inside an attribute, unclosed elements, bytes that are not UTF-8: no crash, right places."""
    body = '<P title="a > b">x <IMG SRC="static/a.svg"> <a href="#nowhere">y</a>\n<table><tr><td>unclosed \xff'
    out = make_site(tmp_path, {"static/a.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"})
    (out / "index.html").write_bytes(page(body).encode("utf-8").replace("\xff".encode("utf-8"), b"\xff"))
    problems = check_site(out, TODAY, base_url=BASE, display="site")
    assert lines(problems) == [
        'site/index.html:11:20: img-alt: <img src="static/a.svg">: image without alt (describe the image in alt="...", or use alt="" if it is decoration)',
        'site/index.html:11:45: anchor: <a href="#nowhere">: no element with id "nowhere" on this page (anchors are part of the public interface: fix the link or restore the id)',
        "site/index.html:12:1: table-header: <table>: table without header cells (mark the header row or column with <th> (a Markdown table's first row is one))",
    ]


@pytest.mark.parametrize("content", [b"", b"\x00\x01 not html", b"<html"])
def test_a_page_that_is_not_html_is_reported_not_a_crash(tmp_path: Path, content: bytes) -> None:
    out = make_site(tmp_path, {})
    (out / "index.html").write_bytes(content)
    assert keys(check_site(out, TODAY, base_url=BASE, display="site")) == ["h1"]
