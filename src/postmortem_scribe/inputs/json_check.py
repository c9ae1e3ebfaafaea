"""Diagnosis of JSON documents and JSON Lines, streamed and bounded.

* A JSON document whose top level is an array is read element by element with the C decoder
  (``JSONDecoder.raw_decode``), so a large array of records streams in constant memory and every
  record gets its line number.
* Any other document up to :data:`WHOLE_LIMIT` is parsed whole; larger ones go through a small
  streaming tokenizer that checks the syntax within the budget.
* JSON Lines are read line by line; each bad line is named.

Every syntax error is explained in words (a trailing comma, single quotes, Python's ``True``,
a missing comma, a string never closed, a comment) with its line and column.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from postmortem_scribe.inputs import values as V
from postmortem_scribe.inputs.budget import Budget, fmt_bytes
from postmortem_scribe.inputs.collect import Findings, quote_value

WHOLE_LIMIT = 16 * 1024 * 1024
BLOCK = 4 * 1024 * 1024
MAX_ELEMENT = 64 * 1024 * 1024
SAMPLE_RECORDS = 1000
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _ws_end(buf: str, pos: int = 0) -> int:
    """Where the JSON whitespace starting at ``pos`` ends."""
    m = _WS.match(buf, pos)
    return m.end() if m else pos


def _nan_collector(found: list[str]) -> Callable[[str], float]:
    """A ``parse_constant`` hook noting NaN/Infinity, which Python accepts and JSON does not."""

    def hook(name: str) -> float:
        found.append(name)
        return float("nan")

    return hook


@dataclass
class JsonResult:
    kind: str = "json"
    """``json`` or ``jsonl``."""
    top: str | None = None
    """Top-level type: ``array``, ``object``, ``string`` ..."""
    records: int = 0
    """Elements of a top-level array, or lines of JSON Lines."""
    columns: list[str] | None = None
    """Keys of the first record (object), in order."""
    column_types: dict[str, str] = field(default_factory=dict)
    eof: bool = False
    text_bytes: int = 0
    lines: int = 0
    missing_counts: Counter[str] = field(default_factory=Counter)
    """How many sampled records lacked each expected key."""


# --------------------------------------------------------------------------------------------
# Words for syntax errors
# --------------------------------------------------------------------------------------------


def explain(msg: str, doc: str, pos: int) -> tuple[str, str]:
    """(code, plain words) for a decoder error message ``msg`` at ``pos`` of ``doc``."""
    ch = doc[pos : pos + 1]
    rest = doc[pos : pos + 12]
    shown = repr(ch) if ch else "the end of the file"
    if ch == "" and not msg.startswith("Extra data"):
        return "json_truncated", (
            "the document ends in the middle of a value: the file is truncated (an interrupted "
            "write or download?) or a closing bracket is missing"
        )
    if msg.startswith("Expecting property name"):
        if ch == "'":
            return "json_syntax", 'names must be in double quotes ("name"), not single quotes'
        if ch == "}":
            return "json_syntax", (
                "there is a comma after the last member of an object (a trailing comma before "
                "'}'), which JSON does not allow; remove it"
            )
        if ch in ("/", "#"):
            return "json_syntax", "JSON does not allow comments; remove them"
        return "json_syntax", f"expected a name in double quotes but found {shown}"
    if msg.startswith("Expecting value"):
        if ch == "]":
            return "json_syntax", (
                "there is a comma after the last element of an array (a trailing comma before "
                "']'), which JSON does not allow; remove it"
            )
        if ch == "'":
            return "json_syntax", "strings must be in double quotes, not single quotes"
        if ch in ("/", "#"):
            return "json_syntax", "JSON does not allow comments; remove them"
        for py, js in (("True", "true"), ("False", "false"), ("None", "null")):
            if rest.startswith(py):
                return "json_syntax", (
                    f"{py} is Python, not JSON; JSON writes {js}. Write the file with json.dump(), "
                    "not str() or print()"
                )
        if rest[:9].lower().startswith(("undefined",)):
            return "json_syntax", "undefined is JavaScript, not JSON; use null"
        if ch.isalpha():
            return "json_syntax", (
                f"found unquoted text starting {rest!r}; strings must be in double quotes"
            )
        return "json_syntax", (
            f"found {shown} where a value (a string, number, object, array, true, false or null) "
            "was expected"
        )
    if msg.startswith("Expecting ',' delimiter"):
        return "json_syntax", (
            f"a comma is missing before {shown}: items in an object or array are separated by "
            "commas"
        )
    if msg.startswith("Expecting ':' delimiter"):
        return "json_syntax", f"a ':' is missing between a name and its value (found {shown})"
    if msg.startswith("Unterminated string"):
        return "json_syntax", (
            "the string that starts here is never closed: a closing double quote is missing, or "
            "the file is cut off"
        )
    if msg.startswith("Invalid control character"):
        what = {"\n": "a line break", "\t": "a tab", "\r": "a carriage return"}.get(
            ch, "a control character"
        )
        return "json_syntax", (
            f"{what} appears raw inside a string; inside JSON strings write it as an escape "
            "(\\n, \\t)"
        )
    if msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        return "json_syntax", (
            "a backslash starts an invalid escape; write a literal backslash as \\\\ (Windows "
            "paths like C:\\\\data need doubled backslashes)"
        )
    if msg.startswith("Extra data"):
        return "json_extra_data", (
            f"the JSON document is complete before this point, but more data follows ({shown})"
        )
    return "json_syntax", msg


class _Lines:
    """Line number of a position in a growing buffer, counted incrementally."""

    def __init__(self) -> None:
        self.base = 0  # lines before buf[0]
        self._pos = 0
        self._line = 1

    def at(self, buf: str, pos: int) -> int:
        if pos < self._pos:
            self._pos, self._line = 0, self.base + 1
        self._line += buf.count("\n", self._pos, pos)
        self._pos = pos
        return self._line

    def shift(self, buf: str, cut: int) -> None:
        """``buf[:cut]`` is dropped; keep counting from the new start."""
        self.base += buf.count("\n", 0, cut)
        self._pos, self._line = 0, self.base + 1


def _col(buf: str, pos: int) -> int:
    return pos - (buf.rfind("\n", 0, pos) + 1) + 1


def _short_dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:200]


def _line_excerpt(buf: str, pos: int) -> str:
    start = buf.rfind("\n", 0, pos) + 1
    end = buf.find("\n", pos)
    end = len(buf) if end < 0 else end
    if end - start > 120:
        start = max(start, pos - 60)
        end = min(end, start + 120)
    return buf[start:end]


# --------------------------------------------------------------------------------------------
# Record checks shared by arrays and JSON Lines
# --------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        k = V.kind_of(value)
        return k if k in ("date", "datetime", "missing") else "string"
    return "string"


def json_matches(value: Any, typ: str) -> bool:
    if value is None or typ in ("any",):
        return True
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "date":
        return isinstance(value, str) and V.kind_of(value) == "date"
    if typ == "datetime":
        return isinstance(value, str) and V.kind_of(value) in ("date", "datetime")
    return True


def _json_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        int: "a number",
        float: "a number",
    }.get(type(value), "a value")


class _Records:
    """Checks on records (objects) of an array or of JSON Lines."""

    def __init__(
        self, findings: Findings, expected_columns: list[str], expected_types: dict[str, str]
    ):
        self.f = findings
        self.expected_columns = expected_columns
        self.expected_types = {k: v for k, v in expected_types.items() if v not in ("any",)}
        self.columns: list[str] | None = None
        self.kinds: dict[str, Counter[str]] = {}
        self.sampled = 0
        self.non_objects = 0
        self.missing_counts: Counter[str] = Counter()

    def add(
        self, value: Any, record: int, line: int | None, excerpt_src: str | Callable[[], str] | None
    ) -> None:
        """Check one record; ``excerpt_src`` is the record's text or a function making it
        (called only when a problem is kept, so that clean records cost nothing extra)."""

        def ex() -> str | None:
            return excerpt_src() if callable(excerpt_src) else excerpt_src

        where = f"line {line:,} (record {record:,})" if line else f"record {record:,}"
        if not isinstance(value, dict):
            if self.columns is not None or self.expected_columns:
                self.non_objects += 1
                self.f.add(
                    "not_an_object",
                    f"{where} is {_json_type_name(value)}, not an object like the other records; "
                    "every record should be an object with the same names.",
                    line=line,
                    record=record,
                    excerpt_text=ex() if self.f.wants("not_an_object") else None,
                )
            return
        if self.columns is None:
            self.columns = list(value)
        if self.sampled >= SAMPLE_RECORDS:
            return
        self.sampled += 1
        for key, val in value.items():
            self.kinds.setdefault(key, Counter())[_kind(val)] += 1
        for col in self.expected_columns:
            if col in value:
                continue
            self.missing_counts[col] += 1
            if self.f.wants("missing_key"):
                self.f.add(
                    "missing_key",
                    f"{where} has no {quote_value(col)} key; every record should have it (write "
                    "null for a missing value).",
                    line=line,
                    record=record,
                    column=col,
                    excerpt_text=ex(),
                )
            else:
                self.f.add("missing_key", "", line=line)
        for col, typ in self.expected_types.items():
            if col not in value or json_matches(value[col], typ):
                continue
            if not self.f.wants("type_mismatch"):
                self.f.add("type_mismatch", "", line=line)
                continue
            val = value[col]
            hint = ""
            if (
                isinstance(val, str)
                and typ in ("number", "integer")
                and V.kind_of(val) in ("integer", "number")
            ):
                hint = ": it is a number written as a string (in quotes); write it without quotes"
            elif isinstance(val, str):
                hint = V.mismatch_hint(val, typ)
                hint = f": {hint}" if hint else ""
            shown = quote_value(val) if isinstance(val, str) else json.dumps(val)[:40]
            self.f.add(
                "type_mismatch",
                f"{where}, key '{col}': {shown} is {_json_type_name(val)}, not "
                f"{V.describe_type(typ)}{hint}.",
                line=line,
                record=record,
                column=col,
                excerpt_text=ex(),
            )

    def column_types(self) -> dict[str, str]:
        return {k: V.infer_type(dict(c)) for k, c in self.kinds.items()}


# --------------------------------------------------------------------------------------------
# Reading text blocks
# --------------------------------------------------------------------------------------------


class _Text:
    """Decoded text from a UTF-8 byte stream, block by block; reports the first invalid byte."""

    def __init__(
        self, stream: Any, findings: Findings, res: JsonResult, block: int = BLOCK
    ) -> None:
        self.stream = stream
        self.block = block
        self.dec = codecs.getincrementaldecoder("utf-8")("strict")
        self.f = findings
        self.res = res
        self.eof = False
        self.bad = False

    def read(self, size: int | None = None) -> str:
        if self.eof:
            return ""
        data = self.stream.read(size or self.block)
        self.res.text_bytes += len(data)
        final = not data
        if final:
            self.eof = True
        try:
            return self.dec.decode(data, final=final)
        except UnicodeDecodeError:
            if not self.bad:
                self.bad = True
                self.f.add(
                    "encoding",
                    "the file has bytes that are not valid UTF-8, which JSON requires; it was "
                    "probably saved as cp1252/Latin-1. Save it as UTF-8.",
                )
            self.dec = codecs.getincrementaldecoder("utf-8")("replace")
            return data.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# JSON documents
# --------------------------------------------------------------------------------------------


def check_json(
    stream: Any,
    *,
    findings: Findings,
    budget: Budget,
    progress: Callable[[], int],
    expected_columns: list[str] | None = None,
    expected_types: dict[str, str] | None = None,
    whole_limit: int = WHOLE_LIMIT,
    block: int = BLOCK,
) -> JsonResult:
    """Check one JSON document read from a UTF-8 byte stream.

    A top-level array is streamed element by element; any other document up to
    ``whole_limit`` bytes is parsed whole, and a larger one is checked token by token.
    """
    res = JsonResult("json")
    text = _Text(stream, findings, res, block)
    buf = text.read()
    pos = _ws_end(buf)
    while pos == len(buf) and not text.eof:
        buf += text.read()
        pos = _ws_end(buf)
    if pos >= len(buf):
        findings.add("empty", "the file has no JSON value at all, only whitespace.")
        res.eof = True
        return res
    recs = _Records(findings, list(expected_columns or []), dict(expected_types or {}))
    if buf[pos] == "[":
        res.top = "array"
        _stream_array(buf, pos, text, res, recs, findings, budget, progress)
    else:
        while not text.eof and len(buf) <= whole_limit:
            buf += text.read()
        if text.eof:
            _whole(buf, res, recs, findings)
        else:
            _tokenize(buf, text, res, findings, budget, progress)
    res.columns = recs.columns
    res.column_types = recs.column_types()
    res.missing_counts = recs.missing_counts
    return res


def _syntax_problem(
    findings: Findings,
    msg: str,
    buf: str,
    pos: int,
    line: int,
    record: int | None = None,
    res: JsonResult | None = None,
) -> None:
    if res is not None:
        res.eof = True  # nothing after a syntax error can be read: the check is finished
    code, words = explain(msg, buf, pos)
    col = _col(buf, pos)
    where = f"line {line:,}, column {col:,}"
    if record is not None:
        where += f" (in record {record:,})"
    if code == "json_extra_data":
        nxt = buf[pos:]
        first_line = nxt.split("\n", 1)[0].strip()
        looks_jsonl = False
        try:
            json.loads(first_line)
            looks_jsonl = True
        except ValueError:
            pass
        hint = (
            " Each line holds its own JSON value: this is JSON Lines. Name it .jsonl, or read it "
            "with pandas.read_json(..., lines=True)."
            if looks_jsonl
            else " Two documents were probably concatenated; a JSON file holds exactly one value "
            "(wrap several in an array)."
        )
        findings.add(
            code, f"{where}: {words}.{hint}", line=line, excerpt_text=_line_excerpt(buf, pos)
        )
        return
    findings.add(
        code, f"{where}: {words}.", line=line, record=record, excerpt_text=_line_excerpt(buf, pos)
    )


def _whole(buf: str, res: JsonResult, recs: _Records, findings: Findings) -> None:
    res.eof = True
    res.lines = buf.count("\n") + (0 if buf.endswith("\n") else 1)
    constants: list[str] = []
    try:
        value = json.loads(buf, parse_constant=_nan_collector(constants))
    except json.JSONDecodeError as exc:
        _syntax_problem(findings, exc.msg, buf, exc.pos, exc.lineno)
        return
    except RecursionError:
        findings.add(
            "json_too_deep", "the document is nested too deeply to be read (over 1,000 levels)."
        )
        return
    _constants(constants, buf, findings)
    if isinstance(value, dict):
        res.top = "object"
        res.columns = list(value)
        # A wrapper like {"data": [...]}: check the records inside.
        for inner in value.values():
            if isinstance(inner, list) and inner and all(isinstance(x, dict) for x in inner[:10]):
                res.records = len(inner)
                res.top = "wrapper"
                for i, item in enumerate(inner[:SAMPLE_RECORDS], 1):
                    recs.add(item, i, None, partial(_short_dump, item))
                res.columns = recs.columns
                break
        if recs.columns is None:
            recs.columns = list(value)
            recs.add(value, 1, 1, None) if recs.expected_columns else None
    else:
        res.top = type(value).__name__


def _constants(constants: list[str], buf: str, findings: Findings) -> None:
    if not constants:
        return
    m = re.search(r"(?<![\w\"])(-?Infinity|NaN)(?![\w\"])", buf)
    line = buf.count("\n", 0, m.start()) + 1 if m else None
    findings.add(
        "json_nan",
        (f"line {line:,}: " if line else "")
        + f"{constants[0]} is not valid JSON (Python writes it, but most other readers reject it); "
        "write null instead, or a string.",
        line=line,
        excerpt_text=_line_excerpt(buf, m.start()) if m else None,
    )


def _stream_array(
    buf: str,
    pos: int,
    text: _Text,
    res: JsonResult,
    recs: _Records,
    findings: Findings,
    budget: Budget,
    progress: Callable[[], int],
) -> None:
    lines = _Lines()
    pos += 1  # past '['
    index = 0
    expect_value = True
    after_comma = False
    constants: list[str] = []
    decoder = json.JSONDecoder(parse_constant=_nan_collector(constants))
    while True:
        if index % 256 == 0 and budget.check(progress()):
            return
        # Keep at least a block of look-ahead so most elements parse on the first try.
        if not text.eof and len(buf) - pos < text.block:
            lines.shift(buf, pos)
            buf = buf[pos:] + text.read()
            pos = 0
        pos = _ws_end(buf, pos)
        if pos >= len(buf):
            if text.eof:
                line = lines.at(buf, pos)
                findings.add(
                    "json_truncated",
                    f"line {line:,}: the file ends inside the top-level array after {index:,} "
                    "elements: the closing ']' is missing, so the file was probably cut off.",
                    line=line,
                )
                res.records = index
                res.eof = True
                res.lines = line
                return
            continue
        ch = buf[pos]
        if ch == "]":
            if after_comma:
                line = lines.at(buf, pos)
                _syntax_problem(findings, "Expecting value", buf, pos, line, res=res)
            pos += 1
            break
        if not expect_value:
            line = lines.at(buf, pos)
            _syntax_problem(
                findings, "Expecting ',' delimiter", buf, pos, line, record=index + 1, res=res
            )
            res.records = index
            return
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                if not text.eof and end >= len(buf) - 16 and len(buf) - pos < MAX_ELEMENT:
                    # The element may go on past the buffer (a number cut before its decimals).
                    lines.shift(buf, pos)
                    buf = buf[pos:] + text.read(max(text.block, len(buf) - pos))
                    pos = 0
                    continue
                break
            except json.JSONDecodeError as exc:
                # An element cut off by the end of the buffer fails at (or just before) the end,
                # or as an unterminated string; anything else is a real error.
                cut_off = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
                if cut_off and not text.eof and len(buf) - pos < MAX_ELEMENT:
                    lines.shift(buf, pos)
                    buf = buf[pos:] + text.read(max(text.block, len(buf) - pos))
                    pos = 0
                    continue
                line = lines.at(buf, exc.pos)
                _syntax_problem(findings, exc.msg, buf, exc.pos, line, record=index + 1, res=res)
                res.records = index + 1
                return
            except RecursionError:
                findings.add(
                    "json_too_deep", f"record {index + 1:,} is nested too deeply to be read."
                )
                return
        index += 1
        line = lines.at(buf, pos)
        recs.add(value, index, line, partial(_line_excerpt, buf, pos))
        pos = end
        pos = _ws_end(buf, pos)
        after_comma = False
        expect_value = False
        if pos < len(buf) and buf[pos] == ",":
            pos += 1
            expect_value = True
            after_comma = True
    res.records = index
    _constants(constants, buf, findings)
    # Only whitespace may follow the array.
    while True:
        pos = _ws_end(buf, pos)
        if pos < len(buf):
            line = lines.at(buf, pos)
            _syntax_problem(findings, "Extra data", buf, pos, line, res=res)
            break
        if text.eof:
            break
        lines.shift(buf, pos)
        buf, pos = text.read(), 0
    res.eof = text.eof
    res.lines = lines.at(buf, len(buf))


_TOKEN = re.compile(
    r'[ \t\n\r]*(?:(?P<s>"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")'
    r"|(?P<n>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<p>[{}\[\],:])|(?P<l>true|false|null))"
)


def _tokenize(
    buf: str,
    text: _Text,
    res: JsonResult,
    findings: Findings,
    budget: Budget,
    progress: Callable[[], int],
) -> None:
    """Syntax check of a large non-array document, token by token."""
    lines = _Lines()
    stack: list[str] = []
    # state: what may come next: 'value', 'key_or_end', 'key', 'colon', 'comma_or_end', 'done'
    state = "value"
    pos = 0
    count = 0
    res.top = "object"
    while True:
        count += 1
        if count % 65536 == 0 and budget.check(progress()):
            return
        m = _TOKEN.match(buf, pos)
        # A token ending near the end of the buffer may continue (a number cut before its
        # decimals), so it is only trusted with some look-ahead behind it.
        if m is None or (not text.eof and len(buf) - m.end() < 8):
            # Maybe a token cut by the end of the buffer: read on, but only as far as a token
            # can reach (long for a string, short for anything else), so that a real error in
            # a huge file does not pull the rest of the file into memory.
            start = _ws_end(buf, pos)
            reach = MAX_ELEMENT if buf[start : start + 1] == '"' else max(2 * text.block, 1 << 20)
            if not text.eof and len(buf) - pos < reach:
                lines.shift(buf, pos)
                buf = buf[pos:] + text.read()
                pos = 0
                continue
        if m is None:
            ws = _ws_end(buf, pos)
            if ws >= len(buf):
                if state == "done":
                    break
                line = lines.at(buf, ws)
                _syntax_problem(findings, "Expecting value", buf, ws, line, res=res)
                return
            line = lines.at(buf, ws)
            msg = _expectation_msg(state, buf, ws)
            _syntax_problem(findings, msg, buf, ws, line, res=res)
            return
        tok_pos = m.start(m.lastgroup) if m.lastgroup else m.start()
        kind = m.lastgroup
        tok = m.group(kind) if kind else ""
        bad = False
        if state == "done":
            line = lines.at(buf, tok_pos)
            _syntax_problem(findings, "Extra data", buf, tok_pos, line, res=res)
            return
        if state in ("value",):
            if kind == "p" and tok in "{[":
                stack.append(tok)
                state = "key_or_end" if tok == "{" else "value_or_end"
            elif kind in ("s", "n", "l"):
                state = "comma_or_end" if stack else "done"
            else:
                bad = True
        elif state == "value_or_end":
            if kind == "p" and tok == "]":
                stack.pop()
                state = "comma_or_end" if stack else "done"
            elif kind == "p" and tok in "{[":
                stack.append(tok)
                state = "key_or_end" if tok == "{" else "value_or_end"
            elif kind in ("s", "n", "l"):
                state = "comma_or_end"
            else:
                bad = True
        elif state in ("key_or_end", "key"):
            if kind == "s":
                state = "colon"
            elif state == "key_or_end" and kind == "p" and tok == "}":
                stack.pop()
                state = "comma_or_end" if stack else "done"
            else:
                bad = True
        elif state == "colon":
            if kind == "p" and tok == ":":
                state = "value"
            else:
                bad = True
        elif state == "comma_or_end":
            closer = "}" if stack and stack[-1] == "{" else "]"
            if kind == "p" and tok == ",":
                state = "key" if stack[-1] == "{" else "value"
            elif kind == "p" and tok == closer:
                stack.pop()
                state = "comma_or_end" if stack else "done"
            else:
                bad = True
        if bad:
            line = lines.at(buf, tok_pos)
            _syntax_problem(
                findings, _expectation_msg(state, buf, tok_pos), buf, tok_pos, line, res=res
            )
            return
        pos = m.end()
    res.eof = True
    res.lines = lines.at(buf, len(buf))


def _expectation_msg(state: str, buf: str, pos: int) -> str:
    ch = buf[pos : pos + 1]
    if state in ("value", "value_or_end"):
        if state == "value" and ch == "]":
            return "Expecting value"
        if ch == '"':
            return "Unterminated string starting at"
        if ch in "\\":
            return "Invalid \\escape"
        return "Expecting value"
    if state in ("key_or_end", "key"):
        if ch == '"':
            return "Unterminated string starting at"
        return "Expecting property name enclosed in double quotes"
    if state == "colon":
        return "Expecting ':' delimiter"
    if state == "comma_or_end":
        return "Expecting ',' delimiter"
    return "Extra data"


# --------------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------------


def check_jsonl(
    stream: Any,
    *,
    findings: Findings,
    budget: Budget,
    progress: Callable[[], int],
    expected_columns: list[str] | None = None,
    expected_types: dict[str, str] | None = None,
    chunk_size: int = BLOCK,
) -> JsonResult:
    """Check JSON Lines: one complete JSON value per line."""
    from postmortem_scribe.inputs.csv_check import MAX_LINE, Chunker

    res = JsonResult("jsonl")
    recs = _Records(findings, list(expected_columns or []), dict(expected_types or {}))
    chunker = Chunker(stream, chunk_size)
    line_no = 0
    blank_pending: list[int] = []
    bad_lines = 0
    while True:
        if budget.check(progress()):
            break
        chunk = chunker.next()
        if chunk is None:
            res.eof = not chunker.long_line
            break
        res.text_bytes += len(chunk)
        body = chunk[:-1] if chunk.endswith(b"\n") else chunk
        for raw in body.split(b"\n"):
            line_no += 1
            s = raw.strip()
            if not s:
                blank_pending.append(line_no)
                continue
            for b in blank_pending:
                findings.add(
                    "blank_line",
                    f"line {b:,} is blank; in JSON Lines every line holds one JSON value, and some "
                    "readers fail on blank lines. Remove it.",
                    line=b,
                )
            blank_pending = []
            try:
                value = json.loads(s)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                bad_lines += 1
                text = raw.decode("utf-8", "replace")
                if isinstance(exc, UnicodeDecodeError):
                    findings.add(
                        "encoding",
                        f"line {line_no:,} has bytes that are not valid UTF-8; save the file as "
                        "UTF-8.",
                        line=line_no,
                        excerpt_text=text,
                    )
                    continue
                if findings.wants("json_line"):
                    lead = len(text) - len(text.lstrip())
                    _, words = explain(exc.msg, exc.doc, exc.pos)
                    col = exc.colno + lead
                    if line_no == 1 and s in (b"{", b"["):
                        words = (
                            "it holds only '"
                            + s.decode()
                            + "': the file looks like one JSON document "
                            "spread over many lines (pretty-printed), not JSON Lines, which needs "
                            "each "
                            "value complete on its own line"
                        )
                    findings.add(
                        "json_line",
                        f"line {line_no:,} (record {res.records + 1:,}) is not valid JSON "
                        f"(column {col:,}): {words}.",
                        line=line_no,
                        record=res.records + 1,
                        excerpt_text=text,
                    )
                else:
                    findings.add("json_line", "", line=line_no)
                res.records += 1
                continue
            res.records += 1
            recs.add(value, res.records, line_no, raw.decode("utf-8", "replace"))
    if chunker.long_line:
        budget.stop("line")
        findings.add(
            "long_line",
            f"line {line_no + 1:,} is longer than {fmt_bytes(MAX_LINE)} without a line break, "
            "which is not JSON Lines (one value per line); the scan stopped there.",
            line=line_no + 1,
        )
    res.lines = line_no
    res.columns = recs.columns
    res.column_types = recs.column_types()
    res.missing_counts = recs.missing_counts
    return res
