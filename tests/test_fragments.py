"""Fragments: ``{{ fragment('_row.html', app=app) }}`` draws a template from the values given (and the
page's ``url``) alone, so a FragmentStore can reuse it between builds under a content key; and the
faster compiled templates of ``make_environment`` give the very bytes Jinja's own would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from conftest import REPO_ROOT
from site_builder.errors import Problems
from site_builder.cache.incremental import BuildCache, Fingerprinter, RenderCache, analyse_template
from site_builder.releases.project import load_project
from site_builder.render.pages import GENERATORS
from site_builder.pipeline import BuildOptions, render_project
from site_builder.cache.fragments import FragmentStore
from site_builder.render.engine import Page, RenderContext, make_environment, prefixed_url, render_page, site_items
from site_builder.render.theme import Theme, load_theme

BUILD_DATE = date(2025, 7, 1)


@pytest.fixture
def project(copy_fixture, tmp_path: Path) -> Path:
    return copy_fixture("preview", tmp_path)


def theme_of(folder: Path, templates: dict[str, str]) -> Theme:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Theme((folder,), ())


def render_pages(project: Path, store: FragmentStore | None, *paths: str) -> dict[str, bytes]:
    """One build of ``paths`` (default: every page) of ``project``, loaded afresh, with ``store``."""
    problems = Problems()
    loaded = load_project(project, problems)
    assert loaded is not None and not problems.has_errors(), [str(p) for p in problems.errors]
    theme = load_theme(project, problems)
    ctx = RenderContext(loaded, loaded.working, None, True, BUILD_DATE)
    environment = make_environment(theme, fragments=store)
    _, pages = site_items(ctx, theme, GENERATORS)
    return {page.path: render_page(environment, ctx, page) for page in pages if not paths or page.path in paths}


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- a fragment is what inlining the template gives -----------------------------------------------


def test_a_fragment_renders_what_the_inlined_template_renders(tmp_path: Path) -> None:
    row = "{#- a row -#}\n<li><a href=\"{{ url('items/' ~ item.slug ~ '/') }}\">{{ item.name }}</a>{% if item.note %} <em>{{ item.note }}</em>{% endif %}</li>\n"
    theme = theme_of(
        tmp_path / "templates",
        {
            "_row.html": row,
            "fragments.html": "<ul>\n{% for item in items %}\n{{ fragment('_row.html', item=item) }}\n{%- endfor %}\n</ul>\n",
            "inlined.html": "<ul>\n{% for item in items %}\n" + row.split("\n", 1)[1] + "{% endfor %}\n</ul>\n",
            "each.html": "<ul>\n{% for row in fragment_each('_row.html', 'item', items) %}\n{{ row }}\n{%- endfor %}\n</ul>\n",
        },
    )
    items = [{"slug": "a", "name": "A & B <i>", "note": ""}, {"slug": "c", "name": "C", "note": Markup("<b>bold</b>")}, {"slug": "d", "name": "D \"quoted\"", "note": "it's"}]
    variables = {"items": items, "url": lambda target: "../" + target}
    for store in (None, FragmentStore()):
        environment = make_environment(theme, fragments=store)
        inlined = environment.get_template("inlined.html").render(variables)
        assert environment.get_template("fragments.html").render(variables) == inlined
        assert environment.get_template("each.html").render(variables) == inlined
        assert environment.get_template("each.html").render({**variables, "items": []}) == "<ul>\n</ul>\n"
        assert "A &amp; B &lt;i&gt;" in inlined and "<b>bold</b>" in inlined and "../items/c/" in inlined


def test_a_fragment_sees_only_its_values_url_and_the_globals(tmp_path: Path) -> None:
    theme = theme_of(tmp_path / "templates", {"_leak.html": "{{ referrer_policy }} {{ url('x/') }} {{ secret }}", "page.html": "{{ fragment('_leak.html') }}"})
    environment = make_environment(theme)
    with pytest.raises(jinja2.UndefinedError, match="secret"):
        environment.get_template("page.html").render({"secret": "page variable", "url": lambda target: target})


def test_the_glance_table_with_row_fragments_is_the_table_with_its_rows_inlined(project: Path, tmp_path: Path) -> None:
    """The default theme's rows (apps page and trust page) against a copy of the table whose loop holds the row itself."""
    row = (REPO_ROOT / "templates/_apps_glance_row.html").read_text(encoding="utf-8")
    body = row[row.index("<tr>") :]
    macros = (REPO_ROOT / "templates/_apps_macros.html").read_text(encoding="utf-8")
    call = "{% for row in fragment_each('_apps_glance_row.html', 'app', apps) %}\n{{ row }}\n{%- endfor %}"
    assert call in macros
    inlined = macros.replace(call, '{% for app in apps %}\n{% from "_apps_macros.html" import sample_pill %}\n' + body + "{% endfor %}")
    fragments = render_pages(project, FragmentStore(), "index.html", "apps/index.html")
    (project / "templates").mkdir()
    (project / "templates/_apps_macros.html").write_text(inlined, encoding="utf-8")
    assert render_pages(project, None, "index.html", "apps/index.html") == fragments
    assert fragments["apps/index.html"].count(b'<th scope="row"><a href="../apps/status-timer/index.html">Status Timer</a>') == 1


