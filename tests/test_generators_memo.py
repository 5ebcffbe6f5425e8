"""The generators through ``ctx.memo``: what serve reuses between rebuilds, and that reuse never changes a byte.

A project with two releases and an edited working copy is loaded through a ``LoadMemo`` (as serve
does), its generators run with an ``IdentityMemo``, one file is edited and it is loaded again. Items
derived from unchanged model objects must come back as the very same objects (the render cache skips
them on identity), items of the edited file must be new, and the output must equal a fresh run
without a memo. The memo itself, the compact JSON export and the badge writer are tested here too.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.render.badges import COLOURS, FONT_FAMILY, FONT_SIZE, HEIGHT, LABEL_COLOUR, PADDING, SVG_NS, TEXT_COLOUR, Badge, _number, badge_svg
from site_builder.releases.diff import diff_editions
from site_builder.errors import Problems
from site_builder.cache.incremental import LoadMemo
from site_builder.releases.project import load_project
from site_builder.cache.memo import IdentityMemo, call, each
from site_builder.content.model import Project
from site_builder.render.pages import GENERATORS
from site_builder.render.pages.export import to_json, trust_document
from site_builder.render.pages.links import SiteLinks
from site_builder.render.engine import Asset, Page, RenderContext
from versions_tools import release, new_project, set_working

BUILD_DAY = date(2025, 10, 1)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Releases 1.0 (fixture v1) and 1.1 (v2), then a working copy whose introduction differs from 1.1."""
    project = new_project(tmp_path_factory.mktemp("memo"))
    assert release(project, "1.0", "2025-07-01").code == 0
    set_working(project, "v2")
    assert release(project, "1.1", "2025-09-01").code == 0
    edit(project / "content/policy/01-introduction.md", "keeps this policy", "keeps this short policy")
    return project


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(released, copy)
    return copy


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text("utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), "utf-8")
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a new stat, however coarse the clock


def load(root: Path, memo: LoadMemo | None = None) -> Project:
    problems = Problems()
    project = load_project(root, problems, memo)
    assert project is not None and not problems.has_errors(), [str(p) for p in problems.items]
    return project


def context(project: Project, memo: IdentityMemo | None, *, draft: bool = True) -> RenderContext:
    if memo is not None:
        memo.next_generation()
    return RenderContext(project, project.working if draft else project.latest.edition, None if draft else project.latest, draft, BUILD_DAY, memo)


def generate(ctx: RenderContext) -> dict[str, Page | Asset]:
    items: dict[str, Page | Asset] = {}
    for generator in GENERATORS:
        for item in generator(ctx):
            assert item.path not in items, item.path
            items[item.path] = item
    return items


def comparable(value: Any) -> Any:
    """A page variable as a value: partials (``url``) compare by what they call, not by identity."""
    if isinstance(value, partial):
        return ("partial", value.func, comparable(value.args), comparable(value.keywords))
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(item) for item in value)
    return value


def same_output(memoised: dict[str, Page | Asset], fresh: dict[str, Page | Asset]) -> None:
    assert sorted(memoised) == sorted(fresh)
    for path, item in fresh.items():
        other = memoised[path]
        assert type(other) is type(item), path
        if isinstance(item, Asset):
            assert other.data == item.data, path
        else:
            assert (other.template, other.indexable, other.canonical, other.root_relative) == (item.template, item.indexable, item.canonical, item.root_relative), path
            assert comparable(dict(other.context)) == comparable(dict(item.context)), path


APP_ITEMS = ("apps/{}/index.html", "apps/{}/privacy-and-security.json", "badges/apps/{}.svg")


