"""Incremental rebuilds: an edit re-loads and re-renders only what depends on it, and the result is
byte-identical to a clean build of the same files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from conftest import REPO_ROOT
from site_builder.errors import Problems
from site_builder.cache.incremental import BuildCache, Fingerprinter, LoadMemo, RenderCache, analyse_template, iter_reads
from site_builder.pipeline import BuildOptions, render_project
from site_builder.render.engine import Page, RenderContext, render_site
from site_builder.render.theme import Theme

OPTIONS = BuildOptions(build_date=date(2025, 7, 1), draft=True)


@pytest.fixture
def project(copy_fixture, tmp_path: Path) -> Path:
    return copy_fixture("preview", tmp_path)


def clean(project: Path) -> dict[str, bytes]:
    result = render_project(project, OPTIONS)
    assert result.site is not None, [str(p) for p in result.problems.errors]
    return result.site.files


def incremental(project: Path, cache: BuildCache) -> dict[str, bytes]:
    cache.reset_stats()
    result = render_project(project, OPTIONS, cache)
    assert result.site is not None, [str(p) for p in result.problems.errors]
    return result.site.files


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def app_pages(files: dict[str, bytes]) -> set[str]:
    return {path for path in files if path.startswith("apps/") and path.endswith(".html")}


def test_a_second_build_reuses_every_page_and_loads_nothing(project: Path) -> None:
    cache = BuildCache()
    first = incremental(project, cache)
    assert cache.render.stats.rendered and not cache.render.stats.reused
    second = incremental(project, cache)
    assert second == first
    assert cache.render.stats.rendered == []
    assert cache.load.loaded == []


def test_editing_a_policy_section_rerenders_the_trust_page_but_no_app_page(project: Path) -> None:
    cache = BuildCache()
    before = incremental(project, cache)
    section = project / "content/policy/02-encryption.md"
    edit(section, "TLS 1.2 or later", "TLS 1.3 only")
    after = incremental(project, cache)
    assert b"TLS 1.3 only" in after["index.html"]
    assert "index.html" in cache.render.stats.rendered
    assert not app_pages(after) & set(cache.render.stats.rendered), cache.render.stats.rendered
    assert app_pages(after) <= set(cache.render.stats.reused)
    assert cache.load.loaded == [str(section)]  # nothing else was read again
    assert after == clean(project)
    assert {path for path in after if after[path] != before[path]} >= {"index.html"}


def test_editing_one_app_rerenders_its_page_not_the_other_app_page(project: Path) -> None:
    cache = BuildCache()
    incremental(project, cache)
    edit(project / "content/apps/status-timer/app.yaml", "Shows, in the context panel", "Shows, in the side panel")
    after = incremental(project, cache)
    assert "apps/status-timer/index.html" in cache.render.stats.rendered
    assert "apps/page-reading-time/index.html" in cache.render.stats.reused
    assert cache.load.loaded == [str(project / "content/apps/status-timer")]
    assert after == clean(project)


def test_editing_a_template_rerenders_exactly_the_pages_that_use_it(project: Path) -> None:
    cache = BuildCache()
    incremental(project, cache)
    override = project / "templates" / "app.html"
    override.parent.mkdir()
    override.write_text((REPO_ROOT / "templates/app.html").read_text(encoding="utf-8").replace("{% block main %}", "{% block main %}<p>Reviewed app</p>", 1), encoding="utf-8")
    after = incremental(project, cache)
    assert set(cache.render.stats.rendered) == {"apps/status-timer/index.html", "apps/page-reading-time/index.html"}
    assert b"Reviewed app" in after["apps/status-timer/index.html"]
    assert after == clean(project)
    override.unlink()  # back to the default theme's template: the same pages again
    incremental(project, cache)
    assert set(cache.render.stats.rendered) == {"apps/status-timer/index.html", "apps/page-reading-time/index.html"}


def test_editing_a_shared_template_rerenders_every_page(project: Path) -> None:
    cache = BuildCache()
    incremental(project, cache)
    override = project / "templates" / "base.html"
    override.parent.mkdir()
    override.write_text((REPO_ROOT / "templates/base.html").read_text(encoding="utf-8").replace("<body>", "<body>\n<p>Preview build</p>", 1), encoding="utf-8")
    after = incremental(project, cache)
    assert cache.render.stats.reused == []
    assert after == clean(project)


def test_a_static_file_is_copied_alone(project: Path) -> None:
    cache = BuildCache()
    before = incremental(project, cache)
    css = project / "static" / "css" / "site.css"
    css.parent.mkdir(parents=True)
    css.write_bytes((REPO_ROOT / "static/css/site.css").read_bytes() + b"\n.preview { color: inherit; }\n")
    after = incremental(project, cache)
    assert cache.render.stats.rendered == []
    assert cache.load.loaded == []
    assert [path for path in after if after[path] != before.get(path)] == ["static/css/site.css"]
    assert after == clean(project)


def test_many_edits_in_a_row_stay_identical_to_clean_builds(project: Path) -> None:
    """Every kind of change, one after another, each compared byte for byte with a clean build."""
    cache = BuildCache()
    incremental(project, cache)
    steps = [
        lambda: edit(project / "content/policy/01-introduction.md", "short policy", "short, exact policy"),
        lambda: edit(project / "content/site.yaml", "name: Preview Example", "name: Preview Sample"),  # every page
        lambda: edit(project / "content/site.yaml", "https://preview.example/trust/", "https://preview.example/security/"),
        lambda: (project / "content/policy/04-retention.md").write_text("---\ntitle: Retention\nanchor: retention\n---\nWe keep nothing.\n", encoding="utf-8"),
        lambda: (project / "content/policy/02-encryption.md").unlink(),
        lambda: edit(project / "content/apps/page-reading-time/app.yaml", "name: ", "name: Fast "),
        lambda: __import__("shutil").rmtree(project / "content/apps/status-timer"),
        lambda: edit(project / "content/policy/03-reporting.md", "### What happens next", "### What happens then"),
    ]
    for step in steps:
        step()
        assert incremental(project, cache) == clean(project)


def test_a_broken_file_is_reported_again_from_the_cache_until_fixed(project: Path) -> None:
    cache = BuildCache()
    incremental(project, cache)
    section = project / "content/policy/02-encryption.md"
    good = section.read_text(encoding="utf-8")
    section.write_text(good.replace("anchor: encryption", "anchor: [encryption"), encoding="utf-8")
    for _ in range(2):  # the second time the problem comes from the memo
        cache.reset_stats()
        result = render_project(project, OPTIONS, cache)
        assert result.site is None
        assert [str(p.position).split(":")[:2] for p in result.problems.errors] == [["content/policy/02-encryption.md", "4"]]
    assert cache.load.loaded == []
    section.write_text(good, encoding="utf-8")
    assert incremental(project, cache) == clean(project)


# ------------------------------------------------------------------------------------ the parts


def test_template_reads_skip_macro_parameters_and_loop_variables() -> None:
    environment = jinja2.Environment()
    info = analyse_template(environment, """
{% macro table(apps) %}{% for app in apps %}{{ app.name }}{{ loop.index }}{% endfor %}{% endmacro %}
{% if ctx.edition.apps %}{{ table(edition.apps) }}{% endif %}
{% for section in sections if section.title %}{{ section.anchor }}{% endfor %}
{{ site['organisation'].name }}{% include "part.html" %}""")
    reads = {(r.root, r.steps, r.truth_only) for r in info.reads}
    assert reads == {
        ("ctx", (("attr", "edition"), ("attr", "apps")), True),
        ("table", (), False),
        ("edition", (("attr", "apps"),), False),
        ("sections", (), False),
        ("site", (("item", "organisation"), ("attr", "name")), False),
    }
    assert info.references == ("part.html",) and not info.dynamic


def test_a_template_named_by_an_expression_makes_its_pages_render_every_time(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{% include which %}", encoding="utf-8")
    (tmp_path / "a.html").write_text("A{{ page_path }}", encoding="utf-8")
    cache = RenderCache()
    theme = Theme((tmp_path,), ())
    ctx = RenderContext(project=None, edition=_Edition(), release=None, draft=True, build_date=date(2025, 1, 1))  # type: ignore[arg-type]
    pages = lambda _ctx: [Page("x.html", "page.html", {"which": "a.html"})]  # noqa: E731
    for _ in range(2):
        assert render_site(ctx, theme, [pages], cache=cache).files["x.html"] == b"Ax.html"
        assert cache.stats.rendered == ["x.html"]


class _Site:
    base_url = "https://example.com/"


class _Edition:
    site = _Site()


def test_fingerprints_tell_markup_from_text_and_ignore_identity() -> None:
    fingerprints = Fingerprinter()
    assert fingerprints.digest("<b>") != fingerprints.digest(Markup("<b>"))
    assert fingerprints.digest((1, "a", date(2025, 1, 1))) == Fingerprinter().digest((1, "a", date(2025, 1, 1)))
    assert fingerprints.digest(1) != fingerprints.digest(True) != fingerprints.digest(1.0)
    assert fingerprints.digest({"a": 1}) != fingerprints.digest({"a": 2})


def test_load_memo_rereads_a_file_written_twice_within_one_timestamp_tick(tmp_path: Path) -> None:
    memo = LoadMemo()
    file = tmp_path / "x.txt"
    file.write_text("one", encoding="utf-8")
    stamp = file.stat().st_mtime_ns
    reader = lambda path, problems: path.read_text(encoding="utf-8")  # noqa: E731
    assert memo.call(reader, file, problems=Problems()) == "one"
    file.write_text("two", encoding="utf-8")
    os.utime(file, ns=(stamp, stamp))  # same size, same mtime: only the content differs
    assert memo.call(reader, file, problems=Problems()) == "two"


def test_cache_keys_are_the_same_in_another_process(project: Path) -> None:
    """RenderCache.entries() may be saved and used by a later run (a warm build): keys must not vary."""
    cache = BuildCache(render=RenderCache(salt="same code"))  # the default salt hashes the code, which may be mid-edit
    incremental(project, cache)
    here = {path: entry.key for path, entry in cache.render.entries().items()}
    script = (
        "import json, sys; from datetime import date; from pathlib import Path;"
        "from site_builder.cache.incremental import BuildCache, RenderCache; from site_builder.pipeline import BuildOptions, render_project;"
        "c = BuildCache(render=RenderCache(salt='same code')); render_project(Path(sys.argv[1]), BuildOptions(build_date=date(2025, 7, 1), draft=True), c);"
        "print(json.dumps({p: e.key for p, e in c.render.entries().items()}))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": "12345"}
    there = json.loads(subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True, check=True, env=env).stdout)
    assert there == here
    assert len(here) == len([p for p in clean(project) if p.endswith(".html")])


def test_reads_are_listed_readably(project: Path) -> None:
    cache = RenderCache()
    from site_builder.render.engine import make_environment
    from site_builder.render.theme import load_theme

    environment = make_environment(load_theme(project, Problems()))
    closure = cache.closure(environment, "app.html", {})
    assert closure is not None and "base.html" in closure.templates
    reads = set(iter_reads(closure))
    assert "app" in reads and "?ctx.edition.apps" in reads
    assert not any(r.startswith(("edition.sections", "sections")) for r in reads)


# ------------------------------------------------------------------------------------ trusting the watcher (serve)


def watched_build(project: Path, cache: BuildCache, changed: set[Path] | None) -> dict[str, bytes]:
    """A rebuild as serve does it: told by the watcher which paths changed since the last build."""
    cache.reset_stats()
    cache.trust(None if changed is None else {str(path) for path in changed})
    result = render_project(project, OPTIONS, cache)
    assert result.site is not None, [str(p) for p in result.problems.errors]
    return result.site.files


def test_a_trusted_rebuild_touches_only_what_the_watcher_names_and_matches_a_clean_build(released: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = released
    cache = BuildCache(load=LoadMemo(watched=True))
    incremental(project, cache)
    section = sorted((project / "content/policy").glob("*.md"))[0]
    section.write_text(section.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    touched: list[str] = []

    def recording(real):  # noqa: ANN001, ANN202
        def call(path, *args, **kwargs):  # noqa: ANN001, ANN202
            touched.append(os.fspath(path) if not isinstance(path, int) else "")
            return real(path, *args, **kwargs)

        return call

    for name in ("stat", "lstat", "listdir", "scandir", "open"):
        monkeypatch.setattr(os, name, recording(getattr(os, name)))
    after = watched_build(project, cache, {section})
    monkeypatch.undo()
    untouched = (str(project / "content/releases"), str(project / "content/apps"), str(project / "content/releases.lock"))
    assert touched and not [path for path in touched if path.startswith(untouched)]  # no frozen file, no app, not the lock
    assert str(section) in touched
    assert b"One more sentence." in after["index.html"]
    assert after == clean(project)


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A copy of the default content: release 1.0, frozen and locked, plus the working copy."""
    target = (tmp_path / "released").resolve()
    shutil.copytree(REPO_ROOT / "content", target / "content")
    return target


