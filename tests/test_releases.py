"""Releases end to end: freezing, the lock, every refusal, tamper detection, drafts and permanent pages.

Most tests use ``history``: the versions fixture released as 1.0, 1.1 and 1.2 in a temporary
project, with the site built after each release on a different day. Tests that change a project
copy a snapshot first.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from site_builder.commands import freeze
from site_builder.releases import lockfile
from site_builder.content.dates import long_date
from site_builder.errors import Problems
from site_builder.releases.project import load_project
from site_builder.releases.history import draft_status
from versions_tools import TODAY, History, build, files_under, new_project, release, set_working, today, tree

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return History(tmp_path_factory.mktemp("history"))


@pytest.fixture
def released(history: History, tmp_path: Path) -> Path:
    """A private copy of the project right after release 1.0."""
    project = tmp_path / "project"
    shutil.copytree(history.snapshots["1.0"], project, symlinks=True)
    return project


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def content_tree(project: Path) -> dict[str, str]:
    return tree(project / "content")


# --- the release flow ---------------------------------------------------------------------------


def test_release_freezes_the_working_copy_and_records_it(history: History) -> None:
    content = history.snapshots["1.0"] / "content"
    run = history.runs["1.0"]
    assert "Released version 1.0, effective 1 July 2025" in run.out
    frozen = content / "releases/1.0"
    # exactly the working copy's files, byte for byte, plus the record
    working = {p.relative_to(content).as_posix(): p.read_bytes() for p in content.rglob("*") if p.is_file() and p.relative_to(content).parts[0] in ("site.yaml", "policy", "apps")}
    copied = {p.relative_to(frozen).as_posix(): p.read_bytes() for p in frozen.rglob("*") if p.is_file()}
    assert copied.pop("release.yaml") == b'# Frozen by \'site-builder release\': this release\'s version, date and summary.\n# Never edit it; releases.yaml must agree with it, and releases.lock holds its SHA-256.\nversion: "1.0"\ndate: 2025-07-01\nsummary: "First published version."\n'
    assert copied == working
    assert (content / "releases.yaml").read_text("utf-8").endswith('releases:\n  - version: "1.0"\n    date: 2025-07-01\n    summary: "First published version."\n')
    # the lock: one sha256sum line per frozen file, sorted, each hash right
    lines = (content / "releases.lock").read_text("utf-8").splitlines()
    assert len(lines) == len(copied) + 1
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths) and all(p.startswith("releases/1.0/") for p in paths)
    for line in lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((content / path).read_bytes()).hexdigest() == digest
    assert (content / "releases/.gitattributes").read_text("utf-8").endswith("* -text\n")


def test_the_lock_is_checked_by_sha256sum_too(history: History) -> None:
    sha256sum = shutil.which("sha256sum")
    if sha256sum is None:
        pytest.skip("sha256sum (GNU coreutils) not installed")
    result = subprocess.run([sha256sum, "--strict", "-c", "releases.lock"], cwd=history.snapshots["1.2"] / "content", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len((history.snapshots["1.2"] / "content/releases.lock").read_text().splitlines())


def test_later_releases_append_and_never_rewrite(history: History) -> None:
    before = (history.snapshots["1.0"] / "content/releases.lock").read_bytes()
    after = (history.snapshots["1.1"] / "content/releases.lock").read_bytes()
    assert after.startswith(before) and b"releases/1.1/" in after[len(before):] and b"releases/1.0/" not in after[len(before):]
    yaml_before = (history.snapshots["1.0"] / "content/releases.yaml").read_bytes()
    yaml_after = (history.snapshots["1.1"] / "content/releases.yaml").read_bytes()
    assert yaml_after.startswith(yaml_before)
    # release 1.0's frozen folder is untouched by 1.1 and 1.2
    assert tree(history.snapshots["1.0"] / "content/releases/1.0") == tree(history.snapshots["1.2"] / "content/releases/1.0")


def test_the_site_has_every_version_page(history: History) -> None:
    out = history.builds["1.2"]
    for path in ("versions/index.html", "versions/1.0/index.html", "versions/1.1/index.html", "versions/1.2/index.html",
                 "changes/1.0...1.1/index.html", "changes/1.1...1.2/index.html", "feed.xml",
                 "versions/1.0/apps/beta/index.html", "versions/1.1/apps/gamma/index.html", "versions/1.0/apps/index.html"):
        assert (out / path).is_file(), path
    assert not (out / "changes/1.0...1.2").exists()  # consecutive pairs only
    assert not (out / "versions/1.1/apps/beta").exists()  # beta was removed in 1.1


def test_the_latest_release_is_at_the_root_and_at_its_version_url(history: History) -> None:
    out = history.builds["1.2"]
    root, version = soup(out / "index.html"), soup(out / "versions/1.2/index.html")
    assert root.find("link", rel="canonical")["href"] == "https://versions.example/trust/versions/1.2/"
    assert version.find("link", rel="canonical")["href"] == "https://versions.example/trust/versions/1.2/"
    assert soup(out / "versions/1.0/index.html").find("link", rel="canonical")["href"] == "https://versions.example/trust/versions/1.0/"
    # same content: the article is the same text, links aside
    assert root.find("article").get_text() == version.find("article").get_text()
    assert "keeps this short policy" in root.find("article").get_text()
    assert version.find(id="superseded") is None


def test_older_versions_say_they_are_superseded_and_link_to_the_current_one(history: History) -> None:
    out = history.builds["1.2"]
    page = soup(out / "versions/1.0/index.html")
    notice = page.find(id="superseded")
    assert " ".join(notice.get_text().split()).startswith("Version 1.0, effective 1 July 2025, superseded by 1.1 on 1 September 2025.")
    links = {a.get_text(): a["href"] for a in notice.find_all("a")}
    assert links["Read the current version"] == "../../index.html"
    assert links["1.1"] == "../../versions/1.1/index.html"
    assert links["what changed in version 1.1"] == "../../changes/1.0...1.1/index.html"
    # the frozen page shows the frozen text and the frozen apps
    text = page.find("article").get_text()
    assert "TLS 1.2 or later" in text and "Legacy hosting" in text and "Incident response" not in text
    assert page.find("a", href="../../versions/1.0/apps/beta/index.html") is not None
    assert not page.find_all("a", href=re.compile(r"^(\.\./)*apps/"))  # never the current apps
    middle = soup(out / "versions/1.1/index.html").find(id="superseded")
    assert "superseded by 1.2 on 15 November 2025" in " ".join(middle.get_text().split())


def test_the_versions_index_lists_every_release(history: History) -> None:
    page = soup(history.builds["1.2"] / "versions/index.html")
    rows = page.find("table", class_="versions-table").find("tbody").find_all("tr")
    cells = [[" ".join(c.get_text().split()) for c in row.find_all(["th", "td"])] for row in rows]
    assert cells == [
        ["Version 1.2", "15 November 2025", "In effect", "Wording of the introduction.", "Changes from 1.1"],
        ["Version 1.1", "1 September 2025", "Superseded by 1.2 on 15 November 2025", "TLS 1.3, incident response; Alpha sends issue keys to its own service.", "Changes from 1.0"],
        ["Version 1.0", "1 July 2025", "Superseded by 1.1 on 1 September 2025", "First published version.", "First version"],
    ]
    assert rows[1].find("a", string="Changes from 1.0")["href"] == "../changes/1.0...1.1/index.html"
    assert page.find("link", rel="alternate", type="application/atom+xml")["href"] == "https://versions.example/trust/feed.xml"  # a subscription is to the published address


# --- the pages of a release never change once final ----------------------------------------------


def test_release_pages_are_byte_identical_once_a_later_release_exists(history: History) -> None:
    """After 1.1 exists, 1.0's pages never change again: not with release 1.2, not with a later build date."""
    after_11, after_12 = history.builds["1.1"], history.builds["1.2"]
    for prefix in ("versions/1.0", "changes/1.0...1.1"):
        before, after = files_under(after_11, prefix), files_under(after_12, prefix)
        assert before and before == after, prefix
    # and 1.1's apps and changes pages were final from the start (only its version page gains a notice)
    assert files_under(after_11, "versions/1.1/apps") == files_under(after_12, "versions/1.1/apps")