# --- reuse between builds -------------------------------------------------------------------------


def test_fragments_are_reused_while_their_values_are_the_same_and_redrawn_when_an_app_changes(project: Path) -> None:
    store = FragmentStore()
    first = render_pages(project, store, "apps/index.html")
    assert (store.rendered, store.reused) == (4, 0)  # two apps: a glance row and a list item each
    assert render_pages(project, store, "apps/index.html") == first  # loaded afresh: equal content, same keys
    assert (store.rendered, store.reused) == (0, 4)
    edit(project / "content/apps/status-timer/app.yaml", "Shows, in the context panel", "Shows, in the side panel")
    after = render_pages(project, store, "apps/index.html")
    assert (store.rendered, store.reused) == (2, 2)  # the edited app's row and item: each is keyed by the whole app
    assert b"Shows, in the side panel" in after["apps/index.html"]
    assert after == render_pages(project, None, "apps/index.html")


def test_fragments_outlive_builds_that_did_not_use_them(tmp_path: Path) -> None:
    """A build that reuses a whole page touches none of its fragments; the next edit still finds them."""
    theme = theme_of(tmp_path / "templates", {"_row.html": "<p>{{ n }}</p>", "page.html": "{% for n in numbers %}{{ fragment('_row.html', n=n) }}{% endfor %}"})
    store = FragmentStore()

    def build(numbers: list[int]) -> str:
        return make_environment(theme, fragments=store).get_template("page.html").render({"numbers": numbers})

    assert build([1, 2]) == "<p>1</p><p>2</p>" and store.rendered == 2
    assert build([]) == "" and (store.rendered, store.reused) == (0, 0)
    assert build([2]) == "<p>2</p>" and (store.rendered, store.reused) == (0, 1)
    assert build([1, 2, 3]) == "<p>1</p><p>2</p><p>3</p>" and (store.rendered, store.reused) == (1, 2)


@dataclass(frozen=True)
class Item:
    label: str


def test_a_loop_of_fragments_finds_each_unchanged_item_and_draws_only_new_ones(tmp_path: Path) -> None:
    theme = theme_of(tmp_path / "templates", {"_row.html": "<p>{{ n.label }} {{ url('x') }}</p>", "page.html": "{% for row in fragment_each('_row.html', 'n', numbers) %}{{ row }}{% endfor %}"})
    store = FragmentStore()
    one, two, three = Item("one"), Item("two"), Item("three")

    def build(numbers: list[Item], up: str = "../") -> str:
        page = make_environment(theme, fragments=store).get_template("page.html")
        return page.render({"numbers": numbers, "url": partial(prefixed_url, up)})

    assert build([one, two]) == "<p>one ../x</p><p>two ../x</p>" and (store.rendered, store.reused) == (2, 0)
    assert build([two, one, three]) == "<p>two ../x</p><p>one ../x</p><p>three ../x</p>" and (store.rendered, store.reused) == (1, 2)
    assert build([three]) == "<p>three ../x</p>" and (store.rendered, store.reused) == (0, 1)
    assert build([three], up="../../") == "<p>three ../../x</p>" and (store.rendered, store.reused) == (1, 0)  # url is a value of the row
    changed = Item("three, changed")
    assert build([changed, one]) == "<p>three, changed ../x</p><p>one ../x</p>" and (store.rendered, store.reused) == (1, 1)


