"""The warm-build cache (.site-builder-cache/) and the streaming writer: faster, never different.

A warm build must write exactly the bytes a clean build writes; an edit, a template change or a
new site-builder version must never be answered from stale cache entries; a cache that is not
ours must not be trusted. The project is a small corpus from benchmarks/corpus.py: apps with
real scope names, egress and remotes, and two frozen releases with their lock.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
from pathlib import Path

import pytest

from site_builder import diskcache
from site_builder.progress import Progress

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import corpus  # noqa: E402


@pytest.fixture(autouse=True)
def private_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache's HMAC key lives in the user's cache folder: a temporary one for each test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    corpus.write_project(root, corpus.make_corpus(apps=6, releases=2))
    return root


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def inode(file: Path) -> int:
    return file.stat().st_ino


def build(build_project, project: Path, out: Path, *args: str) -> None:
    run = build_project(project, out, "--draft", *args)
    assert run.code == 0, run.err


def test_warm_build_is_byte_identical_to_a_clean_build_and_rewrites_nothing(build_project, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    assert (project / diskcache.CACHE_DIR / diskcache.CACHE_FILE).is_file()
    first = tree(out)
    app_page = next((out / "apps").glob("*/index.html"))
    before = inode(app_page)
    build(build_project, project, out)  # warm: nothing changed
    assert tree(out) == first
    assert inode(app_page) == before  # linked from the previous output, not rendered or written again
    clean = tmp_path / "clean"
    build(build_project, project, clean, "--no-cache")
    assert tree(clean) == first


def test_an_edit_rerenders_what_it_touches_and_matches_a_clean_build(build_project, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    index_before = (out / "index.html").read_bytes()
    app_folders = sorted((out / "apps").glob("*/index.html"))
    untouched, edited = app_folders[0], app_folders[1]
    untouched_inode = inode(untouched)
    section = sorted((project / "content" / "policy").glob("*.md"))[-1]
    section.write_text(section.read_text() + "\nA sentence added after the last build.\n")
    app_yaml = project / "content" / "apps" / edited.parent.name / "app.yaml"
    app_yaml.write_text(app_yaml.read_text().replace('summary: "', 'summary: "Edited. ', 1))
    build(build_project, project, out)
    assert b"A sentence added after the last build." in (out / "index.html").read_bytes() != index_before
    assert b"Edited. " in edited.read_bytes()
    assert inode(untouched) == untouched_inode  # an app page the edits do not touch is reused
    clean = tmp_path / "clean"
    build(build_project, project, clean, "--no-cache")
    assert tree(out) == tree(clean)


def test_a_removed_app_leaves_a_warm_build_and_nothing_of_it_stays(build_project, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    build(build_project, project, out)  # now the replaced output is kept beside out/ and recycled
    assert (tmp_path / ".out.previous").is_dir()
    slug = sorted((project / "content" / "apps").iterdir())[-1].name
    for file in (project / "content" / "apps" / slug).iterdir():
        file.unlink()
    (project / "content" / "apps" / slug).rmdir()
    build(build_project, project, out)
    assert not (out / "apps" / slug).exists()
    clean = tmp_path / "clean"
    build(build_project, project, clean, "--no-cache")
    assert tree(out) == tree(clean)


def test_a_template_change_invalidates_the_pages_that_use_it(build_project, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    app_page = next((out / "apps").glob("*/index.html"))
    templates = project / "templates"
    templates.mkdir()
    original = (REPO / "templates" / "app.html").read_text()
    (templates / "app.html").write_text(original.replace('<article class="app-page">', '<article class="app-page">\n<p>Overridden app page.</p>', 1))
    build(build_project, project, out)
    assert b"Overridden app page." in app_page.read_bytes()
    clean = tmp_path / "clean"
    build(build_project, project, clean, "--no-cache")
    assert tree(out) == tree(clean)


def test_another_version_of_site_builder_ignores_the_cache(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    assert diskcache.DiskCache.open(project).warm
    monkeypatch.setattr(diskcache, "__version__", "999.0")
    assert not diskcache.DiskCache.open(project).warm
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(diskcache, "code_fingerprint", lambda: "other code")
    assert not diskcache.DiskCache.open(project).warm
    first = tree(out)
    build(build_project, project, out)  # cold again, and the same site
    assert tree(out) == first


class _Planted:
    """Unpickling this would create a file: the proof that a cache not ours is never unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_cache_not_written_by_this_user_is_not_unpickled(build_project, project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    folder = project / diskcache.CACHE_DIR
    folder.mkdir()
    payload = pickle.dumps(_Planted(str(marker)))
    header = json.dumps(diskcache.identity(), sort_keys=True).encode() + b"\n"
    (folder / diskcache.CACHE_FILE).write_bytes(diskcache._MAGIC + b"\0" * 32 + header + payload)
    out = tmp_path / "out"
    build(build_project, project, out)
    assert not marker.exists()
    (folder / diskcache.CACHE_FILE).write_bytes(b"garbage")
    build(build_project, project, out)
    assert (out / "index.html").is_file()


def test_a_failed_build_keeps_the_previous_output(build_project, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(build_project, project, out)
    first = tree(out)
    (project / "content" / "site.yaml").write_text("base_url: [not, a, url]\n")
    run = build_project(project, out, "--draft")
    assert run.code == 1
    assert tree(out) == first
    assert not any(p.name.startswith(".out.staging") for p in tmp_path.iterdir())


def test_rendering_in_parallel_gives_the_same_site(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder import output

    monkeypatch.setattr(output, "MIN_PAGES_PER_WORKER", 1)
    build(build_project, project, tmp_path / "one", "--no-cache", "--jobs", "1")
    build(build_project, project, tmp_path / "three", "--no-cache", "--jobs", "3")
    assert tree(tmp_path / "three") == tree(tmp_path / "one")


def test_a_template_error_in_a_rendering_process_is_reported(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder import output

    monkeypatch.setattr(output, "MIN_PAGES_PER_WORKER", 1)
    (project / "templates").mkdir()
    (project / "templates" / "app.html").write_text('{% extends "base.html" %}{% block main %}{{ app.no_such_field }}{% endblock %}')
    run = build_project(project, tmp_path / "out", "--draft", "--no-cache", "--jobs", "2")
    assert run.code == 1
    assert "no_such_field" in run.err
    assert not (tmp_path / "out").exists()


def test_quiet_prints_nothing_on_success(build_project, project: Path, tmp_path: Path) -> None:
    run = build_project(project, tmp_path / "out", "--draft", "--quiet")
    assert (run.code, run.out, run.err) == (0, "", "")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_pages_done_on_a_terminal_only_after_a_second() -> None:
    now = [0.0]
    stream = _Terminal()
    progress = Progress(stream, clock=lambda: now[0])
    progress(10, 100)
    assert stream.getvalue() == ""  # a quick build shows nothing
    now[0] = 1.5
    progress(50, 100)
    assert stream.getvalue().endswith("Rendering pages 50/100")
    progress.finish()
    assert stream.getvalue().endswith("\r")


def test_progress_is_silent_when_not_a_terminal_or_quiet() -> None:
    now = [5.0]
    for progress in (Progress(io.StringIO(), clock=lambda: now[0]), Progress(_Terminal(), enabled=False, clock=lambda: now[0])):
        now[0] += 5
        progress(1, 2)
        progress.finish()
        assert progress.stream.getvalue() == ""


def test_the_cache_key_file_is_private(build_project, project: Path, tmp_path: Path) -> None:
    build(build_project, project, tmp_path / "out")
    key = diskcache.key_file()
    assert key.is_file() and oct(key.stat().st_mode & 0o777) == oct(0o600)
    assert not str(key).startswith(str(project))
    assert os.access(key, os.R_OK)
