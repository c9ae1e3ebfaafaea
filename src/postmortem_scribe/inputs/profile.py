"""Cheap profiles of inputs that worked, and what changed since.

After a successful run (an Airflow success listener, a Prefect completion hook, or
``scribe profile PATH``) a profile of each input is stored: size, format, encoding, delimiter,
header, column types from a sample, and a row estimate.  When a later run fails, its input's
report is compared with that profile and the differences are listed in plain words.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from typing import Any

from postmortem_scribe.inputs.budget import fmt_bytes
from postmortem_scribe.inputs.core import inspect_path_extras
from postmortem_scribe.inputs.csv_check import delim_name, delim_shown
from postmortem_scribe.inputs.encoding import label as enc_label
from postmortem_scribe.inputs.encoding import same_encoding
from postmortem_scribe.records import InputReport

PROFILE_VERSION = 1
SAMPLE_BYTES = 4 * 1024 * 1024
SIZE_FACTOR = 4.0
"""A size more than this many times larger or smaller than the profile's is "far off"."""


def profile_path(path: str, *, budget_seconds: float | None = None) -> dict[str, Any]:
    """A cheap profile of one input: it reads a sample (the first few MB), not the whole file.

    Keys: ``profile_version``, ``path``, ``created_at``, ``size_bytes``, ``format``,
    ``compression``, ``encoding``, ``delimiter``, ``header``, ``column_types``,
    ``row_estimate``, ``row_estimate_exact``, ``problems`` (count in the sample), ``error``.
    Never raises.
    """
    try:
        report, extras = inspect_path_extras(
            path, budget_seconds=budget_seconds, max_bytes=SAMPLE_BYTES
        )
    except Exception as exc:  # inspect_path_extras does not raise; belt and braces
        return {"profile_version": PROFILE_VERSION, "path": str(path), "error": str(exc)}
    profile = profile_from_report(report, extras.column_types)
    profile["line_terminator"] = extras.line_terminator
    return profile


def _far_off(now: float, usual: float) -> bool:
    if usual <= 0:
        return now > 0
    ratio = now / usual
    return ratio > SIZE_FACTOR or ratio < 1 / SIZE_FACTOR


def compare_to_profile(report: InputReport, profile: dict[str, Any]) -> list[str]:
    """What differs between ``report`` and the profile of the last successful run's input:
    new, missing or renamed columns, reordered columns, a changed format, compression, encoding
    or delimiter, and a size or row count far off the usual.  Never raises."""
    try:
        return _compare(report, profile)
    except Exception as exc:  # a damaged stored profile must not break the draft
        return [f"the stored profile could not be compared ({type(exc).__name__}: {exc})"]


def _compare(report: InputReport, profile: dict[str, Any]) -> list[str]:
    if not isinstance(profile, dict):
        return []
    out: list[str] = []
    when = f" (profiled {profile['created_at']})" if profile.get("created_at") else ""
    if not report.exists:
        if profile.get("exists", True):
            out.append(f"the file is missing; the last successful run's input existed{when}")
        return out
    old_fmt, new_fmt = profile.get("format"), report.format
    if old_fmt and new_fmt and old_fmt != new_fmt:
        out.append(f"format changed from {old_fmt} to {new_fmt}")
    old_c, new_c = profile.get("compression"), report.compression
    if (old_c or None) != (new_c or None) and (old_fmt == new_fmt or not old_fmt):
        out.append(f"compression changed from {old_c or 'none'} to {new_c or 'none'}")
    old_e, new_e = profile.get("encoding"), report.encoding
    if old_e and new_e and not same_encoding(old_e, new_e):
        out.append(f"encoding changed from {enc_label(old_e)} to {enc_label(new_e)}")
    old_d, new_d = profile.get("delimiter"), report.delimiter
    if old_d and new_d and old_d != new_d:
        out.append(
            f"delimiter changed from {delim_shown(old_d)} ({delim_name(old_d)}) to "
            f"{delim_shown(new_d)} ({delim_name(new_d)})"
        )
    old_h = profile.get("header")
    new_h = report.header
    if isinstance(old_h, list) and isinstance(new_h, list):
        out.extend(_column_changes([str(c) for c in old_h], [str(c) for c in new_h]))
    old_size, new_size = profile.get("size_bytes"), report.size_bytes
    if (
        isinstance(old_size, (int, float))
        and isinstance(new_size, (int, float))
        and _far_off(new_size, old_size)
    ):
        pct = f" ({100.0 * new_size / old_size:.1f}% of it)" if old_size else ""
        out.append(f"size is {fmt_bytes(new_size)}, far off the usual {fmt_bytes(old_size)}{pct}")
    old_rows, new_rows = profile.get("row_estimate"), report.row_estimate
    if (
        isinstance(old_rows, int)
        and isinstance(new_rows, int)
        and _far_off(new_rows, old_rows)
        and abs(new_rows - old_rows) > 10
    ):
        about = "" if report.complete else "about "
        out.append(f"{about}{new_rows:,} rows, far off the usual {old_rows:,}")
    return out


def _column_changes(old: list[str], new: list[str]) -> list[str]:
    out: list[str] = []
    old_set, new_set = set(old), set(new)
    missing = [c for c in old if c not in new_set]
    added = [c for c in new if c not in old_set]
    renamed: list[tuple[str, str]] = []
    for col in list(missing):
        key = col.strip().lower().replace("_", "").replace(" ", "")
        cand = [c for c in added if c.strip().lower().replace("_", "").replace(" ", "") == key]
        if not cand:
            cand = difflib.get_close_matches(col, added, n=1, cutoff=0.75)
        if cand:
            renamed.append((col, cand[0]))
            missing.remove(col)
            added.remove(cand[0])
    for a, b in renamed:
        out.append(f"column '{a}' seems renamed to '{b}'")
    for c in missing:
        out.append(f"column '{c}' is missing (it was in the last successful run's input)")
    for c in added:
        out.append(f"new column '{c}' (not in the last successful run's input)")
    if not missing and not added and not renamed and old != new and len(old) == len(new):
        out.append("the columns are the same but in a different order: " + ", ".join(new[:12]))
    return out


def profile_from_report(
    report: InputReport, column_types: dict[str, str] | None = None
) -> dict[str, Any]:
    """A profile built from a full report already at hand (no second read of the file)."""
    return {
        "profile_version": PROFILE_VERSION,
        "path": report.path,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "exists": report.exists,
        "size_bytes": report.size_bytes,
        "format": report.format,
        "compression": report.compression,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "header": report.header,
        "column_types": dict(column_types or {}),
        "row_estimate": report.row_estimate,
        "row_estimate_exact": bool(report.complete),
        "problems": len(report.problems),
        "error": report.error,
    }


__all__ = ["profile_path", "compare_to_profile", "profile_from_report"]