def test_release_pages_before_and_after_the_next_release(history: History) -> None:
    """Release 1.0's pages before 1.1 and after it: byte-identical, but for the one notice that says 1.0 is superseded.

    A page cannot say "superseded by 1.1 on 1 September 2025" before 1.1 exists, and without
    scripts (forbidden) the words must be in the page itself; so the version page gains exactly
    that element, once, and nothing else on any page of release 1.0 changes.
    """
    before, after = files_under(history.builds["1.0"], "versions/1.0"), files_under(history.builds["1.1"], "versions/1.0")
    assert set(before) == set(after)
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {"versions/1.0/index.html"}
    old, new = before["versions/1.0/index.html"].decode(), after["versions/1.0/index.html"].decode()
    notice = soup(history.builds["1.1"] / "versions/1.0/index.html").find(id="superseded")
    block = re.search(r'<div class="notice superseded-notice" id="superseded" role="note">\n.*?\n</div>\n', new, re.S).group(0)
    assert "superseded by" in block and notice is not None
    assert new.replace(block, "", 1) == old


def test_the_root_page_of_a_release_matches_its_version_page(history: History) -> None:
    """Before 1.1, release 1.0 at / and at /versions/1.0/ show the same policy."""
    out = history.builds["1.0"]
    assert soup(out / "index.html").find("article").get_text() == soup(out / "versions/1.0/index.html").find("article").get_text()


