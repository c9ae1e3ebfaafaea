"""What a file really is, from its first (and last) bytes, whatever its name says.

Names lie: a ``.csv`` can hold gzip, an Excel workbook, Parquet, an HTML error page saved by a
failed download, or a Git LFS pointer standing in for the real data.  :func:`sniff` looks at
magic bytes first, then at the text itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

COMPRESSIONS = ("gzip", "bz2", "xz", "zstd", "zip")
TEXT_FORMATS = ("csv", "tsv", "json", "jsonl", "text")

_EXT_FORMAT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".psv": "csv",
    ".txt": "text",
    ".dat": "text",
    ".json": "json",
    ".geojson": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".html": "html",
    ".htm": "html",
    ".xml": "xml",
    ".pdf": "pdf",
}
_EXT_COMPRESSION = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".tgz": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".lzma": "xz",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".zip": "zip",
}

# What people call each format, for messages.
NAMES = {
    "csv": "CSV text",
    "tsv": "tab-separated text (TSV)",
    "json": "a JSON document",
    "jsonl": "JSON Lines (one JSON value per line)",
    "text": "plain text",
    "parquet": "an Apache Parquet file",
    "gzip": "a gzip-compressed file",
    "bz2": "a bzip2-compressed file",
    "xz": "an xz-compressed file",
    "zstd": "a Zstandard-compressed file",
    "zip": "a zip archive",
    "xlsx": "an Excel workbook (.xlsx)",
    "xls": "a legacy Excel/Office file (.xls, OLE2)",
    "ole": "a legacy Microsoft Office file (OLE2: .xls, .doc or .msg)",
    "docx": "a Word document (.docx)",
    "pptx": "a PowerPoint file (.pptx)",
    "ods": "an OpenDocument spreadsheet (.ods)",
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "html": "an HTML page",
    "xml": "an XML document",
    "lfs": "a Git LFS pointer file",
    "sqlite": "a SQLite database",
    "arrow": "an Arrow IPC / Feather file",
    "orc": "an ORC file",
    "avro": "an Avro file",
    "tar": "a tar archive",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
    "elf": "a program (ELF executable)",
    "binary": "binary data",
    "empty": "an empty file",
    "whitespace": "only whitespace",
    "utf16": "UTF-16 text",
}

_MAGIC: list[tuple[bytes, str]] = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PAR1", "parquet"),
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"ARROW1", "arrow"),
    (b"ORC", "orc"),
    (b"Obj\x01", "avro"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x7fELF", "elf"),
]

_LFS = re.compile(rb"\Aversion https://git-lfs\.github\.com/spec/v\d+\s*\n")
_LFS_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})\s*$", re.M)
_LFS_SIZE = re.compile(rb"^size (\d+)\s*$", re.M)
_HTML = re.compile(
    rb"\A(?:\s|<!--.*?-->)*<(?:!doctype\s+html|html|head|body|title|meta|div|p|h1)\b", re.I | re.S
)
_XML = re.compile(rb"\A\s*<\?xml\b", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_XML_ERROR = re.compile(
    rb"<Error>\s*<Code>([^<]{1,80})</Code>(?:\s*<Message>([^<]{0,200})</Message>)?", re.I
)
_TAGS = re.compile(r"<[^>]*>")


@dataclass
class Sniff:
    """What the first bytes say the file is."""

    kind: str
    """A key of :data:`NAMES`, or ``text`` for anything that reads as text."""
    detail: str | None = None
    """A short human detail: the HTML page title, the LFS object size, the zip's members."""


def expected_from_name(path: str) -> tuple[str | None, str | None]:
    """(format, compression) the file name promises: ``sales.csv.gz`` -> (``csv``, ``gzip``)."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    suffixes = PurePosixPath(name).suffixes
    compression = None
    if suffixes and suffixes[-1] in _EXT_COMPRESSION:
        compression = _EXT_COMPRESSION[suffixes[-1]]
        suffixes = suffixes[:-1]
        if name.endswith(".tgz"):
            return "tar", "gzip"
    fmt = _EXT_FORMAT.get(suffixes[-1]) if suffixes else None
    return fmt, compression


def sniff_bytes(head: bytes) -> Sniff | None:
    """A binary format recognised by its magic bytes, or ``None`` for (probably) text."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return Sniff(kind)
    if len(head) > 262 and head[257:262] == b"ustar":
        return Sniff("tar")
    return None


def sniff_text_markers(head: bytes) -> Sniff | None:
    """Text that is not data: an HTML or XML page, a Git LFS pointer."""
    if _LFS.match(head):
        size = _LFS_SIZE.search(head)
        oid = _LFS_OID.search(head)
        bits = []
        if oid:
            bits.append(f"object sha256:{oid.group(1)[:12].decode()}...")
        if size:
            bits.append(f"real size {int(size.group(1)):,} bytes")
        return Sniff("lfs", ", ".join(bits) or None)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _XML.match(stripped):
        m = _XML_ERROR.search(head)
        if m:
            code = m.group(1).decode("utf-8", "replace").strip()
            msg = (m.group(2) or b"").decode("utf-8", "replace").strip()
            return Sniff("xml", f"an error response: {code}" + (f" ({msg})" if msg else ""))
        if re.search(rb"<html\b", head, re.I):
            return Sniff("html", _html_title(head))
        return Sniff("xml")
    if _HTML.match(stripped):
        return Sniff("html", _html_title(head))
    return None


def _html_title(head: bytes) -> str | None:
    for pattern in (_TITLE, _H1):
        m = pattern.search(head)
        if m:
            text = html.unescape(_TAGS.sub("", m.group(1).decode("utf-8", "replace")))
            text = " ".join(text.split())
            if text:
                return f"titled {text[:80]!r}"
    return None


def looks_binary(text: str) -> float:
    """The share of characters in ``text`` that never appear in text files (control codes,
    undecodable bytes); above a few percent the file is binary."""
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n\f") or ch == "\ufffd")
    return bad / len(text)


def zip_kind(names: list[str]) -> str:
    """What a zip archive is, from its member names: ``xlsx``, ``docx``, ``pptx``, ``ods``
    or plain ``zip``."""
    s = set(names)
    if "[Content_Types].xml" in s:
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    if "mimetype" in s and "content.xml" in s:
        return "ods"
    return "zip"
