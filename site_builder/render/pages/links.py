"""The site's public addresses that machines and Marketplace listings point at, computed in one place.

Every value is absolute, from ``base_url``: these are the URLs a vendor pastes into a listing and
the URLs written into security.txt, the sitemap and the JSON exports. Page links between the
site's own pages stay relative (``render.relative_url``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...forge.apps import App
from ...cache.memo import call
from ...content.model import Edition, Release, Section
from ..engine import RenderContext, absolute_url

VULNERABILITY_ANCHOR = "vulnerability-reporting"
SECURITY_TXT_PATH = ".well-known/security.txt"
TRUST_JSON_PATH = "trust.json"
TRUST_SCHEMA_PATH = "trust.schema.json"
PRIVACY_SCHEMA_PATH = "privacy-and-security.schema.json"
MARKETPLACE_PATH = "marketplace/"
POLICY_BADGE_PATH = "badges/policy.svg"


def app_path(app: App) -> str:
    return f"apps/{app.slug}/"


def privacy_json_path(app: App) -> str:
    return privacy_json_path_of(app.slug)


def privacy_json_path_of(slug: str) -> str:
    return f"apps/{slug}/privacy-and-security.json"


def app_badge_path(app: App) -> str:
    return f"badges/apps/{app.slug}.svg"


def version_path(release: Release) -> str:
    return f"versions/{release.version}/"


def find_section(edition: Edition, anchor: str) -> Section | None:
    return next((s for s in edition.sections if s.anchor == anchor), None)


@dataclass(frozen=True)
class SiteLinks:
    """Absolute URLs of one build: the trust center, its current version and its machine-readable files."""

    base_url: str
    release: Release | None  # None for a draft build: no permanent version URL exists yet
    vulnerability_reporting: str  # "" when no section has the anchor

    @classmethod
    def of(cls, ctx: RenderContext) -> "SiteLinks":
        """The same object while its three values are the same: what is derived from it per app is reused."""
        base = ctx.edition.site.base_url
        release = None if ctx.draft else ctx.release
        section = find_section(ctx.edition, VULNERABILITY_ANCHOR)
        return call(ctx.memo, cls, base, release, absolute_url(base, f"#{section.anchor}") if section else "")

    def url(self, path: str) -> str:
        return absolute_url(self.base_url, path)

    @property
    def trust_center(self) -> str:
        return self.base_url

    @property
    def policy_version(self) -> str:
        """The current version's permanent URL, or "" in a draft."""
        return self.url(version_path(self.release)) if self.release else ""

    def section(self, section: Section) -> str:
        return self.url(f"#{section.anchor}")

    def permanent_section(self, section: Section) -> str:
        return f"{self.policy_version}#{section.anchor}" if self.release else ""

    def app(self, app: App, fragment: str = "") -> str:
        return self.url(app_path(app) + (f"#{fragment}" if fragment else ""))