def test_a_value_without_a_content_hash_is_rendered_every_time(tmp_path: Path) -> None:
    theme = theme_of(tmp_path / "templates", {"_row.html": "{{ thing.label }}", "page.html": "{{ fragment('_row.html', thing=thing) }}"})

    class Opaque:
        label = "opaque"

        def __call__(self) -> None:  # callable with a __dict__: Fingerprinter cannot hash it
            pass

    store = FragmentStore()
    for _ in range(2):
        assert make_environment(theme, fragments=store).get_template("page.html").render({"thing": Opaque()}) == "opaque"
        assert store.rendered == 1


def test_a_shared_fingerprinter_keeps_its_own_generations() -> None:
    """RenderCache's Fingerprinter (seeded by LoadMemo) may serve the store: only its owner ends its builds."""

    class Counting(Fingerprinter):
        builds = 0

        def next_generation(self) -> None:
            self.builds += 1
            super().next_generation()

    shared = Counting()
    store = FragmentStore(shared)
    for _ in range(3):
        store.next_generation()
    assert shared.builds == 0


# --- templates: edits and overrides ---------------------------------------------------------------


def test_editing_a_fragment_template_changes_the_key_of_the_pages_that_use_it(project: Path) -> None:
    cache = BuildCache()
    options = BuildOptions(build_date=BUILD_DATE, draft=True)
    assert render_project(project, options, cache).site is not None
    (project / "templates").mkdir()
    row = (REPO_ROOT / "templates/_apps_glance_row.html").read_text(encoding="utf-8")
    (project / "templates/_apps_glance_row.html").write_text(row.replace("<tr>", '<tr class="edited">'), encoding="utf-8")
    cache.reset_stats()
    result = render_project(project, options, cache)
    assert result.site is not None
    rendered = set(cache.render.stats.rendered)
    assert {"index.html", "apps/index.html"} <= rendered  # both draw the glance table
    assert "404.html" not in rendered and "versions/index.html" not in rendered
    assert result.site.files["apps/index.html"].count(b'<tr class="edited">') == 2


def test_a_projects_own_fragment_template_wins_and_is_not_mixed_with_the_defaults(project: Path) -> None:
    store = FragmentStore()
    before = render_pages(project, store, "apps/index.html", "marketplace/index.html")
    assert b"Own list item" not in before["apps/index.html"]
    (project / "templates").mkdir()
    (project / "templates/_apps_list_item.html").write_text("<li>Own list item for {{ app.name }}</li>\n", encoding="utf-8")
    after = render_pages(project, store, "apps/index.html", "marketplace/index.html")
    assert after["apps/index.html"].count(b"<li>Own list item for ") == 2
    assert store.rendered == 2  # the two list items; the glance rows and the kit sections are reused
    assert after["marketplace/index.html"] == before["marketplace/index.html"]


def test_analysis_counts_a_fragment_as_a_reference_and_its_values_as_reads() -> None:
    environment = make_environment(Theme((), ()))
    info = analyse_template(environment, "{% for app in apps %}{{ fragment('_row.html', app=app, site_name=site.organisation.name) }}{% endfor %}")
    assert info.references == ("_row.html",) and not info.dynamic
    assert {(read.root, read.steps) for read in info.reads} >= {("apps", ()), ("site", (("attr", "organisation"), ("attr", "name")))}
    assert analyse_template(environment, "{{ fragment(name, app=app) }}").dynamic
    shadowed = analyse_template(environment, "{% for fragment in parts %}{{ fragment(name) }}{% endfor %}")
    assert shadowed.references == () and not shadowed.dynamic


