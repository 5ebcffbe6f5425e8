"""The machine-readable export: ``/trust.json``, per app ``/apps/<slug>/privacy-and-security.json``, and their schemas.

Both files are made from the same model as the pages, so a procurement tool, a Marketplace
listing and a reader of the site see the same facts. Their JSON Schemas ship in the package
(``site_builder/schemas/``) and are published beside them; ``$schema`` points at the published copy.
Output is deterministic: keys in a fixed order, lists in model order, no build time.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Iterator

from ..apps import App
from ..model import Edition, Release
from ..privacy import app_answers
from ..render import Asset, RenderContext
from .links import PRIVACY_SCHEMA_PATH, SECURITY_TXT_PATH, TRUST_JSON_PATH, TRUST_SCHEMA_PATH, SiteLinks, privacy_json_path, version_path


def to_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def schema_bytes(path: str) -> bytes:
    return resources.files("site_builder").joinpath(f"schemas/{path}").read_bytes()


def privacy_and_security(app: App, edition: Edition, links: SiteLinks) -> dict[str, Any]:
    """The Marketplace Privacy & Security tab's sections for one app, with the site's contacts filled in."""
    contacts = edition.site.contacts
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
    edition = ctx.edition
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
            "status": "draft" if ctx.draft or release is None else "released",
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
        "releases": [_release(r, links) for r in ctx.project.releases],
        "apps": [_app(app, links) for app in edition.apps],
    }


def _release(release: Release, links: SiteLinks) -> dict[str, Any]:
    return {"version": str(release.version), "date": release.date.isoformat(), "summary": release.summary, "url": links.url(version_path(release))}


def _app(app: App, links: SiteLinks) -> dict[str, Any]:
    sections = app_answers(app).sections
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
    yield Asset(TRUST_JSON_PATH, to_json(trust_document(ctx, links)))
    yield Asset(TRUST_SCHEMA_PATH, schema_bytes(TRUST_SCHEMA_PATH))
    yield Asset(PRIVACY_SCHEMA_PATH, schema_bytes(PRIVACY_SCHEMA_PATH))
    for app in ctx.edition.apps:
        yield Asset(privacy_json_path(app), to_json(privacy_and_security(app, ctx.edition, links)))
