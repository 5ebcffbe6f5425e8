"""The Marketplace kit (``/marketplace/``) and the SVG badges it offers.

For the vendor, not for search engines (``noindex``, not in the sitemap): for each app the exact
URLs to paste into its Marketplace listing, a badge with Markdown and HTML snippets to copy, and
the Privacy & Security questions the content cannot answer. Badges live at stable addresses
(``badges/policy.svg``, ``badges/apps/<slug>.svg``) and always show the current facts, so an
embedded badge updates itself on the next publish.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Iterator

from ..apps import App
from ..badges import Badge, badge_svg
from ..dates import long_date
from ..privacy import QUESTIONS, app_answers
from ..render import Asset, Page, RenderContext
from .links import MARKETPLACE_PATH, POLICY_BADGE_PATH, SiteLinks, app_badge_path, privacy_json_path

KIT_PAGE = MARKETPLACE_PATH + "index.html"


@dataclass(frozen=True)
class PasteLink:
    """One address for a listing field: what it is, the exact value, and where in the listing it goes."""

    label: str
    value: str
    href: str
    use: str


@dataclass(frozen=True)
class BadgeKit:
    badge: Badge
    path: str  # site path of the SVG, for the preview
    url: str  # absolute URL of the SVG, for the snippets
    target: str  # where the badge links to

    @property
    def markdown(self) -> str:
        alt = re.sub(r"([\\\[\]])", r"\\\1", self.badge.title)
        return f"[![{alt}]({self.url})]({self.target})"

    @property
    def html(self) -> str:
        return f'<a href="{html.escape(self.target)}"><img src="{html.escape(self.url)}" alt="{html.escape(self.badge.title)}" width="{self.badge.width}" height="20"></a>'


@dataclass(frozen=True)
class AppKit:
    app: App
    links: tuple[PasteLink, ...]
    badge: BadgeKit
    unanswered: tuple[tuple[str, str], ...]  # (field, question)


def policy_badge(ctx: RenderContext) -> Badge:
    """The policy badge, "Security policy | v1.0 · 1 July 2025"; a draft badge when nothing is released."""
    if ctx.draft or ctx.release is None:
        return Badge("Security policy", "draft, not in effect", "warn")
    return Badge("Security policy", f"v{ctx.release.version} \u00b7 {long_date(ctx.release.date)}", "ok")


def app_badge(app: App) -> Badge:
    return Badge("Security & permissions", app.name, "info")


def paste_links(app: App, ctx: RenderContext, links: SiteLinks) -> tuple[PasteLink, ...]:
    contacts = ctx.edition.site.contacts
    rows = [
        PasteLink("Trust center", links.trust_center, links.trust_center, "Privacy & Security tab: link to your security policy; listing description"),
        PasteLink(f"{app.name}: permissions and data", links.app(app), links.app(app), "Listing description or documentation link"),
        PasteLink("Permissions table", links.app(app, "permissions"), links.app(app, "permissions"), "Privacy & Security tab: why the app needs its scopes"),
        PasteLink("Data residency", links.app(app, "data-residency"), links.app(app, "data-residency"), "Privacy & Security tab: data residency"),
    ]
    if links.release:
        rows.append(PasteLink(f"Security policy, version {links.release.version} (permanent)", links.policy_version, links.policy_version, "Where a reviewer must see exactly the version they approved"))
    if links.vulnerability_reporting:
        rows.append(PasteLink("Vulnerability reporting", links.vulnerability_reporting, links.vulnerability_reporting, "Security contact details; bug bounty or disclosure fields"))
    rows.append(PasteLink("Security contact", contacts.security_email, f"mailto:{contacts.security_email}", "Privacy & Security tab: security contact"))
    rows.append(PasteLink("Privacy & Security answers (JSON)", links.url(privacy_json_path(app)), links.url(privacy_json_path(app)), "The answers below, for tools and for filling in the form"))
    return tuple(rows)


def app_kit(app: App, ctx: RenderContext, links: SiteLinks) -> AppKit:
    badge = BadgeKit(app_badge(app), app_badge_path(app), links.url(app_badge_path(app)), links.app(app))
    unanswered = tuple((field, QUESTIONS.get(field, field)) for field in app_answers(app).unanswered)
    return AppKit(app, paste_links(app, ctx, links), badge, unanswered)


def marketplace_pages(ctx: RenderContext) -> Iterator[Page | Asset]:
    links = SiteLinks.of(ctx)
    policy = BadgeKit(policy_badge(ctx), POLICY_BADGE_PATH, links.url(POLICY_BADGE_PATH), links.trust_center)
    kits = tuple(app_kit(app, ctx, links) for app in ctx.edition.apps)
    yield Asset(policy.path, badge_svg(policy.badge))
    for kit in kits:
        yield Asset(kit.badge.path, badge_svg(kit.badge.badge))
    yield Page(KIT_PAGE, "marketplace.html", {"policy_badge": policy, "kits": kits, "links": links}, indexable=False)
