"""A corpus of tricky input files, generated at test time (no committed binaries).

Each :class:`Case` builds one file and states the diagnosis a person should get: which problem
code, on which physical line, which record and column, with which words.  ``tests/
test_inputs_corpus.py`` runs every case through ``inspect_path`` and checks exactly that.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER = "order_id,customer,amount,currency"


def orders(
    n: int = 120, *, bad: dict[int, str] | None = None, header: str = HEADER, nl: str = "\n"
) -> str:
    """An orders CSV with ``n`` data rows; ``bad`` replaces record i (1-based) with a raw line."""
    bad = bad or {}
    lines = [header]
    for i in range(1, n + 1):
        lines.append(bad.get(i, f"{1000 + i},customer-{i},{10 + i % 7}.50,EUR"))
    return nl.join(lines) + nl


@dataclass
class Expect:
    """One problem the report must contain."""

    code: str
    line: int | None = None
    record: int | None = None
    column: str | None = None
    contains: tuple[str, ...] = ()


@dataclass
class Case:
    name: str
    filename: str
    make: Callable[[Path], bytes | None]
    """Returns the file's bytes, or writes the file itself and returns None."""
    problems: list[Expect] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    """Attributes of the report that must have these values."""
    expect: dict[str, Any] | None = None
    """Keyword arguments for an Expectation, when the case has one."""
    absent: tuple[str, ...] = ()
    """Problem codes that must NOT be reported (no false alarms)."""

    def write(self, folder: Path) -> Path:
        path = folder / self.filename
        data = self.make(path)
        if data is not None:
            path.write_bytes(data)
        return path


def _b(text: str, enc: str = "utf-8") -> Callable[[Path], bytes]:
    return lambda _p: text.encode(enc)


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _parquet(
    columns: dict[str, list[Any]], *, truncate: int | None = None
) -> Callable[[Path], bytes | None]:
    def make(path: Path) -> bytes | None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.table(columns), buf)
        data = buf.getvalue()
        return data[:truncate] if truncate else data

    return make


def _multiline_then_ragged(_p: Path) -> bytes:
    lines = ["id,comment,score"]
    for i in range(1, 11):
        if i in (3, 7):
            lines.append(f'{i},"first line of note {i}\nsecond line, with a comma\nthird line",{i}')
        else:
            lines.append(f"{i},plain {i},{i}")
    lines.append("11,oops,11,extra")
    lines.append("12,fine,12")
    return ("\n".join(lines) + "\n").encode()


def _runaway(_p: Path) -> bytes:
    lines = ["id,comment,score", '1,"fine",1', '2,"this quote never closes,2']
    for i in range(3, 4003):
        lines.append(f"{i},some text that goes on and on for a while here,{i}")
    lines.append('4003,closing" here,4003')
    lines.append("4004,after,4004")
    return ("\n".join(lines) + "\n").encode()


def _utf8_then_cp1252(_p: Path) -> bytes:
    head = orders(3000).encode("ascii")  # > 64 KB of ASCII, so the sniffed sample is clean
    tail = "4001,Caf\u00e9 Noir,12.50,EUR\n".encode("cp1252")
    return head + tail


def _concatenated_with_bom(_p: Path) -> bytes:
    part = "\ufeff" + orders(5)
    return part.encode("utf-8") + part.encode("utf-8")


def _mixed_endings(_p: Path) -> bytes:
    crlf = orders(20, nl="\r\n")
    lf = "".join(f"{2000 + i},late-{i},9.50,EUR\n" for i in range(1, 4))
    return (crlf + lf).encode()


def _bomb(_p: Path) -> bytes:
    comp = gzip.GzipFile  # noqa: F841 - documents that gzip is the format
    raw = b"a,b\n" + b"1,2\n" * (20 * 1024 * 1024)  # 80 MB of the same line, ~80 KB compressed
    return gzip.compress(raw, compresslevel=9, mtime=0)


def _xlsx(_p: Path) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<worksheet/>",
        }
    )


def _random_binary(_p: Path) -> bytes:
    import random

    rnd = random.Random(7)
    return bytes(rnd.randrange(256) for _ in range(20000))


