"""Parquet: magic bytes at both ends, the footer, and the schema when pyarrow is available.

The core does not require pyarrow.  Without it the file is still checked for the ``PAR1`` magic
at its head and tail and a plausible footer length, which catches truncated uploads, and the
report says to install pyarrow to read the schema.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Any

from postmortem_scribe.inputs import values as V
from postmortem_scribe.inputs.budget import fmt_bytes
from postmortem_scribe.inputs.collect import Findings

MAGIC = b"PAR1"


@dataclass
class ParquetResult:
    columns: list[str] | None = None
    column_types: dict[str, str] = field(default_factory=dict)
    arrow_types: dict[str, str] = field(default_factory=dict)
    rows: int | None = None
    row_groups: int | None = None
    notes: list[str] = field(default_factory=list)
    footer_ok: bool = False


def _arrow_type_name(t: Any) -> str:
    text = str(t)
    try:
        import pyarrow.types as pat  # type: ignore[import-not-found]

        if pat.is_boolean(t):
            return "boolean"
        if pat.is_integer(t):
            return "integer"
        if pat.is_floating(t) or pat.is_decimal(t):
            return "number"
        if pat.is_date(t):
            return "date"
        if pat.is_timestamp(t):
            return "datetime"
        if pat.is_string(t) or pat.is_large_string(t):
            return "string"
    except Exception:  # older pyarrow or an exotic type: fall back to the name
        pass
    return V.normalize_type(text) or "string"


def check_parquet(path: str, size: int, findings: Findings, *, name: str) -> ParquetResult:
    """Check a local Parquet file's framing, then its schema with pyarrow if importable."""
    res = ParquetResult()
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if size >= 12:
                fh.seek(size - 8)
                tail = fh.read(8)
            else:
                tail = b""
    except OSError as exc:
        findings.add("unreadable", f"the file could not be read: {exc.strerror or exc}.")
        return res
    if head != MAGIC:
        findings.add(
            "wrong_format",
            f"{name} does not start with the Parquet magic bytes 'PAR1', so it is not a Parquet "
            "file.",
        )
        return res
    if len(tail) < 8 or tail[4:] != MAGIC:
        findings.add(
            "parquet_truncated",
            f"{name} starts like a Parquet file but does not end with the Parquet footer magic "
            "'PAR1' "
            f"(it is {fmt_bytes(size)}): the file is truncated, probably by an interrupted write "
            "or "
            "download. Parquet keeps its schema in the footer, so nothing can be read. Write or "
            "fetch it again.",
        )
        return res
    (footer_len,) = struct.unpack("<I", tail[:4])
    if footer_len <= 0 or footer_len > size - 12:
        findings.add(
            "parquet_truncated",
            f"{name} ends with 'PAR1' but its footer length ({footer_len:,} bytes) does not fit in "
            f"the file ({fmt_bytes(size)}): the file is damaged. Write or fetch it again.",
        )
        return res
    res.footer_ok = True
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found]
    except Exception:
        res.notes.append(
            "the Parquet framing is sound (PAR1 at both ends); install pyarrow to read the schema "
            "and check the columns"
        )
        return res
    try:
        pf = pq.ParquetFile(os.fspath(path))
        schema = pf.schema_arrow
        res.columns = list(schema.names)
        res.arrow_types = {f.name: str(f.type) for f in schema}
        res.column_types = {f.name: _arrow_type_name(f.type) for f in schema}
        res.rows = pf.metadata.num_rows
        res.row_groups = pf.metadata.num_row_groups
    except Exception as exc:
        findings.add(
            "parquet_unreadable",
            f"{name} has Parquet framing but its metadata cannot be read ({type(exc).__name__}: "
            f"{str(exc)[:200]}): it is damaged or was written by an incompatible tool.",
        )
    return res


def parquet_type_problems(
    res: ParquetResult, expected_types: dict[str, str], findings: Findings
) -> None:
    """Compare the schema's types with the expected ones.

    An integer column satisfies an expected number, a date column an expected datetime.
    """
    have = {k.lower(): (k, v) for k, v in res.column_types.items()}
    for col, typ in expected_types.items():
        if typ in ("any", "string") and typ != "string":
            continue
        found = have.get(col.lower())
        if not found:
            continue
        name, actual = found
        ok = (
            actual == typ
            or (typ == "number" and actual == "integer")
            or (typ == "datetime" and actual == "date")
            or typ == "any"
        )
        if not ok:
            findings.add(
                "type_mismatch",
                f"column '{name}' is stored as {res.arrow_types.get(name, actual)} ({actual}) but "
                f"{typ} was expected.",
                column=name,
            )
