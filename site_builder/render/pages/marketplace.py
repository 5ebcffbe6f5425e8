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

from ...forge.apps import App
from ..badges import Badge, badge_svg
from ...content.dates import long_date
from ...cache.memo import call, each
from ...content.model import Contacts, Release
from ...forge.privacy import QUESTIONS
from ..engine import Asset, Page, RenderContext
from .export import Answered, answered
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


def policy_badge(release: Release | None) -> Badge:
    """The policy badge, "Security policy | v1.0 · 1 July 2025"; a draft badge when nothing is released (or in a draft build)."""
    if release is None:
        return Badge("Security policy", "draft, not in effect", "warn")
    return Badge("Security policy", f"v{release.version} \u00b7 {long_date(release.date)}", "ok")


def app_badge(app: App) -> Badge:
    return Badge("Security & permissions", app.name, "info")


def paste_links(app: App, contacts: Contacts, links: SiteLinks) -> tuple[PasteLink, ...]:
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


def app_kit(item: Answered, contacts: Contacts, links: SiteLinks) -> AppKit:
    app = item.app
    badge = BadgeKit(app_badge(app), app_badge_path(app), links.url(app_badge_path(app)), links.app(app))
    unanswered = tuple((field, QUESTIONS.get(field, field)) for field in item.answers.unanswered)
    return AppKit(app, paste_links(app, contacts, links), badge, unanswered)


def policy_kit(links: SiteLinks) -> BadgeKit:
    """The policy badge of the build whose links these are (``links.release`` is None in a draft)."""
    return BadgeKit(policy_badge(links.release), POLICY_BADGE_PATH, links.url(POLICY_BADGE_PATH), links.trust_center)


def badge_asset(kit: BadgeKit) -> Asset:
    return Asset(kit.path, badge_svg(kit.badge))


def app_kit_files(item: Answered, contacts: Contacts, links: SiteLinks) -> tuple[AppKit, Asset]:
    """What the kit derives from one app: its entry on the page and its badge."""
    kit = app_kit(item, contacts, links)
    return kit, Asset(kit.badge.path, badge_svg(kit.badge.badge))


def kit_page(policy: BadgeKit, links: SiteLinks, *kits: AppKit) -> Page:
    return Page(KIT_PAGE, "marketplace.html", {"policy_badge": policy, "kits": kits, "links": links}, indexable=False)


def marketplace_pages(ctx: RenderContext) -> Iterator[Page | Asset]:
    memo, apps = ctx.memo, ctx.edition.apps
    links = SiteLinks.of(ctx)
    policy = call(memo, policy_kit, links)
    pairs = each(memo, app_kit_files, each(memo, answered, apps), ctx.edition.site.contacts, links)
    kits, badges = tuple(zip(*pairs)) or ((), ())
    yield call(memo, badge_asset, policy)
    yield from badges
    yield call(memo, kit_page, policy, links, *kits)
