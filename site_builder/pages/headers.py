"""``/_headers``: the security headers for Netlify and Cloudflare Pages (the policy is in ``site_builder.headers``)."""

from __future__ import annotations

from typing import Iterator

from ..headers import headers_file
from ..render import Asset, RenderContext
from .links import MARKETPLACE_PATH, PRIVACY_SCHEMA_PATH, SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, privacy_json_path


def headers_files(ctx: RenderContext) -> Iterator[Asset]:
    public = (SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, PRIVACY_SCHEMA_PATH, *(privacy_json_path(app) for app in ctx.edition.apps))
    text = headers_file(ctx.edition.site.base_url, draft=ctx.draft, public_files=public, noindex_prefixes=(MARKETPLACE_PATH,))
    yield Asset("_headers", text.encode("utf-8"))
