"""Versions: ``/versions/``, a permanent page for every release, and ``/changes/<a>...<b>/``.

A release's pages are rendered from that release's frozen edition only, never from "the latest":
``/versions/<v>/`` (the policy as it was, canonical to itself), ``/versions/<v>/apps/...`` (its apps
as they were: the version page links there, so a reader never lands on another version's
permissions), and ``/changes/<previous>...<v>/``. Each of those pages gets the release's own
``ctx``, ``edition`` and ``url`` (which maps ``apps/...`` links into the release's folder), so the
page frame (navigation, footer) cannot read the current edition either.

The one thing that changes on a release's pages is added exactly once: when the next release
exists, the version page says "Version X, effective DATE, superseded by Y on DATE". It names the
*next* version, which never changes once it exists, and links to ``/`` for the current one, so
from then on the bytes are final. Tests check both halves: before the next release the page is
the same bytes minus that notice, and after it every later release leaves the bytes alone.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Iterator

from ..diff import diff_editions
from ..model import Edition, Release
from ..releases import DRAFT
from ..render import Asset, Page, RenderContext, relative_url
from .apps import app_pages
from .links import version_path
from .policy import policy_context

MOUNTED = ("apps/",)  # site paths that a release's pages resolve inside the release's own folder


def changes_path(old: Release, new: Release | None) -> str:
    """``changes/1.0...1.1/``; ``changes/1.1...draft/`` for the working copy."""
    return f"changes/{old.version}...{new.version if new else DRAFT}/"


def mounted_url(prefix: str, page_path: str, target: str) -> str:
    """``url()`` for a release's page: ``apps/...`` means this release's apps, everything else the site's."""
    if target.startswith(MOUNTED):
        target = prefix + target
    return relative_url(page_path, target)


def release_context(ctx: RenderContext, release: Release) -> RenderContext:
    """The render context as it was when ``release`` was the latest, for the frame of its pages."""
    return replace(ctx, edition=release.edition, release=release, draft=False)


def release_variables(ctx: RenderContext, release: Release, page_path: str) -> dict:
    """Page variables that pin a page to one release, whatever the current edition or build mode."""
    return {
        "ctx": release_context(ctx, release),
        "edition": release.edition,
        "release": release,
        "draft": False,  # released content, even in a draft preview (which stays noindex)
        "url": partial(mounted_url, version_path(release), page_path),
    }


def neighbours(releases: tuple[Release, ...], index: int) -> tuple[Release | None, Release | None]:
    previous = releases[index - 1] if index > 0 else None
    successor = releases[index + 1] if index + 1 < len(releases) else None
    return previous, successor


def version_pages(ctx: RenderContext) -> Iterator[Page | Asset]:
    releases = ctx.project.releases
    if not releases:
        return
    yield Page("versions/index.html", "versions.html", {"rows": tuple(version_rows(releases)), "draft_changes": draft_changes_path(ctx)})
    for index, release in enumerate(releases):
        previous, successor = neighbours(releases, index)
        yield from release_pages(ctx, release, previous, successor)
    if ctx.draft and ctx.project.latest is not None:
        yield draft_changes_page(ctx, ctx.project.latest)


def draft_changes_path(ctx: RenderContext) -> str:
    return changes_path(ctx.project.latest, None) if ctx.draft and ctx.project.latest is not None else ""


def version_rows(releases: tuple[Release, ...]) -> Iterator[dict]:
    """Newest first: each release with the one before it (for its changes link) and after it."""
    for index in reversed(range(len(releases))):
        previous, successor = neighbours(releases, index)
        yield {"release": releases[index], "previous": previous, "successor": successor}


def release_pages(ctx: RenderContext, release: Release, previous: Release | None, successor: Release | None) -> Iterator[Page | Asset]:
    """Everything under ``versions/<v>/``, and ``changes/<previous>...<v>/``: the pages of one release."""
    prefix = version_path(release)
    path = prefix + "index.html"
    yield Page(
        path,
        "version.html",
        {**policy_context(release.edition), **release_variables(ctx, release, path), "previous": previous, "successor": successor},
    )
    for item in app_pages(release_context(ctx, release)):
        mounted = prefix + item.path
        if isinstance(item, Asset):
            yield Asset(mounted, item.data)
        else:
            yield Page(mounted, item.template, {**item.context, **release_variables(ctx, release, mounted)}, indexable=item.indexable)
    if previous is not None:
        changes = changes_path(previous, release) + "index.html"
        yield Page(
            changes,
            "changes.html",
            {**release_variables(ctx, release, changes), **changes_context(previous, previous.edition, release, release.edition)},
        )


def changes_context(old: Release, old_edition: Edition, new: Release | None, new_edition: Edition) -> dict:
    """What changes.html needs; ``new`` is None for the draft. Links go to each side's permanent pages."""
    return {
        "old": old,
        "new": new,
        "changes": diff_editions(old_edition, new_edition),
        "old_page": version_path(old),
        "new_page": version_path(new) if new else "",
        "old_edition": old_edition,
        "new_edition": new_edition,
    }


def draft_changes_page(ctx: RenderContext, latest: Release) -> Page:
    """In a draft build only: what the draft would change, for the author's review. Never indexed."""
    return Page(changes_path(latest, None) + "index.html", "changes.html", changes_context(latest, latest.edition, None, ctx.edition), indexable=False)
