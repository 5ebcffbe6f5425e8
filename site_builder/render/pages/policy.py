"""The trust page (the policy as in effect) and the 404 page."""

from __future__ import annotations

from itertools import groupby
from typing import Iterator

from ...cache.memo import call
from ...content.model import Edition, Release, Section
from ..engine import Page, RenderContext


def section_groups(sections: tuple[Section, ...]) -> list[tuple[str, list[Section]]]:
    """Consecutive sections that share a group, for a nested table of contents."""
    return [(group, list(items)) for group, items in groupby(sections, key=lambda s: s.group)]


def policy_context(edition: Edition) -> dict:
    return {"edition": edition, "groups": section_groups(edition.sections)}


def policy_pages(ctx: RenderContext) -> Iterator[Page]:
    canonical = f"versions/{ctx.release.version}/" if ctx.release and not ctx.draft else ""
    yield call(ctx.memo, trust_page, ctx.edition, None if ctx.draft else ctx.release, canonical)
    yield call(ctx.memo, not_found_page)


def trust_page(edition: Edition, release: Release | None, canonical: str) -> Page:
    return Page("index.html", "index.html", {**policy_context(edition), "release": release}, canonical=canonical)


def not_found_page() -> Page:
    return Page("404.html", "404.html", {}, indexable=False, root_relative=True)
