"""What a single text value looks like: integer, number, boolean, date, datetime or text.

Used to infer column types from a sample (profiles) and to check values against expected
types.  Missing-value markers follow pandas' defaults, because that is what most pipelines read
CSV with: ``NA``, ``N/A``, ``null`` and an empty value are missing, not wrong.
"""

from __future__ import annotations

import datetime as _dt
import re

TYPES = ("integer", "number", "boolean", "date", "datetime", "string", "any")

_ALIASES = {
    "int": "integer",
    "integer": "integer",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "uint8": "integer",
    "uint16": "integer",
    "uint32": "integer",
    "uint64": "integer",
    "bigint": "integer",
    "smallint": "integer",
    "long": "integer",
    "whole": "integer",
    "float": "number",
    "float32": "number",
    "float64": "number",
    "double": "number",
    "number": "number",
    "numeric": "number",
    "decimal": "number",
    "real": "number",
    "bool": "boolean",
    "boolean": "boolean",
    "date": "date",
    "date32": "date",
    "date64": "date",
    "datetime": "datetime",
    "date-time": "datetime",
    "timestamp": "datetime",
    "datetime64": "datetime",
    "time": "datetime",
    "timestamptz": "datetime",
    "str": "string",
    "string": "string",
    "text": "string",
    "object": "string",
    "varchar": "string",
    "char": "string",
    "large_string": "string",
    "utf8": "string",
    "any": "any",
    "": "any",
    "year": "integer",
    "duration": "string",
    "geopoint": "string",
}

NA_VALUES = frozenset(
    [
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    ]
)
_INT = re.compile(r"[+-]?\d+\Z")
_NUM = re.compile(
    r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z|[+-]?(?:inf|Inf|INF|infinity|Infinity)\Z"
)
_BOOL = frozenset(["true", "false", "True", "False", "TRUE", "FALSE"])
_BOOL_LENIENT = frozenset(["true", "false", "t", "f", "yes", "no", "y", "n", "1", "0"])
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?\Z"
)
_OTHER_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\Z|(\d{4})/(\d{1,2})/(\d{1,2})\Z")


def normalize_type(name: object) -> str | None:
    """Map a type name from a config, schema or Arrow (``int64``, ``float``, ``timestamp[us]``)
    to one of :data:`TYPES`; ``None`` when it is not a type we know."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    key = re.sub(r"[\[(].*$", "", key).strip()
    return _ALIASES.get(key)


def kind_of(value: str) -> str:
    """The narrowest kind of one value: ``missing``, ``integer``, ``number``, ``boolean``,
    ``date``, ``datetime`` or ``string``."""
    v = value.strip()
    if v in NA_VALUES:
        return "missing"
    if _INT.match(v):
        return "integer"
    if _NUM.match(v):
        return "number"
    if v in _BOOL:
        return "boolean"
    if len(v) == 10 and _DATE.match(v):
        try:
            _dt.date.fromisoformat(v)
            return "date"
        except ValueError:
            return "string"
    if len(v) >= 16 and _DATETIME.match(v):
        return "datetime"
    return "string"


def infer_type(kinds: dict[str, int]) -> str:
    """Column type from the counts of value kinds seen in a sample."""
    seen = {k for k, n in kinds.items() if n and k != "missing"}
    if not seen:
        return "any"
    if seen == {"integer"}:
        return "integer"
    if seen <= {"integer", "number"}:
        return "number"
    if seen == {"boolean"}:
        return "boolean"
    if seen == {"date"}:
        return "date"
    if seen <= {"date", "datetime"}:
        return "datetime"
    return "string"


def matches(value: str, expected: str) -> bool:
    """Whether ``value`` is acceptable for a column of type ``expected`` (missing always is)."""
    if expected in ("any", "string"):
        return True
    kind = kind_of(value)
    if kind == "missing":
        return True
    if expected == "integer":
        return kind == "integer"
    if expected == "number":
        return kind in ("integer", "number")
    if expected == "boolean":
        return kind == "boolean" or value.strip().lower() in _BOOL_LENIENT
    if expected == "date":
        return kind == "date"
    if expected == "datetime":
        return kind in ("date", "datetime")
    return True


_EXAMPLES = {
    "integer": "a whole number such as 42",
    "number": "a number such as 12 or 3.50 (a '.' before the decimals, no thousands separator)",
    "boolean": "true or false",
    "date": "a date written YYYY-MM-DD, such as 2024-03-31",
    "datetime": "a date and time in ISO 8601, such as 2024-03-31T14:05:00Z",
    "string": "text",
    "any": "any value",
}


def describe_type(expected: str) -> str:
    """``a number such as 12 or 3.50 ...``: what a value of this type looks like."""
    return _EXAMPLES.get(expected, expected)


def mismatch_hint(value: str, expected: str, delimiter: str | None = ",") -> str:
    """Why ``value`` is not of type ``expected``, when a common cause can be seen."""
    v = value.strip()
    if expected in ("integer", "number"):
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", v):
            return "it uses ',' as a thousands separator"
        if re.fullmatch(r"[+-]?\d+,\d+", v):
            return "it uses a decimal comma; write a '.' before the decimals"
        if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", v):
            return "it uses '.' as a thousands separator and ',' for decimals"
        if re.search(r"[$€£¥]|\b(USD|EUR|GBP)\b", v) and re.search(r"\d", v):
            return "it includes a currency symbol or code; keep the number alone"
        if v.endswith("%") and _NUM.match(v[:-1].strip()):
            return "it includes a percent sign"
        if expected == "integer" and kind_of(v) == "number":
            return "it has decimals but the column holds whole numbers"
        if v != value and _NUM.match(v):
            return "it has spaces around the number"
    if expected in ("date", "datetime"):
        m = _OTHER_DATE.match(v)
        if m:
            return "it is written in another date format; write dates as YYYY-MM-DD"
        if _DATE.match(v):
            return "it is not a real calendar date"
        if expected == "date" and kind_of(v) == "datetime":
            return "it has a time as well as a date"
    if "\ufffd" in v:
        return "it contains bytes that could not be decoded (wrong encoding?)"
    return ""