# --- refusals -------------------------------------------------------------------------------------


def refused(project: Path, version: str, day: str, *fragments: str, summary: str = "A change.") -> None:
    """The release is refused with every fragment in its messages, and content/ is exactly as it was."""
    before = content_tree(project)
    run = release(project, version, day, summary)
    assert run.code == 1, run.out + run.err
    for fragment in fragments:
        assert fragment in run.err + run.out, f"{fragment!r} not in:\n{run.err}{run.out}"
    assert "nothing was changed" in run.out + run.err
    assert content_tree(project) == before


def test_refuses_an_existing_version(released: Path) -> None:
    set_working(released, "v2")
    refused(released, "1.0", "2025-09-01", "version 1.0 exists, released on 2025-07-01")
    refused(released, "1.0.0", "2025-09-01", "version 1.0.0 is the same number as 1.0")


def test_refuses_a_version_not_greater_than_the_last(released: Path) -> None:
    set_working(released, "v2")
    refused(released, "0.9", "2025-09-01", "0.9 is not greater than the latest release, 1.0")
    # dotted numbers compare numerically: 1.10 > 1.9
    assert release(released, "1.9", "2025-09-01").code == 0
    intro = released / "content/policy/01-introduction.md"
    intro.write_text(intro.read_text("utf-8") + "\nOne more line.\n", "utf-8")
    refused(released, "1.8", "2025-09-02", "1.8 is not greater than the latest release, 1.9")
    run = release(released, "1.10", "2025-09-02")
    assert run.code == 0, run.err
    assert "version 1.10" in run.out.lower()


def test_refuses_a_date_before_the_previous_release(released: Path) -> None:
    set_working(released, "v2")
    refused(released, "1.1", "2025-06-30", "2025-06-30 is before the latest release's date, 2025-07-01 (version 1.0)")
    assert release(released, "1.1", "2025-07-01").code == 0  # the same day is fine


def test_refuses_a_date_in_the_future(released: Path) -> None:
    set_working(released, "v2")
    refused(released, "1.1", "2025-10-02", "2025-10-02 is in the future (today is 2025-10-01)")


def test_refuses_a_project_whose_build_has_errors(released: Path) -> None:
    set_working(released, "v2")
    (released / "content/policy/05-incident-response.md").write_text("no front matter here\n", "utf-8")
    refused(released, "1.1", "2025-09-01", "content/policy/05-incident-response.md:1:1: has no front matter", "the project has errors, so it cannot be released")


def test_refuses_a_project_whose_releases_were_tampered_with(released: Path) -> None:
    set_working(released, "v2")
    frozen = released / "content/releases/1.0/policy/02-encryption.md"
    frozen.write_text(frozen.read_text("utf-8").replace("1.2", "1.3"), "utf-8")
    refused(released, "1.1", "2025-09-01", "content/releases/1.0/policy/02-encryption.md: was changed after release 1.0 was frozen")


