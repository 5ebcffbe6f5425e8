"""The machine-readable export: ``/trust.json``, per app ``/apps/<slug>/privacy-and-security.json``, and their schemas.

Both files are made from the same model as the pages, so a procurement tool, a Marketplace
listing and a reader of the site see the same facts. Their JSON Schemas ship in the package
(``site_builder/schemas/``) and are published beside them; ``$schema`` points at the published copy.
Output is deterministic: keys in a fixed order, lists in model order, no build time. The files are
compact JSON (no indentation), which the C encoder writes; each app's part of ``trust.json`` is
encoded once and reused while the app is the same object (serve), so one edit re-encodes one app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterator

from ...forge.apps import App
from ...cache.memo import call, each
from ...content.model import Contacts, Edition, Release
from ...forge.privacy import Answers, app_answers
from ..engine import Asset, RenderContext
from .links import PRIVACY_SCHEMA_PATH, SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, SiteLinks, privacy_json_path, version_path

# separators without spaces and no indent: json's C encoder (indent= forces the pure-Python one, much slower; see BENCHMARKS.md, 'Figures behind the code')
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_text(data: Any) -> str:
    """Compact JSON, keys in the order the dict was written."""
    return _ENCODER.encode(data)


def to_json(data: Any) -> bytes:
    """A JSON file: compact JSON and one newline."""
    return (json_text(data) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Answered:
    """An app and its Privacy & Security answers, derived once per app object and shared by the export and the Marketplace kit.

    Loops over these (``ctx.memo.each``) reuse each result while the app is the same object, with
    no nested memo look-up per app.
    """

    app: App
    answers: Answers


def answered(app: App) -> Answered:
    return Answered(app, app_answers(app))


def schema_bytes(path: str) -> bytes:
    return resources.files("site_builder").joinpath(f"schemas/{path}").read_bytes()


def privacy_and_security(app: App, contacts: Contacts, links: SiteLinks, answers: Answers | None = None) -> dict[str, Any]:
    """The Marketplace Privacy & Security tab's sections for one app, with the site's contacts filled in."""
    if answers is None:
        answers = app_answers(app)
    sections = answers.sections
    return {
        "$schema": links.url(PRIVACY_SCHEMA_PATH),
        "app": {
            "slug": app.slug,
            "name": app.name,
            "sample": app.is_sample,
            "pageUrl": links.app(app),
            "listingUrl": app.listing_url or None,
        },
        "policy": {
            "version": str(links.release.version) if links.release else None,
            "url": links.trust_center,
            "permanentUrl": links.policy_version or None,
        },
        "dataAccessAndStorage": sections["dataAccessAndStorage"],
        "thirdPartyInformation": sections["thirdPartyInformation"],
        "logDetails": sections["logDetails"],
        "dataResidency": {**sections["dataResidency"], "moreInformation": links.app(app, "data-residency")},
        "dataRetention": sections["dataRetention"],
        "security": {
            "securityContact": contacts.security_email,
            "supportPortal": contacts.support_portal,
            "publicSecurityPoliciesLink": links.trust_center,
            "vulnerabilityReportingUrl": links.vulnerability_reporting or None,
            "securityTxt": links.url(SECURITY_TXT_PATH),
            **sections["security"],
        },
        "unanswered": list(answers.unanswered),
    }


def trust_document(ctx: RenderContext, links: SiteLinks) -> dict[str, Any]:
    """Everything a procurement tool needs about the trust center, in one file."""
    return {**trust_head(ctx.edition, ctx.draft, ctx.project.releases, links), "apps": [_app(app, links, app_answers(app)) for app in ctx.edition.apps]}


def trust_head(edition: Edition, draft: bool, releases: tuple[Release, ...], links: SiteLinks) -> dict[str, Any]:
    """``trust.json`` but its last key, ``apps``: what does not depend on the apps."""
    site = edition.site
    organisation, contacts, policy = site.organisation, site.contacts, site.policy
    release = links.release
    return {
        "$schema": links.url(TRUST_SCHEMA_PATH),
        "url": links.trust_center,
        "language": site.language,
        "organisation": {
            "name": organisation.name,
            "legalName": organisation.legal_name,
            "address": list(organisation.address),
            "website": organisation.website,
            "email": organisation.email,
        },
        "contacts": {
            "securityEmail": contacts.security_email,
            "supportPortal": contacts.support_portal,
            "responseTime": contacts.response_time,
            "criticalFixTime": contacts.critical_fix_time,
            "vulnerabilityReportingUrl": links.vulnerability_reporting or None,
            "securityTxt": links.url(SECURITY_TXT_PATH),
        },
        "policy": {
            "title": policy.title,
            "shortTitle": policy.short_title,
            "appliesTo": policy.applies_to or None,
            "productsCovered": policy.products_covered or None,
            "status": "draft" if draft or release is None else "released",
            "version": str(release.version) if release else None,
            "effectiveDate": release.date.isoformat() if release else None,
            "lastReviewed": policy.last_reviewed.isoformat(),
            "reviewIntervalDays": policy.review_interval_days,
            "url": links.trust_center,
            "permanentUrl": links.policy_version or None,
            "related": [{"title": link.title, "url": link.url} for link in policy.related],
        },
        "sections": [
            {
                "anchor": section.anchor,
                "title": section.title,
                "group": section.group or None,
                "url": links.section(section),
                "permanentUrl": links.permanent_section(section) or None,
            }
            for section in edition.sections
        ],
        "releases": [_release(r, links) for r in releases],
    }


def trust_json(head: str, *apps: bytes) -> Asset:
    """``trust.json`` from its head's JSON and each app's: the bytes ``to_json`` gives for the whole document.

    Joined in one pass: on a large site the file is big, and every extra copy of it costs time (see BENCHMARKS.md, 'Figures behind the code').
    """
    prefix, suffix = head[:-1].encode("utf-8") + b',"apps":[', b"]}\n"
    if len(apps) < 2:
        return Asset(TRUST_JSON_PATH, prefix + b"".join(apps) + suffix)
    return Asset(TRUST_JSON_PATH, b",".join((prefix + apps[0], *apps[1:-1], apps[-1] + suffix)))


def app_exports(item: Answered, contacts: Contacts, links: SiteLinks) -> tuple[bytes, Asset]:
    """What the export derives from one app: its entry in ``trust.json`` (as JSON) and ``apps/<slug>/privacy-and-security.json``."""
    app, answers = item.app, item.answers
    return json_text(_app(app, links, answers)).encode("utf-8"), Asset(privacy_json_path(app), to_json(privacy_and_security(app, contacts, links, answers)))


def _release(release: Release, links: SiteLinks) -> dict[str, Any]:
    return {"version": str(release.version), "date": release.date.isoformat(), "summary": release.summary, "url": links.url(version_path(release))}


def _app(app: App, links: SiteLinks, answers: Answers) -> dict[str, Any]:
    sections = answers.sections
    return {
        "slug": app.slug,
        "name": app.name,
        "sample": app.is_sample,
        "summary": app.summary,
        "url": links.app(app),
        "listingUrl": app.listing_url or None,
        "privacyAndSecurity": links.url(privacy_json_path(app)),
        "products": [{"key": p.key, "name": p.name} for p in app.products],
        "scopes": [
            {
                "scope": row.scope,
                "product": row.product,
                "access": row.access,
                "description": row.description,
                "why": row.why or None,
                "allowImpersonation": row.allow_impersonation,
                "legacyConnect": row.legacy_connect,
            }
            for row in app.permissions
        ],
        "egress": sections["thirdPartyInformation"]["egressDestinations"],
        "remotes": sections["thirdPartyInformation"]["remoteBackEnds"],
        "customerManagedEgress": app.manifest.customer_managed_egress,
        "residency": {**sections["dataResidency"], "moreInformation": links.app(app, "data-residency")},
        "storage": {
            "dataStored": list(app.data_stored),
            "dataProcessed": list(app.data_processed),
            "retention": app.retention or None,
            "classifications": list(app.manifest.storage_classifications),
            "entities": list(app.manifest.storage_entities),
        },
        "verdict": {
            "runsOnAtlassian": app.verdict.eligible,
            "reasons": [{"code": r.code, "text": r.text} for r in app.verdict.reasons],
            "notes": list(app.verdict.notes),
        },
    }


def export_files(ctx: RenderContext) -> Iterator[Asset]:
    links = SiteLinks.of(ctx)
    memo, edition = ctx.memo, ctx.edition
    head = json_text(trust_head(edition, ctx.draft, ctx.project.releases, links))
    exports = each(memo, app_exports, each(memo, answered, edition.apps), edition.site.contacts, links)
    entries, files = tuple(zip(*exports)) or ((), ())
    yield call(memo, trust_json, head, *entries)
    yield call(memo, schema_asset, TRUST_SCHEMA_PATH)
    yield call(memo, schema_asset, PRIVACY_SCHEMA_PATH)
    yield from files


def schema_asset(path: str) -> Asset:
    return Asset(path, schema_bytes(path))
