"""The expected shape of an input: columns, types, delimiter, encoding, format.

It comes from the config (``[[inputs]]`` entries matched by glob), a schema file, the profile
of the last successful run's input, or the command line.  Reading one never raises: what cannot
be understood is listed in :attr:`Expectation.problems` and the rest is used.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from postmortem_scribe.inputs import values as V
from postmortem_scribe.inputs.collect import Findings, quote_value
from postmortem_scribe.inputs.encoding import label as enc_label
from postmortem_scribe.inputs.encoding import normalize_encoding

if TYPE_CHECKING:
    from postmortem_scribe.config import Config

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")


@dataclass
class Expectation:
    """What an input file should look like.  Every field is optional."""

    columns: list[str] = field(default_factory=list)
    """Column names (CSV header, JSON keys, Parquet fields), in order."""
    types: dict[str, str] = field(default_factory=dict)
    """Column name -> ``integer``, ``number``, ``boolean``, ``date``, ``datetime``, ``string``."""
    delimiter: str | None = None
    encoding: str | None = None
    format: str | None = None
    """``csv``, ``tsv``, ``json``, ``jsonl`` or ``parquet``."""
    source: str | None = None
    """Where this came from, for people: ``config inputs 'data/*.csv'``, ``schema orders.json``."""
    problems: list[str] = field(default_factory=list)
    """What could not be understood while building this expectation."""

    def is_empty(self) -> bool:
        return not (self.columns or self.types or self.delimiter or self.encoding or self.format)

    def merged_with(self, other: Expectation) -> Expectation:
        """``self`` with the gaps filled from ``other``; ``self`` wins where both say something."""
        types = dict(other.types)
        types.update(self.types)
        return Expectation(
            columns=self.columns or other.columns,
            types=types,
            delimiter=self.delimiter or other.delimiter,
            encoding=self.encoding or other.encoding,
            format=self.format or other.format,
            source=" + ".join(s for s in (self.source, other.source) if s) or None,
            problems=self.problems + other.problems,
        )


def _delim(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    named = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "pipe": "|", "space": " "}
    return named.get(value.lower(), value)


def _types_into(exp: Expectation, items: Any, where: str) -> None:
    """Columns and types from a list of names / {"name", "type"} dicts, or a {name: type} map."""
    if isinstance(items, dict):
        items = [{"name": k, "type": v} for k, v in items.items()]
    if not isinstance(items, list):
        exp.problems.append(f"{where}: columns should be a list or a mapping; ignored.")
        return
    for item in items:
        if isinstance(item, str):
            exp.columns.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            exp.problems.append(f"{where}: a column entry {item!r:.60} has no name; ignored.")
            continue
        name = item["name"]
        exp.columns.append(name)
        raw_type = item.get("type")
        if isinstance(raw_type, list):  # JSON Schema ["string", "null"]
            raw_type = next((t for t in raw_type if t != "null"), None)
        if item.get("format") in ("date", "date-time") and raw_type in ("string", None):
            raw_type = "date" if item["format"] == "date" else "datetime"
        if raw_type is None:
            continue
        typ = V.normalize_type(raw_type)
        if typ is None:
            exp.problems.append(
                f"{where}: column {name!r} has unknown type {raw_type!r}; not checked."
            )
        elif typ != "any":
            exp.types[name] = typ


def expectation_from_mapping(data: Any, *, source: str) -> Expectation:
    """Build an expectation from parsed JSON.  Accepted shapes:

    * the simple format: ``{"format": "csv", "delimiter": ",", "encoding": "utf-8",
      "columns": ["id", {"name": "price", "type": "number"}], "types": {"id": "integer"}}``
      (``columns`` may also be a ``{name: type}`` mapping);
    * a Frictionless Table Schema ``{"fields": [{"name": ..., "type": ...}]}``, alone or inside a
      resource ``{"schema": {...}, "dialect": {"delimiter": ";"}, "encoding": ...}``;
    * a JSON Schema for records: ``{"type": "object", "properties": {...}}``, or an array of them.
    """
    exp = Expectation(source=source)
    if not isinstance(data, dict):
        exp.problems.append(f"{source}: expected a JSON object at the top; nothing was used.")
        return exp
    if isinstance(data.get("schema"), dict):  # a Frictionless resource
        inner = expectation_from_mapping(data["schema"], source=source)
        exp.columns, exp.types, exp.problems = inner.columns, inner.types, inner.problems
    if data.get("type") == "array" and isinstance(data.get("items"), dict):
        data = {**data["items"], "format": data.get("format", "json")}
    if "fields" in data:
        _types_into(exp, data["fields"], source)
    if isinstance(data.get("properties"), dict):
        _types_into(
            exp,
            data["properties"]
            and [
                {"name": k, **(v if isinstance(v, dict) else {})}
                for k, v in data["properties"].items()
            ],
            source,
        )
    if "columns" in data:
        _types_into(exp, data["columns"], source)
    if isinstance(data.get("types"), dict):
        for name, raw in data["types"].items():
            typ = V.normalize_type(raw)
            if typ is None:
                exp.problems.append(
                    f"{source}: column {name!r} has unknown type {raw!r}; not checked."
                )
            elif typ != "any":
                exp.types[name] = typ
    raw_dialect = data.get("dialect")
    dialect: dict[str, Any] = raw_dialect if isinstance(raw_dialect, dict) else {}
    exp.delimiter = _delim(data.get("delimiter") or dialect.get("delimiter"))
    enc = data.get("encoding") or dialect.get("encoding")
    exp.encoding = normalize_encoding(enc) if isinstance(enc, str) else None
    fmt = data.get("format")
    if isinstance(fmt, str) and fmt.lower() in FORMATS:
        exp.format = fmt.lower()
    elif isinstance(fmt, str) and fmt not in ("date", "date-time"):
        exp.problems.append(
            f"{source}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}."
        )
    seen: set[str] = set()
    exp.columns = [c for c in exp.columns if not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]
    return exp


def expectation_from_schema_file(path: str | os.PathLike[str]) -> Expectation:
    """Read a schema file (JSON; see :func:`expectation_from_mapping` for the shapes).

    Never raises: an unreadable or invalid file gives an empty expectation whose
    :attr:`~Expectation.problems` say why.
    """
    source = f"schema file {os.fspath(path)}"
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return Expectation(source=source, problems=[f"{source} could not be read: {reason}."])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Expectation(
            source=source,
            problems=[
                f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ],
        )
    return expectation_from_mapping(data, source=source)


def _strip_uri(path: str) -> str:
    if path.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(path).path)
    return path


def glob_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches ``pattern`` as a whole path, by its tail, or by its file name."""
    path = _strip_uri(path)
    pattern = _strip_uri(pattern)
    if fnmatch.fnmatchcase(path, pattern):
        return True
    try:
        if PurePath(path).match(pattern):
            return True
    except ValueError:
        pass
    return "/" not in pattern and fnmatch.fnmatchcase(PurePath(path).name, pattern)


