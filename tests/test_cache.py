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
import shutil
import sys
from pathlib import Path

import pytest

from site_builder.cache import disk as diskcache
from site_builder import pipeline
from site_builder.content.dates import build_date
from site_builder.pipeline import BuildOptions, BuildResult
from site_builder.commands.progress import Progress

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
    section = sorted((project / "content" / "policy").glob("*.md"))[-1]
    section.write_text(section.read_text() + "\nA sentence, so that the next build is not up to date.\n")
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
    for name in (diskcache.STATE_FILE, diskcache.CACHE_FILE):
        (folder / name).write_bytes(diskcache._MAGIC + b"\0" * 32 + header + payload)
    out = tmp_path / "out"
    build(build_project, project, out)
    assert not marker.exists()
    for name in (diskcache.STATE_FILE, diskcache.CACHE_FILE):
        (folder / name).write_bytes(b"garbage")
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
    from site_builder.emit import stream as output

    monkeypatch.setattr(output, "MIN_PAGES_PER_WORKER", 1)
    build(build_project, project, tmp_path / "one", "--no-cache", "--jobs", "1")
    build(build_project, project, tmp_path / "three", "--no-cache", "--jobs", "3")
    assert tree(tmp_path / "three") == tree(tmp_path / "one")


def test_pages_a_rendering_process_writes_into_a_recycled_folder_are_kept(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last output, recycled as the staging folder, holds a file for every page; a forked renderer
    replaces its half of them, and the commit must not take those for leftovers of the old site."""
    from site_builder.emit import stream as output

    monkeypatch.setattr(output, "MIN_PAGES_PER_WORKER", 1)
    out = tmp_path / "out"
    build(build_project, project, out, "--jobs", "2")
    section = sorted((project / "content" / "policy").glob("*.md"))[0]
    section.write_text(section.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    build(build_project, project, out, "--jobs", "2")  # the output it replaces is kept, to be recycled
    assert (tmp_path / ".out.previous").is_dir()
    shutil.rmtree(project / ".site-builder-cache")  # every page rendered again, half of them by the other process
    build(build_project, project, out, "--jobs", "2")
    build(build_project, project, tmp_path / "clean", "--no-cache", "--jobs", "1")
    assert tree(out) == tree(tmp_path / "clean")


def test_a_template_error_in_a_rendering_process_is_reported(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.emit import stream as output

    monkeypatch.setattr(output, "MIN_PAGES_PER_WORKER", 1)
    (project / "templates").mkdir()
    (project / "templates" / "app.html").write_text('{% extends "base.html" %}{% block main %}{{ app.no_such_field }}{% endblock %}')
    run = build_project(project, tmp_path / "out", "--draft", "--no-cache", "--jobs", "2")
    assert run.code == 1
    assert "no_such_field" in run.err
    assert not (tmp_path / "out").exists()


def test_pages_written_as_they_are_rendered_are_the_same(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.emit import stream as output

    build(build_project, project, tmp_path / "whole", "--no-cache", "--jobs", "1")
    monkeypatch.setattr(output, "STREAM_BYTES", 64)  # every page past its first 64 bytes goes to disk as it is rendered
    monkeypatch.setattr(output, "_PIECES_PER_CHUNK", 3)
    build(build_project, project, tmp_path / "streamed", "--no-cache", "--jobs", "1")
    assert tree(tmp_path / "streamed") == tree(tmp_path / "whole")


def test_a_template_error_in_a_page_written_as_it_is_rendered_is_reported_as_before(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder.emit import stream as output

    (project / "templates").mkdir()
    (project / "templates" / "app.html").write_text('{% extends "base.html" %}{% block main %}{% for i in range(300) %}<p>padding {{ i }}</p>{% endfor %}{{ app.no_such_field }}{% endblock %}')
    whole = build_project(project, tmp_path / "out", "--draft", "--no-cache", "--jobs", "1")
    monkeypatch.setattr(output, "STREAM_BYTES", 64)
    streamed = build_project(project, tmp_path / "out", "--draft", "--no-cache", "--jobs", "1")
    assert streamed.code == whole.code == 1
    assert "no_such_field" in streamed.err and streamed.err == whole.err
    assert not (tmp_path / "out").exists()
    assert not any(p.name.startswith(".out.staging") for p in tmp_path.iterdir())


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


# ------------------------------------------------------------------ an unchanged project is not built again

EPOCH = "1796000000"


def build_in_process(project: Path, out: Path, *, draft: bool = True, strict: bool = False, use_cache: bool = True) -> BuildResult:
    """``site-builder build`` as the command runs it, for the result's ``up_to_date``."""
    result = pipeline.build(project, out, BuildOptions(build_date=build_date(), draft=draft, strict=strict), use_cache=use_cache)
    assert result.site is not None and not result.problems.has_errors(strict=strict), [str(p) for p in result.problems.items]
    return result


def clean_build(project: Path, out: Path, **options: bool) -> dict[str, bytes]:
    build_in_process(project, out, use_cache=False, **options)
    return tree(out)


def _nothing_may_be_loaded(*args: object, **kwargs: object) -> None:
    raise AssertionError("an up-to-date build loaded the project")


def test_an_unchanged_project_is_not_built_again(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out"
    first = build_in_process(project, out)
    assert not first.up_to_date
    files = tree(out)
    inodes = {path: inode(out / path) for path in files}
    monkeypatch.setattr(pipeline, "load_project", _nothing_may_be_loaded)
    again = build_in_process(project, out)
    assert again.up_to_date
    assert (again.page_count, again.site.file_count, again.draft, again.base_url) == (first.page_count, first.site.file_count, first.draft, first.base_url)
    assert tree(out) == files
    assert {path: inode(out / path) for path in files} == inodes  # not one file written or linked again
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert clean_build(project, tmp_path / "clean") == files


def _edit_section(project: Path) -> dict[str, bool]:
    section = sorted((project / "content" / "policy").glob("*.md"))[0]
    section.write_text(section.read_text() + "\nOne more sentence.\n")
    return {}


def _override_template(project: Path) -> dict[str, bool]:
    (project / "templates").mkdir()
    original = (REPO / "templates" / "app.html").read_text()
    (project / "templates" / "app.html").write_text(original.replace('<article class="app-page">', '<article class="app-page">\n<p>Overridden.</p>', 1))
    return {}


def _add_static_file(project: Path) -> dict[str, bool]:
    (project / "static").mkdir()
    (project / "static" / "extra.css").write_text("body { margin: 0; }\n")
    return {}


def _later_build_date(project: Path) -> dict[str, bool]:
    os.environ["SOURCE_DATE_EPOCH"] = str(int(EPOCH) + 90 * 86400)  # restored by monkeypatch
    return {}


@pytest.mark.parametrize(
    "change",
    [_edit_section, _override_template, _add_static_file, _later_build_date, lambda project: {"strict": True}, lambda project: {"draft": False}],
    ids=["content", "template", "static", "build-date", "strict", "release"],
)
def test_any_change_of_the_inputs_builds_again_and_matches_a_clean_build(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out"
    build_in_process(project, out)
    assert build_in_process(project, out).up_to_date
    options = change(project)
    again = build_in_process(project, out, **options)
    assert not again.up_to_date
    assert tree(out) == clean_build(project, tmp_path / "clean", **options)
    assert build_in_process(project, out, **options).up_to_date  # and now that build is the one remembered


def _delete_page(out: Path) -> None:
    next((out / "apps").glob("*/index.html")).unlink()


def _modify_page(out: Path) -> None:
    page = next((out / "apps").glob("*/index.html"))
    page.write_bytes(page.read_bytes().replace(b"<", b"[", 1))  # same size


def _add_file(out: Path) -> None:
    (out / "apps" / "stray.html").write_text("not ours")


def _add_folder(out: Path) -> None:
    (out / "stray").mkdir()


@pytest.mark.parametrize("tamper", [_delete_page, _modify_page, _add_file, _add_folder], ids=["deleted", "modified", "extra-file", "extra-folder"])
def test_an_output_folder_changed_since_the_last_build_is_built_again(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out"
    build_in_process(project, out)
    tamper(out)
    assert not build_in_process(project, out).up_to_date
    assert tree(out) == clean_build(project, tmp_path / "clean")
    assert not (out / "stray").exists()


def test_an_up_to_date_build_reports_the_same_warnings(build_project, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    section = sorted((project / "content" / "policy").glob("*.md"))[0]
    section.write_text("".join(line for line in section.read_text().splitlines(keepends=True) if not line.startswith("title:")))
    out = tmp_path / "out"
    first = build_project(project, out, "--draft")
    second = build_project(project, out, "--draft")
    assert first.code == second.code == 0
    assert "section has no title" in first.err
    assert (second.out, second.err) == (first.out, first.err)
    result = build_in_process(project, out)
    assert result.up_to_date
    assert [str(p) for p in result.problems.sorted()] == [line for line in first.err.splitlines() if "warning:" in line]


def test_a_warm_build_does_not_compile_unchanged_templates_again(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled templates are kept in the cache: a warm build compiles only the templates whose source changed."""
    import jinja2

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out"
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: object, **kwargs: object) -> object:
        compiled.append(name or "")
        return compile_source(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    build_in_process(project, out, use_cache=True)
    assert "app.html" in compiled and "base.html" in compiled
    compiled.clear()
    _edit_section(project)
    build_in_process(project, out)
    assert compiled == []
    _override_template(project)
    build_in_process(project, out)
    assert compiled == ["app.html"]  # the overridden template alone: the others' bytecode is still good
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert clean_build(project, tmp_path / "clean") == tree(out)


def test_a_file_edited_while_the_build_loads_is_never_taken_as_built(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build hashes its inputs first and its loaders reuse those digests. A file edited between
    the two reaches the loader, not the digest: neither the load memo nor the up-to-date shortcut
    may then remember the edited value under the old digest, or reverting the edit would keep it."""
    from site_builder.forge import apps

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "out"
    build_in_process(project, out)
    app_yaml = sorted((project / "content" / "apps").glob("*/app.yaml"))[0]
    before_build = app_yaml.read_text().replace('summary: "', 'summary: "Before the build. ', 1)
    app_yaml.write_text(before_build)
    load_app = apps.load_app

    def edited_while_loading(folder: Path, *args: object, **kwargs: object) -> object:
        if folder == app_yaml.parent:  # after the inputs' digest, before the read
            app_yaml.write_text(before_build.replace("Before the build. ", "During the build. ", 1))
        return load_app(folder, *args, **kwargs)

    monkeypatch.setattr(apps, "load_app", edited_while_loading)
    build_in_process(project, out)
    assert b"During the build. " in (out / "apps" / app_yaml.parent.name / "index.html").read_bytes()
    monkeypatch.setattr(apps, "load_app", load_app)
    app_yaml.write_text(before_build)  # the edit is taken back: the file is again what the build hashed
    again = build_in_process(project, out)
    assert not again.up_to_date
    assert b"Before the build. " in (out / "apps" / app_yaml.parent.name / "index.html").read_bytes()
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert clean_build(project, tmp_path / "clean") == tree(out)
