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

With ``ctx.memo`` a release's pages are made once and kept while the release, its neighbours and
the build day are the same (serve): a rebuild after an edit to the working copy reuses every one
of those Page objects, and each pair of editions is diffed once per build (the feed shares it).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Iterator

from ...releases.diff import EditionDiff, diff_editions
from ...cache.memo import IdentityMemo, call
from ...content.model import Edition, Project, Release
from ...releases.history import DRAFT
from ..engine import Page, RenderContext, relative_url
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
    """The render context as it was when ``release`` was the latest, for the frame of its pages.

    Its project is the releases up to ``release`` with that release as the working copy, so the
    frame of a release's pages never depends on later content (and the object is reused while
    those releases and the build day are the same).
    """
    releases = ctx.project.releases
    known = next((index for index, other in enumerate(releases) if other is release), None)
    upto = releases[: known + 1] if known is not None else (release,)
    return call(ctx.memo, release_frame, ctx.build_date.toordinal(), ctx.memo, *upto)


def release_frame(build_day: int, memo: IdentityMemo | None, *releases: Release) -> RenderContext:
    """The context of the last of ``releases``'s pages (``build_day``: the build date's ordinal)."""
    release = releases[-1]
    return RenderContext(Project(releases, release.edition), release.edition, release, False, date.fromordinal(build_day), memo)


def release_variables(frame: RenderContext, page_path: str) -> dict:
    """Page variables that pin a page to the frame's release, whatever the current edition or build mode."""
    release = frame.release
    assert release is not None
    return {
        "ctx": frame,
        "edition": release.edition,
        "release": release,
        "draft": False,  # released content, even in a draft preview (which stays noindex)
        "url": partial(mounted_url, version_path(release), page_path),
    }


def neighbours(releases: tuple[Release, ...], index: int) -> tuple[Release | None, Release | None]:
    previous = releases[index - 1] if index > 0 else None
    successor = releases[index + 1] if index + 1 < len(releases) else None
    return previous, successor


def version_pages(ctx: RenderContext) -> Iterator[Page]:
    releases, memo = ctx.project.releases, ctx.memo
    if not releases:
        return
    yield call(memo, versions_page, draft_changes_path(ctx), *releases)
    for index, release in enumerate(releases):
        previous, successor = neighbours(releases, index)
        changes = None if previous is None else call(memo, diff_editions, previous.edition, release.edition, memo)
        yield from call(memo, release_pages, release_context(ctx, release), previous, successor, changes)
    if ctx.draft and ctx.project.latest is not None:
        latest = ctx.project.latest
        yield call(memo, draft_changes_page, latest, ctx.edition, call(memo, diff_editions, latest.edition, ctx.edition, memo))


def versions_page(draft_changes: str, *releases: Release) -> Page:
    return Page("versions/index.html", "versions.html", {"rows": tuple(version_rows(releases)), "draft_changes": draft_changes})


def draft_changes_path(ctx: RenderContext) -> str:
    return changes_path(ctx.project.latest, None) if ctx.draft and ctx.project.latest is not None else ""


def version_rows(releases: tuple[Release, ...]) -> Iterator[dict]:
    """Newest first: each release with the one before it (for its changes link) and after it."""
    for index in reversed(range(len(releases))):
        previous, successor = neighbours(releases, index)
        yield {"release": releases[index], "previous": previous, "successor": successor}


def release_pages(frame: RenderContext, previous: Release | None, successor: Release | None, changes: EditionDiff | None) -> tuple[Page, ...]:
    """Everything under ``versions/<v>/``, and ``changes/<previous>...<v>/``: the pages of the frame's release.

    ``changes`` is ``diff_editions(previous.edition, release.edition)``, None for the first release.
    """
    release = frame.release
    assert release is not None
    prefix = version_path(release)
    path = prefix + "index.html"
    pages = [Page(path, "version.html", {**policy_context(release.edition), **release_variables(frame, path), "previous": previous, "successor": successor})]
    apps = release.edition.apps
    if apps:
        pages.append(release_page(frame, prefix + "apps/index.html", "apps.html", {"apps": apps}))
        pages.extend(release_page(frame, f"{prefix}apps/{app.slug}/index.html", "app.html", {"app": app}) for app in apps)
    if previous is not None:
        changes_page = changes_path(previous, release) + "index.html"
        if changes is None:
            changes = diff_editions(previous.edition, release.edition)
        pages.append(Page(changes_page, "changes.html", {**release_variables(frame, changes_page), **changes_context(previous, previous.edition, release, release.edition, changes)}))
    return tuple(pages)


def release_page(frame: RenderContext, path: str, template: str, variables: dict) -> Page:
    return Page(path, template, {**variables, **release_variables(frame, path)})


def changes_context(old: Release, old_edition: Edition, new: Release | None, new_edition: Edition, changes: EditionDiff | None = None) -> dict:
    """What changes.html needs; ``new`` is None for the draft. Links go to each side's permanent pages."""
    return {
        "old": old,
        "new": new,
        "changes": changes if changes is not None else diff_editions(old_edition, new_edition),
        "old_page": version_path(old),
        "new_page": version_path(new) if new else "",
        "old_edition": old_edition,
        "new_edition": new_edition,
    }


def draft_changes_page(latest: Release, working: Edition, changes: EditionDiff | None = None) -> Page:
    """In a draft build only: what the draft would change, for the author's review. Never indexed."""
    return Page(changes_path(latest, None) + "index.html", "changes.html", changes_context(latest, latest.edition, None, working, changes), indexable=False)