def expectation_from_config(config: Config, path: str) -> Expectation | None:
    """The expectation of the first ``[[inputs]]`` entry whose ``path`` glob matches ``path``
    (with its schema file merged in), or ``None`` when none matches.  Never raises."""
    try:
        for item in getattr(config, "inputs", None) or []:
            pattern = getattr(item, "path", None)
            if not isinstance(pattern, str) or not glob_matches(pattern, path):
                continue
            source = f"config [[inputs]] path = {pattern!r}"
            data: dict[str, Any] = {}
            if item.columns:
                data["columns"] = list(item.columns)
            if item.types:
                data["types"] = dict(item.types)
            if item.delimiter:
                data["delimiter"] = item.delimiter
            if item.encoding:
                data["encoding"] = item.encoding
            exp = expectation_from_mapping(data, source=source)
            if item.schema:
                schema_path = item.schema
                if not os.path.isabs(schema_path) and getattr(config, "source", None):
                    candidate = Path(config.source).parent / schema_path  # type: ignore[arg-type]
                    if candidate.exists():
                        schema_path = str(candidate)
                exp = exp.merged_with(expectation_from_schema_file(schema_path))
            return exp
    except Exception as exc:  # a hand-built Config with odd values must not break capture
        return Expectation(problems=[f"the [[inputs]] config could not be used: {exc}"])
    return None