def test_a_dynamic_fragment_name_makes_the_page_uncacheable(tmp_path: Path) -> None:
    theme = theme_of(tmp_path / "templates", {"_a.html": "a", "page.html": "{{ fragment(which) }}"})
    cache = RenderCache()
    environment = cache.environment(theme)
    assert cache.closure(environment, "page.html", {}) is None


# --- the faster compiled templates ----------------------------------------------------------------


class Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class Text:
    def __str__(self) -> str:
        return "<text & more>"


@pytest.mark.parametrize(
    "value",
    ["plain", "<&>\"'", "", Markup("<i>kept</i>"), 0, 42, -7, True, False, None, 1.5, Html(), Text(), ("a", "<b>"), date(2025, 7, 1)],
    ids=lambda value: type(value).__name__ + ":" + (str(value) if not isinstance(value, (Html, Text)) else ""),  # stable across processes (xdist)
)
def test_output_is_escaped_exactly_as_jinja_escapes_it(tmp_path: Path, value: object) -> None:
    source = "{{ value }}|{{ value ~ '<' }}|{% macro m(v) %}[{{ v }}]{% endmacro %}{{ m(value) }}|{% set s %}{{ value }}{% endset %}{{ s }}|{{ [value]|join(', ') }}"
    plain = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    ours = make_environment(theme_of(tmp_path / "templates", {}))
    assert ours.from_string(source).render(value=value) == plain.from_string(source).render(value=value)


def test_calls_pass_the_context_to_what_asks_for_it(tmp_path: Path) -> None:
    from functools import partial

    @jinja2.pass_context
    def who(context: jinja2.runtime.Context, suffix: str = "") -> str:
        return context["name"] + suffix

    def plain(suffix: str) -> str:
        return "plain" + suffix

    marked = partial(plain)
    marked.jinja_pass_arg = who.jinja_pass_arg  # type: ignore[attr-defined]

    @jinja2.pass_environment
    def env_name(environment: jinja2.Environment) -> str:
        return type(environment).__name__

    source = "{{ who('!') }} {{ plain('?') }} {{ part('.') }} {% for i in [1] %}{% set name = 'loop' %}{{ who() }}{% endfor %} {{ env_name() }} {{ 'abc'.upper() }} {{ marked is defined }}"
    ours = make_environment(theme_of(tmp_path / "templates", {}))
    variables = {"name": "page", "who": who, "plain": plain, "part": partial(plain), "env_name": env_name, "marked": marked}
    text = ours.from_string(source).render(variables)
    assert text.split(" ")[:4] == ["page!", "plain?", "plain.", "loop"]
    assert text.endswith("ABC True")
    with pytest.raises(TypeError):  # a partial marked to take the context gets it, as in Jinja
        ours.from_string("{{ marked('x') }}").render(variables)


def test_table_cell_filters_match_the_macros_they_replace(tmp_path: Path) -> None:
    old = "{% macro names(items) %}{% if items %}{{ items|join(', ') }}{% else %}<span class=\"none\">None</span>{% endif %}{% endmacro %}{% macro justification(why) %}{% if why %}{{ why }}{% else %}<em>Not explained yet.</em>{% endif %}{% endmacro %}"
    ours = make_environment(theme_of(tmp_path / "templates", {}))
    for items in ([], (), ["a"], ["a & b", "<c>"], [Markup("<i>x</i>"), "y"], (1, 2)):
        assert ours.from_string("{{ items|names }}").render(items=items) == ours.from_string(old + "{{ names(items) }}").render(items=items)
    for why in ("", None, "because <reasons> & more", Markup("<b>ok</b>")):
        assert ours.from_string("{{ why|justification }}").render(why=why) == ours.from_string(old + "{{ justification(why) }}").render(why=why)
