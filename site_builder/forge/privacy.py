"""An app's answers to the Marketplace "Privacy & Security" questions, derived from its manifest and app.yaml.

The listing's Privacy & Security tab asks about data access and storage, third parties, logs,
data residency, retention and security. Where the manifest or app.yaml settles a question, the
answer is derived here, once, so the listing and the trust site cannot drift. Where they do not
(whether the app writes End-User Data to its logs, for example), the answer is ``None`` and the
field is listed in ``unanswered``: ``site-builder check`` reports those, and nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .apps import App, RemoteRow

# The question behind each field, in the listing form's words, for check and the Marketplace kit.
QUESTIONS: dict[str, str] = {
    "dataAccessAndStorage.appProcessesEndUserDataOutsideAtlassian": "Does the app process End-User Data outside Atlassian?",
    "dataAccessAndStorage.appStoresEndUserDataOutsideAtlassian": "Does the app store End-User Data outside Atlassian?",
    "dataAccessAndStorage.typesOfDataStored": "What data does the app store? (app.yaml data_stored)",
    "thirdPartyInformation.isEndUserDataShared": "Does the app share End-User Data with third parties?",
    "logDetails.logsLeaveAtlassian": "Are the app's logs kept outside Atlassian?",
    "logDetails.isEndUserDataInLogs": "Does the app write End-User Data to its logs?",
    "dataResidency.isDataResidencySupported": "Does the app support data residency?",
    "dataRetention.storesData": "Does the app store data at all? (app.yaml data_stored)",
    "dataRetention.retention": "How long is stored data kept, and how is it deleted? (app.yaml retention)",
    "security.permissionsJustification": "Why does the app need each scope? (app.yaml scopes)",
}
RESIDENCY_SUPPORTED = "supported"
RESIDENCY_NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Answers:
    """The app-derived sections of privacy-and-security.json and the dotted fields left open."""

    sections: dict[str, dict[str, Any]]
    unanswered: tuple[str, ...]


def may_send_end_user_data(app: App) -> bool:
    """A remote, or an egress destination that may carry in-scope End-User Data (Forge's default)."""
    return bool(app.remotes) or any(row.end_user_data for row in app.egress)


def destinations_are_closed(app: App) -> bool:
    """True when the manifest alone shows that no End-User Data can leave Atlassian."""
    return not may_send_end_user_data(app) and not app.manifest.customer_managed_egress


def may_store(app: App) -> bool:
    """Forge storage, custom entities, or a remote that may store End-User Data."""
    manifest = app.manifest
    return manifest.scope("storage:app") is not None or bool(manifest.storage_entities) or any(r.remote.may_store_eud for r in app.remotes)


def app_answers(app: App) -> Answers:
    unanswered: list[str] = []
    sections = {
        "dataAccessAndStorage": _data_access_and_storage(app, unanswered),
        "thirdPartyInformation": _third_party_information(app, unanswered),
        "logDetails": _log_details(app, unanswered),
        "dataResidency": _data_residency(app, unanswered),
        "dataRetention": _data_retention(app, unanswered),
        "security": {"permissionsJustification": _permissions_justification(app, unanswered)},
    }
    return Answers(sections, tuple(unanswered))


def unanswered_fields(app: App) -> list[str]:
    """Dotted names of the Privacy & Security fields that the app's content cannot answer, for ``check``."""
    return list(app_answers(app).unanswered)


def _answer(value: Any, field: str, unanswered: list[str]) -> Any:
    if value is None:
        unanswered.append(field)
    return value


def _data_access_and_storage(app: App, unanswered: list[str]) -> dict[str, Any]:
    closed = destinations_are_closed(app)
    product_scopes = any(row.known and row.product_key != "platform" for row in app.permissions)
    if closed:
        stores_outside: bool | None = False
        processes_outside: bool | None = False
    else:
        stores_outside = True if any(r.remote.may_store_eud for r in app.remotes) else None
        processes_outside = True if may_send_end_user_data(app) else None
    stored: list[str] | None = list(app.data_stored)
    if not stored and may_store(app):
        stored = None  # the manifest lets it store data and app.yaml does not say what
    section = "dataAccessAndStorage"
    return {
        "appAccessesEndUserData": product_scopes or bool(app.data_processed or app.data_stored),
        "appProcessesEndUserDataOutsideAtlassian": _answer(processes_outside, f"{section}.appProcessesEndUserDataOutsideAtlassian", unanswered),
        "appStoresEndUserDataOutsideAtlassian": _answer(stores_outside, f"{section}.appStoresEndUserDataOutsideAtlassian", unanswered),
        "appStoresDataInForgeStorage": app.manifest.scope("storage:app") is not None or bool(app.manifest.storage_entities),
        "typesOfDataStored": _answer(stored, f"{section}.typesOfDataStored", unanswered),
        "typesOfDataProcessed": list(app.data_processed),
    }


def _third_party_information(app: App, unanswered: list[str]) -> dict[str, Any]:
    # Whether a destination is a third party or the vendor's own service is not in the manifest.
    shared = False if destinations_are_closed(app) else None
    return {
        "isEndUserDataShared": _answer(shared, "thirdPartyInformation.isEndUserDataShared", unanswered),
        "customerManagedEgress": app.manifest.customer_managed_egress,
        "egressDestinations": [
            {
                "address": row.destination,
                "host": row.host,
                "kind": row.kind,
                "category": row.category or None,
                "mayCarryEndUserData": row.end_user_data,
                "remote": row.remote or None,
                "purpose": row.why or None,
            }
            for row in app.egress
        ],
        "remoteBackEnds": [_remote(row) for row in app.remotes],
    }


def _remote(row: RemoteRow) -> dict[str, Any]:
    remote = row.remote
    return {
        "key": remote.key,
        "baseUrls": [{"region": region or None, "url": url} for region, url in remote.base_urls],
        "operations": list(remote.operations) if remote.operations_declared else None,
        "mayStoreEndUserData": remote.may_store_eud,
        "purpose": row.why or None,
    }


def _log_details(app: App, unanswered: list[str]) -> dict[str, Any]:
    # Forge function logs stay in Atlassian's developer console; what the code writes to them is not declared anywhere.
    leave = False if destinations_are_closed(app) else None
    return {
        "logsLeaveAtlassian": _answer(leave, "logDetails.logsLeaveAtlassian", unanswered),
        "isEndUserDataInLogs": _answer(None, "logDetails.isEndUserDataInLogs", unanswered),
    }


def _data_residency(app: App, unanswered: list[str]) -> dict[str, Any]:
    regions = [{"remote": r.remote.key, "regions": [region for region, _ in r.remote.base_urls if region not in ("", "default")]} for r in app.remotes]
    if destinations_are_closed(app):
        if may_store(app) or app.data_stored:
            status: str | None = RESIDENCY_SUPPORTED
            text = "Stored only in Forge hosted storage, which follows the data residency of the Atlassian product the app is installed in."
        else:
            status, text = RESIDENCY_NOT_APPLICABLE, "The app stores no data."
    else:
        status, text = None, None
    return {
        "isDataResidencySupported": _answer(status, "dataResidency.isDataResidencySupported", unanswered),
        "description": text,
        "remoteRegions": regions,
    }


def _data_retention(app: App, unanswered: list[str]) -> dict[str, Any]:
    stores: bool | None = True if app.data_stored else (None if may_store(app) else False)
    _answer(stores, "dataRetention.storesData", unanswered)
    retention = app.retention or None
    if stores is not False:
        _answer(retention, "dataRetention.retention", unanswered)
    return {"storesData": stores, "retention": retention}


def _permissions_justification(app: App, unanswered: list[str]) -> str | None:
    if not app.permissions:
        return "The app requests no scopes."
    if any(not row.why for row in app.permissions):
        unanswered.append("security.permissionsJustification")
        return None
    return "\n".join(f"{row.scope}: {row.why}" for row in app.permissions)