CASES: list[Case] = [
    Case(
        "ragged_extra_value",
        "orders.csv",
        _b(orders(bad={56: "1056,ACME Corp,19.90,EUR,PROMO10"})),
        [
            Expect(
                "ragged_row",
                57,
                56,
                None,
                (
                    "line 57 (record 56) has 5 fields but the header has 4",
                    "the extra value is 'PROMO10'",
                    "Quote values that contain commas",
                ),
            )
        ],
        {"format": "csv", "delimiter": ",", "encoding": "utf-8", "row_estimate": 120},
    ),
    Case(
        "unquoted_comma_in_text",
        "items.csv",
        _b(
            "id,name,price,qty\n"
            + "".join(f"{i},Widget {i},{i}.25,{i}\n" for i in range(1, 30))
            + "30,Widget, large,3.50,2\n"
        ),
        [
            Expect(
                "ragged_row", 31, 30, "name", ("unquoted comma", "'Widget, large'", "Quote values")
            )
        ],
    ),
    Case(
        "too_few_fields",
        "orders.csv",
        _b(orders(bad={9: "1009,customer-9,12.50"})),
        [
            Expect(
                "ragged_row",
                10,
                9,
                "currency",
                ("has 3 fields but the header has 4", "no value for 'currency'"),
            )
        ],
    ),
    Case(
        "trailing_delimiter",
        "orders.csv",
        _b(orders(bad={14: "1014,customer-14,12.50,EUR,"})),
        [Expect("ragged_row", 15, 14, None, ("ends with an extra comma",))],
    ),
    Case(
        "thousands_separator",
        "orders.csv",
        _b(orders(bad={20: "1020,customer-20,1,234.50,EUR"})),
        [Expect("ragged_row", 21, 20, "amount", ("thousands separator", "'1,234.50'"))],
    ),
    Case(
        "unclosed_quote_to_eof",
        "notes.csv",
        _b(
            "id,comment,score\n"
            + "".join(f"{i},ok {i},{i}\n" for i in range(1, 39))
            + '39,"never closed,39\n'
            + "".join(f"{i},ok {i},{i}\n" for i in range(40, 50))
        ),
        [
            Expect(
                "unclosed_quote", 40, 39, "comment", ("never closed", "end of the file (11 lines)")
            )
        ],
    ),
    Case(
        "unescaped_inner_quotes",
        "notes.csv",
        _b('id,comment,score\n1,"fine",1\n2,"He said "hi" to me",2\n3,"ok",3\n'),
        [Expect("bad_quote", 3, 2, "comment", ("quotes are unbalanced", '""hi""'))],
    ),
    Case(
        "multiline_values_then_ragged",
        "notes.csv",
        _multiline_then_ragged,
        [Expect("ragged_row", 16, 11, None, ("line 16 (record 11) has 4 fields", "'extra'"))],
        {"row_estimate": 12},
    ),
    Case(
        "runaway_quote",
        "notes.csv",
        _runaway,
        [
            Expect(
                "unclosed_quote",
                3,
                2,
                "comment",
                ("runs on for more than", "closing quote is probably missing"),
            )
        ],
    ),
    Case(
        "tsv_ragged",
        "scores.tsv",
        _b("id\tname\tscore\n1\tAda\t3\n2\tBob\tlikes\ttabs\n3\tCy\t4\n"),
        [
            Expect(
                "ragged_row",
                3,
                2,
                None,
                ("has 4 fields but the header has 3", "Quote values that contain tabs"),
            )
        ],
        {"format": "tsv", "delimiter": "\t"},
    ),
    Case(
        "semicolons_in_csv",
        "prices.csv",
        _b("id;name;price\n1;Ada;3,50\n2;Bob;4,00\n"),
        [Expect("delimiter", 1, None, None, ("separated by ';'", "sep=';'"))],
        {"delimiter": ";", "header": ["id", "name", "price"]},
    ),
    Case(
        "utf8_bom",
        "orders.csv",
        lambda _p: b"\xef\xbb\xbf" + orders(5).encode(),
        [Expect("bom", 1, None, None, ("byte-order mark", "utf-8-sig"))],
        {"encoding": "utf-8-sig", "header": ["order_id", "customer", "amount", "currency"]},
    ),
    Case(
        "latin1",
        "people.csv",
        _b("id,name\n1,Ana\n2,Jos\u00e9\n", "latin-1"),
        [
            Expect(
                "not_utf8", 3, None, None, ("Latin-1", "byte 0xE9 on line 3", "encoding='latin-1'")
            )
        ],
        {"encoding": "latin-1"},
    ),
    Case(
        "cp1252",
        "quotes.csv",
        _b("id,quote\n1,\u201cHello\u201d\n2,it\u2019s\n", "cp1252"),
        [Expect("not_utf8", 2, None, None, ("cp1252", "UnicodeDecodeError"))],
        {"encoding": "cp1252"},
    ),
    Case(
        "utf8_then_cp1252_late",
        "orders.csv",
        _utf8_then_cp1252,
        [Expect("encoding", 3002, None, None, ("byte 0xE9", "not valid UTF-8", "cp1252"))],
        {"encoding": "utf-8"},
    ),
    Case(
        "utf16le_ragged",
        "orders.csv",
        lambda _p: orders(10, bad={4: "1004,customer-4,12.50,EUR,X"}).encode("utf-16"),
        [
            Expect("utf16", 1, None, None, ("UTF-16",)),
            Expect("ragged_row", 5, 4, None, ("extra value is 'X'",)),
        ],
        {"encoding": "utf-16-le"},
    ),
    Case(
        "utf16be",
        "orders.csv",
        lambda _p: b"\xfe\xff" + orders(3).encode("utf-16-be"),
        [Expect("utf16", 1, None, None, ("big-endian",))],
        {"encoding": "utf-16-be", "row_estimate": 3},
    ),
    Case(
        "duplicate_header",
        "orders.csv",
        _b(orders(5, header="id,price,qty,price")),
        [Expect("duplicate_column", 1, None, "price", ("columns 2 and 4 are both named 'price'",))],
    ),
    Case(
        "blank_header_name",
        "export.csv",
        _b(",name,price\n0,Ada,3\n1,Bob,4\n"),
        [Expect("blank_column", 1, None, "", ("column 1 has no name", "index=False"))],
    ),
    Case(
        "header_whitespace",
        "orders.csv",
        _b(orders(5, header="order_id, customer,amount ,currency")),
        [
            Expect("header_whitespace", 1, None, " customer", ("leading", "'customer'")),
            Expect("header_whitespace", 1, None, "amount ", ("trailing",)),
        ],
    ),
    Case(
        "zero_width_space_in_header",
        "orders.csv",
        _b(orders(5, header="order_id\u200b,customer,amount,currency")),
        [
            Expect(
                "invisible_character",
                1,
                None,
                "order_id\u200b",
                ("U+200B", "ZERO WIDTH SPACE", "looks like 'order_id'"),
            )
        ],
    ),
    Case(
        "nbsp_in_header",
        "orders.csv",
        _b(orders(5, header="order_id,customer,amount\u00a0,currency")),
        [Expect("invisible_character", 1, None, "amount\u00a0", ("U+00A0", "NO-BREAK SPACE"))],
    ),
    Case(
        "bom_mid_file",
        "orders.csv",
        _concatenated_with_bom,
        [
            Expect("bom_mid_file", 7, None, None, ("byte-order mark", "concatenated")),
            Expect("bom", 1),
        ],
    ),
    Case(
        "repeated_header",
        "orders.csv",
        _b(orders(5) + orders(5)),
        [Expect("repeated_header", 7, None, None, ("repeats the header row",))],
    ),
    Case(
        "expected_columns_renamed_missing_extra",
        "orders.csv",
        _b("OrderID,customer,currency,notes\n" + "".join(f"{i},c{i},EUR,\n" for i in range(1, 6))),
        [
            Expect("renamed_column", 1, None, "OrderID", ("'order_id' is missing", "renamed")),
            Expect("missing_column", 1, None, "amount", ("'amount' is missing",)),
            Expect("extra_column", 1, None, "notes", ("'notes' is not expected",)),
        ],
        expect={"columns": ["order_id", "customer", "amount", "currency"]},
    ),
    Case(
        "type_mismatches",
        "orders.csv",
        _b(
            "order_id,amount,day\n1,3.50,2024-03-01\n2,N/A,2024-03-02\n3,twelve,2024-03-03\n"
            '4,4.00,31/03/2024\n5,"1,234.50",2024-03-05\n'
        ),
        [
            Expect("type_mismatch", 4, 3, "amount", ("'twelve' is not a number",)),
            Expect("type_mismatch", 5, 4, "day", ("'31/03/2024'", "YYYY-MM-DD")),
            Expect("type_mismatch", 6, 5, "amount", ("thousands separator",)),
        ],
        expect={"types": {"order_id": "integer", "amount": "number", "day": "date"}},
    ),
    Case(
        "no_header_row",
        "orders.csv",
        _b("\n".join(orders(5).splitlines()[1:]) + "\n"),
        [
            Expect(
                "no_header", 1, None, None, ("looks like data", "order_id,customer,amount,currency")
            )
        ],
        expect={"columns": ["order_id", "customer", "amount", "currency"]},
    ),
    Case(
        "mixed_line_endings",
        "orders.csv",
        _mixed_endings,
        [Expect("mixed_line_endings", 22, None, None, ("21 lines end with CRLF", "3 with LF"))],
    ),
    Case(
        "nul_bytes",
        "orders.csv",
        _b(orders(10, bad={7: "1007,cust\x00omer,12.50,EUR"})),
        [Expect("nul_bytes", 8, None, None, ("NUL byte",))],
    ),
    Case(
        "empty",
        "orders.csv",
        lambda _p: b"",
        [Expect("empty", None, None, None, ("is empty (0 bytes)",))],
    ),
    Case(
        "whitespace_only",
        "orders.csv",
        lambda _p: b" \n\n  \r\n\t\n",
        [Expect("whitespace_only", None, None, None, ("only whitespace",))],
    ),
    Case(
        "header_only",
        "orders.csv",
        _b(HEADER + "\n"),
        [Expect("header_only", 1, None, None, ("no data rows",))],
        {"row_estimate": 0, "header": HEADER.split(",")},
    ),
    Case(
        "blank_line_mid_file",
        "orders.csv",
        _b(orders(10).replace("1005,customer-5,15.50,EUR\n", "1005,customer-5,15.50,EUR\n\n")),
        [Expect("blank_line", 7, None, None, ("line 7 is blank",))],
        {"row_estimate": 10},
    ),
    Case(
        "header_majority_mismatch",
        "orders.csv",
        _b("id,name,price\n" + "".join(f"{i},n{i},{i}.5,EUR\n" for i in range(1, 21))),
        [
            Expect(
                "header_field_count",
                1,
                None,
                None,
                ("has 3 names but 20 of 20 data rows have 4 fields",),
            )
        ],
    ),
    Case(
        "cr_only_line_endings",
        "orders.csv",
        _b(orders(5, nl="\r")),
        [Expect("cr_line_endings", 1, None, None, ("carriage return alone",))],
        {"row_estimate": 5},
    ),
    Case(
        "gzip_named_csv",
        "orders.csv",
        lambda _p: _gz(orders(30, bad={12: "1012,customer-12,12.50,EUR,X"}).encode()),
        [
            Expect("wrong_format", None, None, None, ("gzip-compressed", "1F 8B", "orders.csv.gz")),
            Expect("ragged_row", 13, 12),
        ],
        {"compression": "gzip", "format": "csv"},
    ),
    Case(
        "csv_gz_ok_name",
        "orders.csv.gz",
        lambda _p: _gz(orders(30, bad={3: "1003,x,1.50"}).encode()),
        [Expect("ragged_row", 4, 3)],
        {"compression": "gzip", "format": "csv", "row_estimate": 30},
        absent=("wrong_format",),
    ),
    Case(
        "bz2_csv",
        "orders.csv.bz2",
        lambda _p: bz2.compress(orders(30, bad={5: "1005,x"}).encode()),
        [Expect("ragged_row", 6, 5)],
        {"compression": "bz2"},
        absent=("wrong_format",),
    ),
    Case(
        "xz_csv",
        "orders.csv.xz",
        lambda _p: lzma.compress(orders(30, bad={6: "1006,x"}).encode()),
        [Expect("ragged_row", 7, 6)],
        {"compression": "xz"},
        absent=("wrong_format",),
    ),
    Case(
        "zip_with_csv",
        "orders.zip",
        lambda _p: _zip({"export/orders.csv": orders(30, bad={8: "1008,x,1.0,EUR,Y"}).encode()}),
        [Expect("ragged_row", 9, 8)],
        {"compression": "zip", "format": "csv"},
        absent=("wrong_format",),
    ),
    Case(
        "truncated_gzip",
        "orders.csv.gz",
        lambda _p: _gz(orders(4000).encode())[:3000],
        [Expect("compression_corrupt", None, None, None, ("cut off",))],
        {"compression": "gzip", "format": "csv", "header": HEADER.split(",")},
    ),
    Case(
        "decompression_bomb",
        "data.csv.gz",
        _bomb,
        [Expect("decompression_limit", None, None, None, ("decompression bomb", "250:1"))],
        {"complete": False},
    ),
    Case(
        "xlsx_named_csv",
        "orders.csv",
        _xlsx,
        [Expect("wrong_format", None, None, None, ("Excel workbook", "CSV UTF-8"))],
        {"format": "xlsx"},
    ),
    Case(
        "xls_named_csv",
        "orders.csv",
        lambda _p: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000),
        [Expect("wrong_format", None, None, None, ("legacy Excel", "OLE2"))],
        {"format": "xls"},
    ),
    Case(
        "parquet_named_csv",
        "orders.csv",
        _parquet({"order_id": [1, 2], "amount": [1.5, 2.5]}),
        [Expect("wrong_format", None, None, None, ("Parquet file", "read_parquet"))],
        {"format": "parquet", "header": ["order_id", "amount"], "row_estimate": 2},
    ),
    Case(
        "parquet_missing_column",
        "orders.parquet",
        _parquet({"order_id": [1, 2], "amount": ["1.5", "2.5"]}),
        [
            Expect("missing_column", None, None, "currency", ("'currency' is missing",)),
            Expect("type_mismatch", None, None, "amount", ("string", "number")),
        ],
        {"format": "parquet"},
        expect={"columns": ["order_id", "amount", "currency"], "types": {"amount": "number"}},
    ),
    Case(
        "parquet_truncated",
        "orders.parquet",
        _parquet({"order_id": list(range(100))}, truncate=300),
        [Expect("parquet_truncated", None, None, None, ("truncated", "footer"))],
    ),
    Case(
        "html_error_page",
        "orders.csv",
        _b(
            "<!DOCTYPE html>\n<html><head><title>404 Not "
            "Found</title></head><body>nope</body></html>\n"
        ),
        [Expect("wrong_format", None, None, None, ("HTML page", "'404 Not Found'", "download"))],
        {"format": "html"},
    ),
    Case(
        "s3_xml_error",
        "orders.csv",
        _b(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            "<Message>Access Denied</Message></Error>\n"
        ),
        [Expect("wrong_format", None, None, None, ("AccessDenied", "credentials"))],
    ),
    Case(
        "git_lfs_pointer",
        "orders.csv",
        _b(
            "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 73491\n"
        ),
        [Expect("wrong_format", None, None, None, ("Git LFS pointer", "git lfs", "73,491"))],
        {"format": "lfs"},
    ),
    Case(
        "pdf_named_csv",
        "orders.csv",
        lambda _p: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        [Expect("wrong_format", None, None, None, ("PDF",))],
        {"format": "pdf"},
    ),
    Case(
        "random_binary",
        "orders.csv",
        _random_binary,
        [Expect("wrong_format", None, None, None, ("binary data",))],
        {"format": "binary"},
    ),
    Case(
        "json_trailing_comma",
        "config.json",
        _b('{\n  "a": 1,\n  "b": [1, 2],\n  "c": 3,\n}\n'),
        [Expect("json_syntax", 5, None, None, ("line 5, column 1", "trailing comma"))],
        {"format": "json"},
    ),
    Case(
        "json_single_quotes",
        "config.json",
        _b("{\n  'a': 1\n}\n"),
        [Expect("json_syntax", 2, None, None, ("double quotes",))],
    ),
    Case(
        "json_python_literals",
        "records.json",
        _b('[\n {"a": 1, "ok": True}\n]\n'),
        [Expect("json_syntax", 2, 1, None, ("True is Python", "true"))],
    ),
    Case(
        "json_truncated",
        "records.json",
        _b('[\n {"a": 1},\n {"a": 2},\n {"a": 3'),
        [Expect("json_truncated", 4, None, None, ("truncated",))],
    ),
    Case(
        "jsonl_bad_line",
        "events.jsonl",
        _b('{"id": 1}\n{"id": 2}\n{"id": 3,}\n{"id": 4}\n'),
        [Expect("json_line", 3, 3, None, ("line 3 (record 3) is not valid JSON",))],
        {"format": "jsonl", "row_estimate": 4},
    ),
    Case(
        "jsonl_named_json",
        "events.json",
        _b('{"id": 1}\n{"id": 2}\n{"id": 3}\n'),
        [Expect("wrong_format", None, None, None, ("JSON Lines", "lines=True"))],
        {"format": "jsonl"},
    ),
    Case(
        "pretty_json_named_jsonl",
        "events.jsonl",
        _b('{\n  "id": 1,\n  "name": "x"\n}\n'),
        [Expect("wrong_format", None, None, None, ("named like JSON Lines", "one JSON document"))],
        {"format": "json"},
    ),
    Case(
        "json_records_keys_types",
        "orders.json",
        _b(
            '[\n  {"order_id": 1, "amount": 3.5},\n  {"order_id": 2, "amount": "4.50"},\n'
            '  {"order_id": 3}\n]\n'
        ),
        [
            Expect("type_mismatch", 3, 2, "amount", ("number written as a string",)),
            Expect("missing_key", 4, 3, "amount", ("no 'amount' key",)),
        ],
        {"format": "json", "row_estimate": 3, "header": ["order_id", "amount"]},
        expect={"columns": ["order_id", "amount"], "types": {"amount": "number"}},
    ),
]
