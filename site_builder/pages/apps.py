"""The apps pages: /apps/ with every app at a glance, and /apps/<slug>/ for each app."""

from __future__ import annotations

from typing import Iterator

from ..render import Page, RenderContext


def app_pages(ctx: RenderContext) -> Iterator[Page]:
    """One overview page and one page per app of the edition shown at the site root; none without apps."""
    apps = ctx.edition.apps
    if not apps:
        return
    yield Page("apps/index.html", "apps.html", {"apps": apps})
    for app in apps:
        yield Page(f"apps/{app.slug}/index.html", "app.html", {"app": app, "apps": apps})