def test_an_edit_to_one_app_renews_that_app_only(project: Path) -> None:
    loader, memo = LoadMemo(), IdentityMemo()
    first = generate(context(load(project, loader), memo))
    again = generate(context(load(project, loader), memo))
    # nothing changed: nothing new but what holds the working Edition, which the loader makes anew
    assert {path for path, item in again.items() if item is not first[path]} <= {"index.html", "changes/1.1...draft/index.html"}

    edit(project / "content/apps/alpha/app.yaml", "retention: ", "retention: Edited. ")
    edited = load(project, loader)
    after = generate(context(edited, memo))
    same_output(after, generate(context(edited, None)))
    assert b"Edited. " in after["apps/alpha/privacy-and-security.json"].data and b"Edited. " in after["trust.json"].data

    renewed = {path for path, item in after.items() if item is not first[path]}
    alpha = {template.format("alpha") for template in APP_ITEMS}
    for slug in ("delta", "gamma"):
        for template in APP_ITEMS:
            path = template.format(slug)
            assert after[path] is first[path], path
        assert after[f"apps/{slug}/privacy-and-security.json"].data is first[f"apps/{slug}/privacy-and-security.json"].data
    # what lists or counts every app is new too; nothing else is (not the releases' pages, the feed, _headers ...)
    assert renewed == alpha | {"trust.json", "marketplace/index.html", "apps/index.html", "index.html", "changes/1.1...draft/index.html"}


def test_an_edit_to_the_working_copy_renews_nothing_in_a_release_build(project: Path) -> None:
    loader, memo = LoadMemo(), IdentityMemo()
    first = generate(context(load(project, loader), memo, draft=False))
    edit(project / "content/apps/alpha/app.yaml", "retention: ", "retention: Edited. ")
    edited = load(project, loader)
    after = generate(context(edited, memo, draft=False))
    same_output(after, generate(context(edited, None, draft=False)))
    assert [path for path, item in after.items() if item is not first[path]] == []  # the site shows release 1.1


def test_an_edit_to_one_section_leaves_the_apps_alone(project: Path) -> None:
    loader, memo = LoadMemo(), IdentityMemo()
    first = generate(context(load(project, loader), memo))
    edit(project / "content/policy/01-introduction.md", "keeps this short policy", "keeps this very short policy")
    edited = load(project, loader)
    after = generate(context(edited, memo))
    same_output(after, generate(context(edited, None)))
    renewed = {path for path, item in after.items() if item is not first[path]}
    assert renewed == {"index.html", "changes/1.1...draft/index.html"}  # trust.json names sections by title only: the same bytes
    draft_changes = after["changes/1.1...draft/index.html"].context["changes"]
    assert [(s.anchor, s.status) for s in draft_changes.sections] == [("introduction", "changed")]


def test_the_feed_and_the_changes_pages_share_one_diff_per_pair_of_editions(project: Path) -> None:
    memo = IdentityMemo()
    loaded = load(project)
    items = generate(context(loaded, memo))
    previous, latest = loaded.releases
    changes = items["changes/1.0...1.1/index.html"].context["changes"]
    assert changes is memo(diff_editions, previous.edition, latest.edition, memo)  # what the feed was made from
    assert changes == diff_editions(previous.edition, latest.edition)  # the same diff as without a memo
    feed = items["feed.xml"].data.decode("utf-8")
    assert "<li>App Alpha: 1 scope added, 1 scope changed, 1 destination added, Runs on Atlassian eligible to not eligible</li>" in feed
    assert "<li>App Beta: removed</li>" in feed and "<li>Section Incident response: added</li>" in feed
    assert items["feed.xml"].data == generate(context(loaded, None))["feed.xml"].data


def test_trust_json_is_the_whole_document_as_compact_json(project: Path) -> None:
    for draft in (True, False):
        ctx = context(load(project), IdentityMemo(), draft=draft)
        data = generate(ctx)["trust.json"].data
        document = trust_document(ctx, SiteLinks.of(ctx))
        assert data == to_json(document)
        assert json.loads(data) == document
        assert list(json.loads(data)) == list(document)  # keys in the order written, not sorted
        assert data.endswith(b"}\n") and data.count(b"\n") == 1  # one line and a newline
        assert [app["slug"] for app in document["apps"]] == ["alpha", "delta", "gamma"]
        assert document["apps"][0]["scopes"] and document["releases"][-1]["version"] == "1.1"
    for apps in ((), ctx.edition.apps[:1]):  # no apps, one app: the joins' edge cases
        without = RenderContext(ctx.project, replace(ctx.edition, apps=apps), ctx.release, ctx.draft, BUILD_DAY, IdentityMemo())
        without.memo.next_generation()
        assert generate(without)["trust.json"].data == to_json(trust_document(without, SiteLinks.of(without)))


