"""``/_headers``: the security headers for Netlify and Cloudflare Pages (the policy is in ``site_builder.render.security_headers``)."""

from __future__ import annotations

from typing import Iterator

from ...forge.apps import App
from ..security_headers import headers_file
from ...cache.memo import IdentityMemo, call
from ..engine import Asset, RenderContext
from .links import MARKETPLACE_PATH, PRIVACY_SCHEMA_PATH, SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, privacy_json_path_of


def headers_files(ctx: RenderContext) -> Iterator[Asset]:
    yield call(ctx.memo, headers_of_apps, ctx.edition.site.base_url, ctx.draft, ctx.edition.apps, ctx.memo)


def headers_of_apps(base_url: str, draft: bool, apps: tuple[App, ...], memo: IdentityMemo | None) -> Asset:
    """Through ``headers_asset``, which takes the slugs by value: the same file while no app is added, removed or renamed."""
    return call(memo, headers_asset, base_url, draft, *(app.slug for app in apps))


def headers_asset(base_url: str, draft: bool, *slugs: str) -> Asset:
    """From values only (the apps' slugs): the file is reused while no app is added, removed or renamed."""
    public = (SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, PRIVACY_SCHEMA_PATH, *(privacy_json_path_of(slug) for slug in slugs))
    text = headers_file(base_url, draft=draft, public_files=public, noindex_prefixes=(MARKETPLACE_PATH,))
    return Asset("_headers", text.encode("utf-8"))