def test_refuses_when_nothing_changed(released: Path) -> None:
    refused(released, "1.1", "2025-09-01", "nothing changed since release 1.0")


def test_refuses_when_the_strict_build_has_warnings(released: Path) -> None:
    set_working(released, "v2")
    app = released / "content/apps/gamma/app.yaml"
    app.write_text(app.read_text("utf-8").replace("egress:\n  in.accoil.com: Anonymous feature-usage counts.\n", ""), "utf-8")
    before = content_tree(released)
    with today():
        from conftest import run_cli

        run = run_cli("release", "1.1", "--date", "2025-09-01", "--summary", "x", "--project", released, "--strict")
    assert run.code == 1 and "has no justification" in run.err
    assert content_tree(released) == before
    assert release(released, "1.1", "2025-09-01").code == 0  # a warning alone does not stop a release


@pytest.mark.parametrize(
    ("version", "summary", "message"),
    [
        ("1.1a", "ok", "'1.1a' is not a version number"),
        ("01.1", "ok", "'01.1' is not a version number"),
        ("1..1", "ok", "'1..1' is not a version number"),
        ("1.1", "   ", "--summary: is empty"),
        ("1.1", "bidi \u202etrick", "--summary: contains control or invisible formatting characters"),
        ("1.1", "x" * 301, "--summary: is 301 characters long, over 300"),
    ],
)
def test_refuses_bad_arguments(released: Path, version: str, summary: str, message: str) -> None:
    set_working(released, "v2")
    refused(released, version, "2025-09-01", message, summary=summary)


def test_refuses_a_bad_date_argument(released: Path) -> None:
    from conftest import run_cli

    run = run_cli("release", "1.1", "--date", "1/9/2025", "--summary", "x", "--project", released)
    assert run.code == 2 and "'1/9/2025' is not a date; write YYYY-MM-DD" in run.err


def test_never_overwrites_a_leftover_release_folder(released: Path) -> None:
    set_working(released, "v2")
    leftover = released / "content/releases/1.1"
    leftover.mkdir()
    (leftover / "notes.txt").write_text("mine", "utf-8")
    refused(released, "1.1", "2025-09-01", "content/releases/1.1/")
    assert (leftover / "notes.txt").read_text("utf-8") == "mine"


def test_a_multi_line_summary_becomes_one_line(released: Path) -> None:
    set_working(released, "v2")
    assert release(released, "1.1", "2025-09-01", "TLS 1.3\n  and   incident response").code == 0
    assert 'summary: "TLS 1.3 and incident response"' in (released / "content/releases.yaml").read_text("utf-8")


# --- releases.yaml: the user's text is kept ----------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "expected_tail"),
    [
        ('# my notes\nreleases:\n# first one\n- version: "1.0"   # approved by legal\n  date: 2025-07-01\n  summary: "First published version."\n# end of list\n',
         '# end of list\n- version: "1.1"\n  date: 2025-09-01\n  summary: "Next."\n'),
        ('releases:\n    -   version: "1.0"\n        date: 2025-07-01\n        summary: "First published version."',
         'summary: "First published version."\n    -   version: "1.1"\n        date: 2025-09-01\n        summary: "Next."\n'),
    ],
)
def test_appending_keeps_comments_and_layout(released: Path, layout: str, expected_tail: str) -> None:
    (released / "content/releases.yaml").write_text(layout, "utf-8")
    set_working(released, "v2")
    run = release(released, "1.1", "2025-09-01", "Next.")
    assert run.code == 0, run.err
    text = (released / "content/releases.yaml").read_text("utf-8")
    assert text.startswith(layout.rstrip("\n")) and text.endswith(expected_tail)


def test_appending_keeps_crlf_line_endings_and_a_byte_order_mark(released: Path) -> None:
    original = (released / "content/releases.yaml").read_bytes()
    crlf = b"\xef\xbb\xbf" + original.replace(b"\n", b"\r\n")
    (released / "content/releases.yaml").write_bytes(crlf)
    set_working(released, "v2")
    assert release(released, "1.1", "2025-09-01", "Next.").code == 0
    after = (released / "content/releases.yaml").read_bytes()
    assert after.startswith(crlf) and after.endswith(b'  - version: "1.1"\r\n    date: 2025-09-01\r\n    summary: "Next."\r\n')
    assert b"\n" not in after.replace(b"\r\n", b"")


