"""Which text encoding a file uses, from its first bytes, and a reader that turns UTF-16/32 into
UTF-8 so that one byte-level scanner serves every encoding.

Detection order: a byte-order mark (BOM) decides; then a NUL-byte pattern reveals UTF-16
without BOM; then UTF-8 is tried (ASCII is UTF-8); what fails UTF-8 is cp1252 when it uses the
bytes 0x80-0x9F the way Windows does (curly quotes, euro sign), otherwise Latin-1.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import BinaryIO

LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark (BOM)",
    "utf-16-le": "UTF-16 little-endian",
    "utf-16-be": "UTF-16 big-endian",
    "utf-32-le": "UTF-32 little-endian",
    "utf-32-be": "UTF-32 big-endian",
    "cp1252": "cp1252 (Windows Western European)",
    "latin-1": "Latin-1 (ISO-8859-1)",
}

# Bytes that cp1252 leaves undefined; their presence means the file is not cp1252.
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")
_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf_8": "utf-8",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf_8_sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16-le": "utf-16-le",
    "utf_16_le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "utf-16-be": "utf-16-be",
    "utf_16_be": "utf-16-be",
    "utf-32": "utf-32",
    "utf-32-le": "utf-32-le",
    "utf-32-be": "utf-32-be",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "1252": "cp1252",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "l1": "latin-1",
    "8859": "latin-1",
}


def normalize_encoding(name: str | None) -> str | None:
    """A canonical encoding name for comparisons (``UTF8`` and ``utf_8`` are ``utf-8``)."""
    if not name:
        return None
    key = name.strip().lower().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        return key


def label(name: str | None) -> str:
    """A name for people: ``UTF-8 with a byte-order mark (BOM)``."""
    if not name:
        return "unknown encoding"
    return LABELS.get(name, name)


def same_encoding(a: str | None, b: str | None) -> bool:
    """Whether text written in ``a`` reads identically as ``b`` for our purposes."""
    na, nb = normalize_encoding(a), normalize_encoding(b)
    if na == nb:
        return True
    fam = {na, nb}
    if fam <= {"utf-16", "utf-16-le", "utf-16-be"} and "utf-16" in fam:
        return True
    if fam <= {"utf-32", "utf-32-le", "utf-32-be"} and "utf-32" in fam:
        return True
    return False


@dataclass
class EncodingGuess:
    name: str
    """Python codec name: utf-8, utf-8-sig, utf-16-le/-be, utf-32-le/-be, cp1252 or latin-1."""
    bom_bytes: int = 0
    """How many leading bytes are a byte-order mark."""
    ascii_only: bool = False
    """The sample had no byte above 0x7F (so it reads the same in UTF-8, cp1252 and Latin-1)."""
    bom_missing: bool = False
    """UTF-16 recognised from its NUL bytes although the file has no BOM."""
    evidence: str | None = None
    """A short example of why: ``byte 0xE9 on line 3 ('é' in cp1252)``."""

    @property
    def wide(self) -> bool:
        """UTF-16 or UTF-32: not ASCII-compatible, transcoded before scanning."""
        return self.name.startswith(("utf-16", "utf-32"))

    @property
    def scan_encoding(self) -> str:
        """The encoding of the bytes the scanner sees (wide encodings are transcoded to UTF-8)."""
        if self.wide or self.name == "utf-8-sig":
            return "utf-8"
        return self.name


def detect(sample: bytes, at_eof: bool = False) -> EncodingGuess:
    """Guess the encoding of ``sample``, the first bytes of a file (64 KB is plenty)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return EncodingGuess("utf-8-sig", 3, ascii_only=sample[3:].isascii())
    if sample.startswith(b"\xff\xfe\x00\x00"):
        return EncodingGuess("utf-32-le", 4)
    if sample.startswith(b"\x00\x00\xfe\xff"):
        return EncodingGuess("utf-32-be", 4)
    if sample.startswith(b"\xff\xfe"):
        return EncodingGuess("utf-16-le", 2)
    if sample.startswith(b"\xfe\xff"):
        return EncodingGuess("utf-16-be", 2)
    head = sample[:4096]
    if len(head) >= 8 and b"\x00" in head:
        even_nul = head[0::2].count(0)
        odd_nul = head[1::2].count(0)
        half = len(head) // 2
        if odd_nul > 0.4 * half and even_nul < 0.05 * half:
            return EncodingGuess("utf-16-le", 0, bom_missing=True)
        if even_nul > 0.4 * half and odd_nul < 0.05 * half:
            return EncodingGuess("utf-16-be", 0, bom_missing=True)
    if sample.isascii():
        return EncodingGuess("utf-8", 0, ascii_only=True)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof)
        return EncodingGuess("utf-8", 0)
    except UnicodeDecodeError as exc:
        bad = sample[exc.start]
    line_no = sample.count(b"\n", 0, sample.find(bytes([bad])) + 1) + 1
    high = {b for b in sample if b >= 0x80}
    if high & _CP1252_HOLES:
        name = "latin-1"
    elif any(0x80 <= b <= 0x9F for b in high):
        name = "cp1252"
    else:
        name = "latin-1"
    shown = bytes([bad]).decode(name, "replace")
    return EncodingGuess(
        name, 0, evidence=f"byte 0x{bad:02X} on line {line_no} ({shown!r} in {name})"
    )


class TranscodingReader:
    """A binary stream giving the UTF-8 encoding of a UTF-16/UTF-32 stream.

    Undecodable bytes (an odd byte count, a lone surrogate) become U+FFFD, which later shows up
    in excerpts and type hints; :attr:`replacements` counts the U+FFFD characters produced.
    """

    def __init__(self, raw: BinaryIO, encoding: str, skip: int = 0) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._eof = False
        self.replacements = 0
        if skip:
            raw.read(skip)

    def read(self, size: int = -1) -> bytes:
        want = size if size and size > 0 else 1 << 20
        while not self._eof:
            data = self._raw.read(want)
            final = not data
            text = self._decoder.decode(data, final=final)
            if final:
                self._eof = True
            if text:
                self.replacements += text.count("\ufffd")
                return text.encode("utf-8", "replace")
        return b""

    def close(self) -> None:
        """Nothing to release: the underlying stream belongs to the caller."""