def test_unchanged_releases_and_apps_come_back_as_the_same_objects(released: Path) -> None:
    project = released
    memo = LoadMemo(watched=True)
    from site_builder.releases.project import load_project

    before = load_project(project, Problems(), memo)
    section = sorted((project / "content/policy").glob("*.md"))[0]
    section.write_text(section.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    memo.trust({str(section)})
    after = load_project(project, Problems(), memo)
    assert before is not None and after is not None and before.releases
    assert after.releases is before.releases
    assert after.working.apps is before.working.apps
    assert after.working.sections is not before.working.sections


def test_a_tampered_frozen_file_named_by_the_watcher_fails_the_rebuild(released: Path) -> None:
    project = released
    cache = BuildCache()
    incremental(project, cache)
    frozen = sorted((project / "content/releases").rglob("*.md"))[0]
    frozen.write_text(frozen.read_text(encoding="utf-8") + "\nA sentence added later.\n", encoding="utf-8")
    cache.load.trust({str(frozen)})
    result = render_project(project, OPTIONS, cache)
    messages = [f"{p.position.path}: {p.message}" for p in result.problems.errors]
    assert result.site is None and any("was changed after release" in m and frozen.name in m for m in messages), messages


def test_a_symbolic_link_created_while_serving_is_refused(project: Path) -> None:
    project = project.resolve()
    cache = BuildCache()
    incremental(project, cache)
    link = project / "content/policy/99-secrets.md"
    link.symlink_to("/etc/hostname")
    cache.load.trust({str(link)})
    result = render_project(project, OPTIONS, cache)
    assert result.site is None
    assert [p.position.path for p in result.problems.errors] == ["content/policy/99-secrets.md"]
    cache.load.trust(set())  # nothing changed since: the link is still there and still refused
    assert render_project(project, OPTIONS, cache).site is None
    link.unlink()
    assert watched_build(project, cache, {link}) == clean(project)


def test_when_the_watcher_cannot_say_what_changed_every_file_is_checked(project: Path) -> None:
    project = project.resolve()
    cache = BuildCache()
    watched_build(project, cache, set())
    edit(project / "content/apps/status-timer/app.yaml", "Shows, in the context panel", "Shows, in the side panel")
    assert watched_build(project, cache, None) == clean(project)
    assert cache.load.loaded == [str(project / "content/apps/status-timer")]


def test_a_folder_named_by_the_watcher_is_walked_again_with_all_inside_it(released: Path) -> None:
    """A watcher may name only the folder that was removed, renamed or copied in, not the files in it."""
    project = released
    cache = BuildCache(load=LoadMemo(watched=True))
    incremental(project, cache)
    apps = project / "content/apps"
    first = sorted(path for path in apps.iterdir() if path.is_dir())[0]
    copy = apps / "zz-copied-app"
    shutil.copytree(first, copy)
    app_yaml = copy / "app.yaml"
    app_yaml.write_text(app_yaml.read_text(encoding="utf-8").replace("name: ", "name: Copied ", 1), encoding="utf-8")
    assert watched_build(project, cache, {copy}) == clean(project)
    replacement = project / "replacement"
    shutil.copytree(copy, replacement)
    (replacement / "app.yaml").write_text(app_yaml.read_text(encoding="utf-8").replace("name: Copied ", "name: Replaced ", 1), encoding="utf-8")
    shutil.rmtree(copy)
    replacement.rename(copy)  # the watcher names the folder, not its files
    after = watched_build(project, cache, {copy})
    assert after == clean(project) and b"Replaced " in after["apps/index.html"]
    shutil.rmtree(first)
    assert watched_build(project, cache, {first}) == clean(project)


def test_compiled_templates_are_kept_until_the_watcher_names_a_template(released: Path) -> None:
    project = released
    cache = BuildCache(load=LoadMemo(watched=True), render=RenderCache(keep_fragments=True))
    incremental(project, cache)
    first = cache.render._last[1]  # noqa: SLF001 - the environment the last build used
    section = sorted((project / "content/policy").glob("*.md"))[0]
    section.write_text(section.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert watched_build(project, cache, {section}) == clean(project)
    assert cache.render._last[1] is first  # noqa: SLF001 - no template named: the same compiled templates
    templates = project / "templates"
    templates.mkdir()  # a theme override appears: a new template folder
    override = templates / "404.html"
    override.write_text((REPO_ROOT / "templates/404.html").read_text(encoding="utf-8").replace("</h1>", " (overridden)</h1>", 1), encoding="utf-8")
    after = watched_build(project, cache, {templates})
    second = cache.render._last[1]  # noqa: SLF001
    assert second is not first
    assert b"(overridden)</h1>" in after["404.html"] and after == clean(project)
    override.write_text(override.read_text(encoding="utf-8").replace("(overridden)", "(edited)"), encoding="utf-8")
    after = watched_build(project, cache, {override})
    assert cache.render._last[1] is not second  # noqa: SLF001
    assert b"(edited)</h1>" in after["404.html"] and after == clean(project)


def test_a_unit_read_whole_from_a_saved_cache_seeds_its_parts_again(released: Path) -> None:
    """A warm build gets the frozen releases back as one unit: their apps must still come with their
    seeds, or every page key walks every release's apps (2 s at 1,000 apps)."""
    import pickle

    from site_builder.releases.project import load_project

    memo = LoadMemo()
    first = load_project(released, Problems(), memo)
    assert first is not None and first.releases and first.releases[0].edition.apps
    saved = pickle.dumps(memo.entries())  # what diskcache saves
    warm = LoadMemo(entries=pickle.loads(saved))
    seeded: dict[int, bytes] = {}
    warm.on_values = lambda pairs: seeded.update((id(value), seed) for value, seed in pairs)
    project = load_project(released, Problems(), warm)
    assert project is not None
    apps = [app for release in project.releases for app in release.edition.apps]
    assert apps and all(id(app) in seeded for app in apps)
    assert id(project.releases) in seeded
    assert [app.slug for app in apps] == [app.slug for release in first.releases for app in release.edition.apps]


def test_slotted_model_values_pickle_as_their_fields() -> None:
    import pickle

    from site_builder.forge.apps import PermissionRow
    from site_builder.errors import Position

    position = Position("content/apps/a/manifest.yml", 3, 5)
    assert position.__reduce__() == (Position, ("content/apps/a/manifest.yml", 3, 5))
    row = PermissionRow("read:jira-work", "Jira", "jira", "read", "Read issues", "", False, False, True)
    for value in (position, row):
        again = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert again == value and type(again) is type(value) and not hasattr(again, "__dict__")
