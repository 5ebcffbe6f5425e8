"""Dates as a reader needs them: unambiguous words, machine-readable datetime, no locale."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def long_date(value: date) -> str:
    """1 July 2025: neither 7/1 nor 1/7."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def build_date(environ: dict[str, str] | None = None) -> date:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else today's date in UTC."""
    environ = dict(os.environ) if environ is None else environ
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
    return datetime.now(tz=timezone.utc).date()
