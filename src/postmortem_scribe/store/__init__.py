"""The incident store (SQLite by default, PostgreSQL for a shared one)."""

from __future__ import annotations

from .store import (
    DigestEntry,
    IncidentRow,
    NewMessage,
    OccurrenceResult,
    Store,
    default_store_url,
    incident_key,
    open_store,
    safe_url,
    utc_now,
)

__all__ = [
    "DigestEntry",
    "IncidentRow",
    "NewMessage",
    "OccurrenceResult",
    "Store",
    "default_store_url",
    "incident_key",
    "open_store",
    "safe_url",
    "utc_now",
]
