"""The apps pages: /apps/ with every app at a glance, and /apps/<slug>/ for each app.

An app's page depends on that app only (its variables are ``app``; the frame reads the edition
from ``ctx``), so with ``ctx.memo`` an unchanged app keeps its very Page object between rebuilds.
"""

from __future__ import annotations

from typing import Iterator

from ...forge.apps import App
from ...cache.memo import call, each
from ..engine import Page, RenderContext


def app_pages(ctx: RenderContext) -> Iterator[Page]:
    """One overview page and one page per app of the edition shown at the site root; none without apps."""
    apps = ctx.edition.apps
    if not apps:
        return
    yield call(ctx.memo, apps_page, apps)
    yield from each(ctx.memo, app_page, apps)


def apps_page(apps: tuple[App, ...]) -> Page:
    return Page("apps/index.html", "apps.html", {"apps": apps})


def app_page(app: App) -> Page:
    return Page(f"apps/{app.slug}/index.html", "app.html", {"app": app})