def test_privacy_files_are_compact_json_with_the_answers(project: Path) -> None:
    items = generate(context(load(project), IdentityMemo()))
    data = items["apps/alpha/privacy-and-security.json"].data
    document = json.loads(data)
    assert data == (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    assert document["app"]["slug"] == "alpha" and document["$schema"].endswith("privacy-and-security.schema.json")
    assert document["thirdPartyInformation"]["egressDestinations"]  # alpha sends issue keys to its own service in v2


# ------------------------------------------------------------------------------------ IdentityMemo


@dataclass(frozen=True)
class Thing:
    name: str


class Counted:
    """A function that counts its calls, for asserting what the memo reused."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls: list[tuple] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        return self.function(*args)


def test_each_reuses_results_per_item_and_drops_the_rest() -> None:
    memo = IdentityMemo()
    a, b, c = Thing("a"), Thing("b"), Thing("c")
    upper = Counted(lambda thing, suffix: None if thing.name == "b" else thing.name.upper() + suffix)
    memo.next_generation()
    first = memo.each(upper, (a, b), "!")
    assert first == ("A!", None) and len(upper.calls) == 2
    memo.next_generation()
    assert memo.each(upper, (a, b, c), "!") == ("A!", None, "C!") and upper.calls[2:] == [(c, "!")]  # None is a result too
    assert memo.each(upper, (a, Thing("a")), "!") == ("A!", "A!") and len(upper.calls) == 4  # a second loop in the same build
    memo.next_generation()
    memo.each(upper, (c,), "!")
    memo.next_generation()
    memo.each(upper, (a, c), "!")
    assert upper.calls[4:] == [(a, "!")]  # a was in no loop of the build before: dropped
    memo.next_generation()
    memo.each(upper, (a, c), "?")
    assert upper.calls[5:] == [(a, "?"), (c, "?")]  # another shared argument: all new
    assert each(None, upper, (a,), "!") == ("A!",)


def test_a_reused_result_keeps_what_it_was_computed_from() -> None:
    memo = IdentityMemo()
    thing = Thing("x")
    inner = Counted(lambda t: t.name * 2)
    outer = Counted(lambda t, m: call(m, inner, t) + "!")
    per_item = Counted(lambda t, m: call(m, inner, t) + "?")
    for _ in range(4):  # the outer results are reused; the inner ones must survive with them
        memo.next_generation()
        assert memo(outer, thing, memo) == "xx!"
        assert memo.each(per_item, (thing,), memo) == ("xx?",)
    memo.next_generation()
    assert memo(inner, thing) == "xx"
    assert len(inner.calls) == 1 and len(outer.calls) == 1 and len(per_item.calls) == 1
    memo.next_generation()
    memo.next_generation()
    assert memo(inner, thing) == "xx" and len(inner.calls) == 2  # unused for a whole build: dropped


def test_arguments_are_compared_by_identity_and_plain_values_by_value() -> None:
    memo = IdentityMemo()
    memo.next_generation()
    join = Counted(lambda thing, text: thing.name + text)
    thing = Thing("a")
    assert memo(join, thing, "b" * 3) == memo(join, thing, "".join(["bbb"])) == "abbb"
    assert len(join.calls) == 1
    memo(join, Thing("a"), "bbb")  # equal, not the same: computed again
    assert len(join.calls) == 2


# ------------------------------------------------------------------------------------ badges


def elementtree_badge(badge: Badge) -> bytes:
    """The badge as ElementTree writes it: what badge_svg must give, byte for byte."""
    lw, mw, width = badge.label_width, badge.message_width, badge.width
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": str(width), "height": str(HEIGHT), "viewBox": f"0 0 {width} {HEIGHT}", "role": "img", "aria-label": badge.title})
    ET.SubElement(svg, "title").text = badge.title
    ET.SubElement(svg, "rect", {"width": str(width), "height": str(HEIGHT), "rx": "3", "fill": COLOURS[badge.tone]})
    ET.SubElement(svg, "rect", {"width": str(lw), "height": str(HEIGHT), "rx": "3", "fill": LABEL_COLOUR})
    ET.SubElement(svg, "rect", {"x": str(lw - 3), "width": "3", "height": str(HEIGHT), "fill": LABEL_COLOUR})
    group = ET.SubElement(svg, "g", {"fill": TEXT_COLOUR, "font-family": FONT_FAMILY, "font-size": str(FONT_SIZE), "text-anchor": "middle"})
    for x, text, box in ((lw / 2, badge.label, lw), (lw + mw / 2, badge.message, mw)):
        ET.SubElement(group, "text", {"x": _number(x), "y": "14", "textLength": str(box - 2 * PADDING), "lengthAdjust": "spacingAndGlyphs"}).text = text
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True) + b"\n"


HOSTILE = st.text(alphabet=st.sampled_from(list("aZ0 &<>\"'\r\n\t\u00b7\u00e9\u4e2d\U0001f512\x01\ud800]\\[")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(HOSTILE, HOSTILE, st.sampled_from(sorted(COLOURS)))
def test_badges_are_written_as_elementtree_writes_them(label: str, message: str, tone: str) -> None:
    badge = Badge(label, message, tone)
    assert badge_svg(badge) == elementtree_badge(badge)


def test_a_badge_for_a_real_app_name() -> None:
    badge = Badge("Security & permissions", "Notes <Keeper> \"Pro\"", "info")
    assert badge_svg(badge) == elementtree_badge(badge)
    assert b"Security &amp; permissions: Notes &lt;Keeper&gt; &quot;Pro&quot;" in badge_svg(badge)


# ------------------------------------------------------------------------------------ diffs


def test_the_quick_app_comparison_agrees_with_the_full_diff(project: Path) -> None:
    """``visible`` settles equal apps without a diff: it must never hide a change ``diff_app`` would show."""
    from site_builder.releases.diff import _diff_apps_by_slug, apps_by_slug, diff_apps

    loaded = load(project)
    editions = [r.edition for r in loaded.releases] + [loaded.working]
    alpha = next(app for app in loaded.working.apps if app.slug == "alpha")
    row = alpha.permissions[0]
    variants = [
        replace(alpha, permissions=(replace(row, description=row.description + " (reworded)"), *alpha.permissions[1:])),  # not shown
        replace(alpha, permissions=(replace(row, allow_impersonation=not row.allow_impersonation), *alpha.permissions[1:])),
        replace(alpha, permissions=alpha.permissions[1:]),
        replace(alpha, egress=tuple(replace(e, category="analytics") for e in alpha.egress)),
        replace(alpha, retention="Kept forever."),
        replace(alpha, name="Alpha Pro"),
        replace(alpha, data_processed=()),
    ]
    pairs = list(zip(editions, editions[1:]))
    pairs += [(loaded.working.apps, tuple(variant if app is alpha else app for app in loaded.working.apps)) for variant in variants]
    for old, new in pairs:
        old_apps, new_apps = getattr(old, "apps", old), getattr(new, "apps", new)
        memo = IdentityMemo()
        memo.next_generation()
        full = _diff_apps_by_slug(apps_by_slug(old_apps), apps_by_slug(new_apps))
        assert diff_apps(old_apps, new_apps) == full
        assert diff_apps(old_apps, new_apps, memo) == full
    reworded = diff_apps(loaded.working.apps, tuple(variants[0] if app is alpha else app for app in loaded.working.apps))
    assert reworded == ((), len(loaded.working.apps))