def expectation_from_profile(profile: dict[str, Any]) -> Expectation:
    """What the last successful run's input looked like, as an expectation.

    Types are widened (integer -> number) and text columns left unchecked, because a sample of
    one good file is weaker evidence than a declared schema.
    """
    exp = Expectation(
        source="the last successful run's input"
        + (
            f" (profiled {profile['created_at']})"
            if isinstance(profile, dict) and profile.get("created_at")
            else ""
        )
    )
    if not isinstance(profile, dict):
        exp.problems.append("the stored profile is not a mapping; it was not used.")
        return exp
    header = profile.get("header")
    if isinstance(header, list) and all(isinstance(c, str) for c in header):
        exp.columns = list(header)
    types = profile.get("column_types")
    if isinstance(types, dict):
        for name, typ in types.items():
            t = V.normalize_type(typ)
            if t == "integer":
                t = "number"
            if t in ("number", "boolean", "date", "datetime"):
                exp.types[str(name)] = t
    if isinstance(profile.get("delimiter"), str):
        exp.delimiter = profile["delimiter"]
    enc = profile.get("encoding")
    if isinstance(enc, str):
        exp.encoding = normalize_encoding(enc)
    fmt = profile.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        exp.format = fmt
    return exp


def expectation_from_cli(
    columns: str | None = None,
    types: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Expectation:
    """``--expect-columns a,b,c`` (``name:type`` allowed) and friends."""
    exp = Expectation(source="the command line")
    for part in (columns or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, typ = part.partition(":")
        exp.columns.append(name.strip())
        if typ.strip():
            t = V.normalize_type(typ)
            if t is None:
                exp.problems.append(f"unknown type {typ!r} for column {name!r}; not checked.")
            elif t != "any":
                exp.types[name.strip()] = t
    for part in (types or "").split(","):
        name, _, typ = part.partition(":")
        if name.strip() and typ.strip():
            t = V.normalize_type(typ)
            if t is None:
                exp.problems.append(f"unknown type {typ!r} for column {name!r}; not checked.")
            elif t != "any":
                exp.types[name.strip()] = t
    exp.delimiter = _delim(delimiter)
    exp.encoding = normalize_encoding(encoding) if encoding else None
    return exp


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

_FORMAT_WORDS = {
    "csv": "CSV",
    "tsv": "tab-separated text (TSV)",
    "json": "a JSON document",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
}


def describe(
    exp: Expectation | None,
    detected_format: str | None = None,
    detected_delimiter: str | None = None,
    header: list[str] | None = None,
) -> str:
    """One or two sentences on the expected format, for people.

    With an expectation it says what was declared; without one it states the conventions of the
    detected format (the lesson a person needs to fix the file).
    """
    from postmortem_scribe.inputs.csv_check import delim_name, delim_shown

    fmt = (exp.format if exp and exp.format else None) or detected_format
    cols = exp.columns if exp and exp.columns else None
    types = exp.types if exp else {}

    def col_list(names: list[str]) -> str:
        parts = []
        for c in names[:12]:
            t = types.get(c)
            parts.append(f"{c} ({t})" if t else c)
        return ", ".join(parts) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")

    if fmt in ("csv", "tsv", None, "text"):
        d = (
            (exp.delimiter if exp and exp.delimiter else None)
            or detected_delimiter
            or ("\t" if fmt == "tsv" else ",")
        )
        enc = enc_label(exp.encoding) if exp and exp.encoding else "UTF-8"
        names = cols or header
        text = (
            f"{'TSV' if d == chr(9) else 'CSV'} text in {enc}: one record per line, values "
            "separated by "
            f"{delim_shown(d)} ({delim_name(d)}), the first line a header"
        )
        if names:
            plural = "s" if len(names) != 1 else ""
            text += f" naming the {len(names)} column{plural} in order: {col_list(names)}"
            text += f"; every line with exactly {len(names)} values"
        text += (
            f". A value that contains {delim_shown(d)}, a double quote or a line break is "
            "enclosed in "
            'double quotes, with quotes inside written twice ("").'
        )
    elif fmt == "json":
        text = (
            "one JSON document (RFC 8259) in UTF-8: names and strings in double quotes, no "
            "trailing "
            "commas, no comments, true/false/null in lower case"
        )
        if cols:
            text += f"; records are objects with the keys {col_list(cols)}"
        text += "."
    elif fmt == "jsonl":
        text = "JSON Lines in UTF-8: one complete JSON value (an object) per line, no blank lines"
        if cols:
            text += f"; each object with the keys {col_list(cols)}"
        text += "."
    elif fmt == "parquet":
        text = "an Apache Parquet file, which starts and ends with the 4 bytes 'PAR1'"
        if cols:
            text += f", with the columns {col_list(cols)}"
        text += "."
    else:
        from postmortem_scribe.inputs.sniff import NAMES

        text = f"{NAMES.get(fmt or '', _FORMAT_WORDS.get(fmt or '', str(fmt)))}."
    if exp and exp.source:
        text = f"{text[0].upper()}{text[1:]} (Expected by {exp.source}.)"
    else:
        text = text[0].upper() + text[1:]
    return text


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


def compare_columns(
    actual: list[str],
    exp: Expectation,
    findings: Findings,
    *,
    line: int | None = 1,
    what: str = "column",
) -> None:
    """Missing, extra, renamed and reordered columns against the expectation."""
    expected = exp.columns
    if not expected:
        return
    src = f" ({exp.source})" if exp.source else ""
    present = set(actual)
    missing = [c for c in expected if c not in present]
    extra = [c for c in actual if c not in set(expected)]
    renamed: dict[str, str] = {}
    free = list(extra)
    for col in missing:
        cand = [c for c in free if _norm(c) == _norm(col)]
        if not cand:
            cand = difflib.get_close_matches(
                col, free, n=1, cutoff=0.75
            ) or difflib.get_close_matches(_norm(col), [_norm(c) for c in free], n=1, cutoff=0.75)
            if cand and cand[0] not in free:
                cand = [c for c in free if _norm(c) == cand[0]]
        if cand:
            renamed[col] = cand[0]
            free.remove(cand[0])
    for col in missing:
        if col in renamed:
            new = renamed[col]
            findings.add(
                "renamed_column",
                f"{what} '{col}' is missing, and the file has {quote_value(new)} instead, which "
                "looks "
                f"like the same {what} renamed{src}. Use the expected name '{col}'.",
                line=line,
                column=new,
            )
        else:
            findings.add(
                "missing_column",
                f"{what} '{col}' is missing{src}. The file has: "
                + ", ".join(actual[:12])
                + (", ..." if len(actual) > 12 else "")
                + ".",
                line=line,
                column=col,
            )
    for col in free:
        findings.add(
            "extra_column",
            f"{what} {quote_value(col)} is not expected{src}; if it is a new {what} on purpose, "
            "add it "
            "to the expected columns, otherwise remove it.",
            line=line,
            column=col,
        )
    if (
        not missing
        and not extra
        and list(actual) != list(expected)
        and len(actual) == len(expected)
    ):
        findings.add(
            "column_order",
            f"the {what}s are all there but in a different order{src}: expected "
            + ", ".join(expected[:12])
            + "; found "
            + ", ".join(actual[:12])
            + ". Readers that go by position will mix up the values.",
            line=line,
        )