def test_the_first_release_fills_an_empty_flow_list(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    (project / "content/releases.yaml").write_text("# our releases\nreleases: []  # none yet\n", "utf-8")
    assert release(project, "1.0", "2025-07-01", "First.").code == 0
    assert (project / "content/releases.yaml").read_text("utf-8") == '# our releases\nreleases:  # none yet\n  - version: "1.0"\n    date: 2025-07-01\n    summary: "First."\n'


def test_a_layout_that_cannot_be_extended_is_refused_with_the_lines_to_add(released: Path) -> None:
    (released / "content/releases.yaml").write_text('releases: [{version: "1.0", date: 2025-07-01, summary: "First published version."}]\n', "utf-8")
    set_working(released, "v2")
    refused(released, "1.1", "2025-09-01", "has a layout this command cannot append to", '  - version: "1.1"')


# --- writing is all or nothing ------------------------------------------------------------------


def test_a_failure_while_writing_leaves_everything_as_it_was(released: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_working(released, "v2")
    before = content_tree(released)
    problems = Problems()
    with today():
        plan = freeze.plan_release(released, "1.1", date(2025, 9, 1), "Next.", TODAY, problems)
    assert plan is not None, problems.items
    real_replace = os.replace

    def failing_replace(source, target):
        if str(target).endswith("releases.yaml"):
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(freeze.os, "replace", failing_replace)
    with pytest.raises(OSError):
        freeze.commit_release(released, plan)
    assert content_tree(released) == before  # the folder, the lock and every temporary file are gone


def test_a_file_saved_meanwhile_is_never_overwritten(released: Path) -> None:
    set_working(released, "v2")
    problems = Problems()
    with today():
        plan = freeze.plan_release(released, "1.1", date(2025, 9, 1), "Next.", TODAY, problems)
    assert plan is not None
    releases_yaml = released / "content/releases.yaml"
    releases_yaml.write_text(releases_yaml.read_text("utf-8") + "# a note saved in an editor\n", "utf-8")
    before = content_tree(released)
    with pytest.raises(freeze.ReleaseConflict):
        freeze.commit_release(released, plan)
    assert content_tree(released) == before


# --- tamper detection ------------------------------------------------------------------------------


def change(project: Path) -> str:
    file = project / "content/releases/1.0/policy/02-encryption.md"
    file.write_text(file.read_text("utf-8").replace("TLS 1.2", "TLS 1.3"), "utf-8")
    return "content/releases/1.0/policy/02-encryption.md: was changed after release 1.0 was frozen (its SHA-256 differs from content/releases.lock line"


def add(project: Path) -> str:
    (project / "content/releases/1.0/policy/09-added.md").write_text("---\ntitle: Added\nanchor: added\n---\nLater.\n", "utf-8")
    return "content/releases/1.0/policy/09-added.md: was added to release 1.0 after it was frozen"


def delete(project: Path) -> str:
    (project / "content/releases/1.0/apps/alpha/manifest.yml").unlink()
    return "content/releases/1.0/apps/alpha/manifest.yml: was deleted from release 1.0 after it was frozen"


def add_hidden(project: Path) -> str:
    (project / "content/releases/1.0/.notes").write_text("x", "utf-8")
    return "content/releases/1.0/.notes: was added to release 1.0"


def link(project: Path) -> str:
    (project / "content/releases/1.0/policy/02-encryption.md").unlink()
    (project / "content/releases/1.0/policy/02-encryption.md").symlink_to(project / "content/policy/02-encryption.md")
    return "content/releases/1.0/policy/02-encryption.md: is a symbolic link"


def delete_folder(project: Path) -> str:
    shutil.rmtree(project / "content/releases/1.0")
    return "content/releases/1.0/: release 1.0 was deleted after it was frozen"


def redate(project: Path) -> str:
    file = project / "content/releases.yaml"
    file.write_text(file.read_text("utf-8").replace("date: 2025-07-01", "date: 2025-06-01"), "utf-8")
    return "date '2025-06-01' differs from the frozen record's '2025-07-01' in content/releases/1.0/release.yaml"


def resummarise(project: Path) -> str:
    file = project / "content/releases.yaml"
    file.write_text(file.read_text("utf-8").replace("First published version.", "Second thoughts."), "utf-8")
    return "summary 'Second thoughts.' differs from the frozen record's"


def unlist(project: Path) -> str:
    (project / "content/releases.yaml").write_text("releases: []\n", "utf-8")
    return "content/releases.lock:1:1: records release 1.0, which releases.yaml does not list"


def drop_lock(project: Path) -> str:
    (project / "content/releases.lock").unlink()
    return "content/releases.lock: file not found, but releases.yaml lists releases"


def edit_lock(project: Path) -> str:
    file = project / "content/releases.lock"
    file.write_text(file.read_text("utf-8").replace("  releases/", " releases/", 1), "utf-8")
    return "content/releases.lock:1:1: is not a lock line"


def stray_folder(project: Path) -> str:
    (project / "content/releases/2.0").mkdir()
    (project / "content/releases/2.0/site.yaml").write_text("x: 1\n", "utf-8")
    return "content/releases/2.0/: is not a release: neither releases.yaml nor releases.lock lists it"


TAMPERING = [change, add, delete, add_hidden, link, delete_folder, redate, resummarise, unlist, drop_lock, edit_lock, stray_folder]


@pytest.mark.parametrize("tamper", TAMPERING, ids=[t.__name__ for t in TAMPERING])
def test_loading_fails_naming_what_was_tampered_with(released: Path, tamper) -> None:
    expected = tamper(released)
    problems = Problems()
    assert load_project(released, problems) is None
    messages = [str(p) for p in problems.sorted()]
    assert any(expected in m for m in messages), "\n".join(messages)
    assert all(p.severity == "error" for p in problems.items if "release" in p.message)


@pytest.mark.parametrize("tamper", [change, add, delete], ids=["changed", "added", "deleted"])
def test_a_build_fails_and_keeps_the_previous_site(released: Path, tmp_path: Path, tamper) -> None:
    out = tmp_path / "site"
    assert build(released, out).code == 0
    site_before = tree(out)
    expected = tamper(released)
    run = build(released, out)
    assert run.code == 1
    assert expected in run.err, run.err
    assert "Build failed; the previous output was left as it was." in run.out
    assert tree(out) == site_before


def test_an_untouched_project_passes_the_lock_check(history: History) -> None:
    problems = Problems()
    assert lockfile.verify(history.snapshots["1.2"] / "content", "content", ["1.0", "1.1", "1.2"], problems)
    assert not problems.items


# --- drafts ------------------------------------------------------------------------------------------


def test_edits_after_the_latest_release_are_a_draft(released: Path, tmp_path: Path) -> None:
    set_working(released, "v2")
    status = draft_status(released)
    assert status.latest == "1.0" and status.pending
    assert {(c.path, c.change) for c in status.changes} >= {("policy/05-incident-response.md", "added"), ("policy/04-legacy-hosting.md", "deleted"), ("site.yaml", "changed"), ("apps/beta/app.yaml", "deleted")}
    assert "changed since release 1.0" in status.describe()

    published = tmp_path / "published"
    assert build(released, published).code == 0
    page = soup(published / "index.html")
    text = page.get_text()
    assert "TLS 1.2 or later" in text and "Incident response" not in text
    assert page.find(class_="draft-banner") is None and page.find("meta", attrs={"name": "robots"}) is None
    assert not (published / "changes").exists()

    preview = tmp_path / "preview"
    run = build(released, preview, "--draft")
    assert run.code == 0 and "draft" in run.out
    page = soup(preview / "index.html")
    assert "Draft, not yet in effect." in page.find(class_="draft-banner").get_text()
    assert "TLS 1.3 or later" in page.get_text() and "Incident response" in page.get_text()
    draft_link = page.find("a", string=re.compile("what the draft changes since version 1.0"))
    assert draft_link["href"] == "changes/1.0...draft/index.html"
    changes = soup(preview / "changes/1.0...draft/index.html")
    assert "Changes from version 1.0 to the draft" in changes.find("h1").get_text()
    for html in preview.rglob("*.html"):
        robots = soup(html).find("meta", attrs={"name": "robots"})
        assert robots is not None and robots["content"] == "noindex", html
    # a released page in a draft preview shows released content and no draft banner (it is not a draft)
    frozen = soup(preview / "versions/1.0/index.html")
    assert frozen.find(class_="draft-banner") is None and "TLS 1.2 or later" in frozen.get_text()


def test_no_draft_when_the_working_copy_is_the_latest_release(history: History) -> None:
    status = draft_status(history.snapshots["1.2"])
    assert status.latest == "1.2" and not status.pending
    assert status.describe() == "The working copy is release 1.2; there is no draft."


def test_before_the_first_release_everything_is_a_draft(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    status = draft_status(project)
    assert status.latest is None and status.pending and status.show_draft
    out = tmp_path / "out"
    run = build(project, out)
    assert run.code == 0
    assert not (out / "versions").exists() and not (out / "feed.xml").exists()


# --- dates ----------------------------------------------------------------------------------------------


def test_every_page_shows_dates_unambiguously_in_time_elements(history: History) -> None:
    out = history.builds["1.2"]
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 20
    for html in pages:
        page = soup(html)
        times = page.find_all("time")
        assert times, html
        for element in times:
            day = date.fromisoformat(element["datetime"])
            assert element.get_text() == long_date(day), (html, element)
        footer = page.find(class_="edition-dates")
        assert footer is not None, html
        words = " ".join(footer.get_text().split())
        assert re.search(rf"effective \d{{1,2}} ({MONTHS}) \d{{4}}; last reviewed \d{{1,2}} ({MONTHS}) \d{{4}}\.$", words), (html, words)


def test_my_pages_never_show_a_date_outside_a_time_element(history: History) -> None:
    out = history.builds["1.2"]
    pages = [out / "index.html", out / "versions/index.html", *out.glob("versions/*/index.html"), *out.glob("changes/*/index.html")]
    for html in pages:
        page = soup(html)
        for element in page.find_all("time"):
            element.decompose()
        text = page.find("body").get_text(" ")
        assert not re.search(rf"\b\d{{1,2}} ({MONTHS}) \d{{4}}\b", text), html
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), html


def test_the_frozen_pages_show_the_frozen_dates(history: History) -> None:
    out = history.builds["1.2"]
    footer = soup(out / "versions/1.0/apps/alpha/index.html").find(class_="edition-dates")
    assert " ".join(footer.get_text().split()) == "Security Policy version 1.0, effective 1 July 2025; last reviewed 15 June 2025."
    facts = soup(out / "versions/1.1/index.html").find(id="document-facts")
    assert [t["datetime"] for t in facts.find_all("time")] == ["2025-09-01", "2025-08-20"]


# --- the diff command ----------------------------------------------------------------------------


def test_diff_command_prints_the_changes_readably(history: History) -> None:
    from conftest import run_cli

    run = run_cli("diff", "1.0", "1.1", "--project", history.snapshots["1.2"])
    assert run.code == 0, run.err
    out = run.out
    assert "Changes from version 1.0 (effective 1 July 2025) to version 1.1 (effective 1 September 2025)" in out
    assert "Critical fixes deployed: within [-5-]{+3+} days" in out
    assert "Data in transit uses TLS 1.[-2-]{+3+} or later." in out
    assert "REMOVED: Legacy hosting (#legacy-hosting)" in out and "ADDED: Incident response (#incident-response)" in out
    assert "    + scope write:issue:jira (Write in Jira)" in out
    assert "    + destination backend: https://api.alpha.example (may carry End-User Data)" in out
    assert "    Runs on Atlassian: eligible -> not eligible" in out
    assert "\x1b[" not in out  # no colour codes: readable in any terminal and log


def test_diff_command_json_and_unknown_versions(history: History) -> None:
    import json

    from conftest import run_cli

    run = run_cli("diff", "1.0", "1.1", "--project", history.snapshots["1.2"], "--format", "json")
    data = json.loads(run.out)
    assert data["from"] == "1.0" and data["to"] == "1.1"
    alpha = next(a for a in data["apps"] if a["slug"] == "alpha")
    assert [s["scope"] for s in alpha["scopesAdded"]] == ["write:issue:jira"]
    assert alpha["runsOnAtlassianBefore"]["eligible"] is True and alpha["runsOnAtlassianAfter"]["eligible"] is False
    missing = run_cli("diff", "1.0", "3.0", "--project", history.snapshots["1.2"])
    assert missing.code == 1 and "no version '3.0' (released versions: 1.0, 1.1, 1.2; 'draft' is the working copy)" in missing.err
    draft = run_cli("diff", "1.2", "draft", "--project", history.snapshots["1.2"])
    assert draft.code == 0 and "Nothing changed" in draft.out


# --- the changes page -------------------------------------------------------------------------------


def test_the_changes_page_marks_every_change_readably_without_colour(history: History) -> None:
    page = soup(history.builds["1.2"] / "changes/1.0...1.1/index.html")
    assert " ".join(page.find("h1").get_text().split()) == "Changes from version 1.0 to version 1.1"
    encryption = page.find(id="change-encryption")
    changed = encryption.find("p", class_="diff-change")
    assert [d.get_text() for d in changed.find_all("del")] == ["[removed: 2]"] and [i.get_text() for i in changed.find_all("ins")] == ["[added: 3]"]
    assert "diff-label" in str(changed.find("ins"))  # the words are there for screen readers and unstyled reading
    assert encryption.find("a")["href"] == "../../versions/1.1/index.html#encryption"
    assert page.find(id="change-legacy-hosting").find("a")["href"] == "../../versions/1.0/index.html#legacy-hosting"
    assert page.find(id="change-access-control").find(class_="diff-meta").get_text() == "Title: Access [removed: control][added: management]"
    review = " ".join(page.find(id="review").get_text().split())
    assert "Alpha: 1 scope added; 1 scope changed; 1 destination added; Runs on Atlassian: eligible → not eligible." in review
    assert "Beta: removed: it no longer has any access." in review and "Gamma: new app: 1 scope, 1 destination outside Atlassian; Runs on Atlassian: eligible." in review
    alpha = page.find(id="app-alpha")
    assert alpha.find("a")["href"] == "../../versions/1.1/apps/alpha/index.html"
    assert page.find(id="app-beta").find("a")["href"] == "../../versions/1.0/apps/beta/index.html"
    assert [i.get_text() for i in alpha.find_all("ins")][:2] == ["[added: Allows fetch.backend egress to https://api.alpha.example, which is not analytics without End-User Data.]", "[added: write:issue:jira]"]
    facts = page.find(id="facts")
    assert [t["datetime"] for t in facts.find_all("time")] == ["2025-06-15", "2025-08-20", "2025-06-15", "2025-08-20"]


@pytest.mark.validator
def test_version_and_changes_pages_are_valid_html(history: History) -> None:
    import json

    from quality_tools import NPM_TOOLS, VNU_JAR, java, require

    require(java() is not None, "Java (for the Nu HTML Checker)", "sudo apt-get install openjdk-17-jre-headless")
    require(VNU_JAR.is_file(), "the Nu HTML Checker", NPM_TOOLS)
    out = history.builds["1.2"]
    pages = [out / "index.html", out / "versions/index.html", *out.glob("versions/*/index.html"), *out.glob("versions/*/apps/*/index.html"), *out.glob("changes/*/index.html")]
    result = subprocess.run([java(), "-Xss8m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, pages)], capture_output=True, text=True, timeout=600)
    messages = json.loads(result.stderr)["messages"]
    assert not messages, "\n".join(f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in messages)


def test_two_releases_at_once_cannot_both_write(released: Path) -> None:
    set_working(released, "v2")
    (released / "content/.release-1.1.staging").mkdir()  # another release of 1.1 is being written
    before = content_tree(released)
    run = release(released, "1.1", "2025-09-01")
    assert run.code == 1 and "another 'site-builder release 1.1' is running, or one was interrupted" in run.err and "nothing was changed" in run.err
    assert content_tree(released) == before
