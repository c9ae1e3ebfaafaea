"""Streaming decompression with limits, so that a compressed input is inspected by what it
holds, and a decompression bomb stops the scan instead of filling memory or disk.

Two limits apply: the ratio of output to input (real data rarely compresses better than 50:1;
a bomb is built to reach 1000:1 or more) once a minimum amount of output has been produced, and
an absolute cap on output bytes.  Either one stops the stream and says so in :attr:`stopped`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from typing import Any, BinaryIO

from postmortem_scribe.inputs.budget import fmt_bytes

DEFAULT_MAX_RATIO = 250
DEFAULT_RATIO_MIN_OUTPUT = 64 * 1024 * 1024
DEFAULT_MAX_DECOMPRESSED = 16 * 1024**3
_SKIP_MEMBERS = ("__MACOSX/", ".DS_Store", "Thumbs.db")


class CountingReader(io.RawIOBase):
    """A file wrapper counting the bytes read through it (the compressed bytes consumed)."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data

    def readinto(self, b: Any) -> int:
        n = self._raw.readinto(b)
        self.count += n or 0
        return n or 0


def zstd_module() -> Any | None:
    """A Zstandard decompressor module if this Python has one (3.14's ``compression.zstd`` or
    the ``zstandard`` package), else ``None``."""
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python >= 3.14

        return zstd
    except ImportError:
        pass
    try:
        import zstandard  # type: ignore[import-not-found]

        return zstandard
    except ImportError:
        return None


class LimitedStream:
    """Decompressed bytes from ``inner``, stopping at the ratio or size limit; never raises.

    A corrupt or truncated stream ends early with :attr:`error` set, so the scan reports what
    it read and then what went wrong.
    """

    def __init__(
        self,
        inner: Any,
        counter: CountingReader,
        kind: str,
        *,
        max_ratio: float | None = DEFAULT_MAX_RATIO,
        ratio_min_output: int = DEFAULT_RATIO_MIN_OUTPUT,
        max_output: int | None = DEFAULT_MAX_DECOMPRESSED,
        declared_ratio: float | None = None,
    ) -> None:
        self._inner = inner
        self.counter = counter
        self.kind = kind
        self.max_ratio = max_ratio
        self.ratio_min_output = ratio_min_output
        self.max_output = max_output
        self.output = 0
        self.stopped: str | None = None
        self.error: str | None = None
        self._done = False
        self.declared_ratio = declared_ratio

    @property
    def raw_consumed(self) -> int:
        return self.counter.count

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        want = size if size and size > 0 else 1 << 20
        if self.max_output is not None:
            want = min(want, max(self.max_output - self.output, 0))
            if want == 0:
                self._stop(
                    f"decompression stopped after {fmt_bytes(self.output)} of output, the limit "
                    "for "
                    f"one input; only that much of the {self.kind} content was inspected"
                )
                return b""
        # Read in pieces: a decompressor that hits a truncated or corrupt stream raises and
        # loses the output of that call, so small calls keep all but the last piece.
        pieces: list[bytes] = []
        got = 0
        # read1 returns what one step of decompression produced; read() would buffer it and
        # lose it all when the next step raises.
        read = getattr(self._inner, "read1", None) or self._inner.read
        while got < want:
            try:
                piece = read(min(want - got, 256 * 1024))
            except Exception as exc:  # any decompressor error, stdlib or third-party
                self._done = True
                self.error = _describe_error(self.kind, exc, self.output + got)
                break
            if not piece:
                self._done = True
                break
            pieces.append(piece)
            got += len(piece)
        data = b"".join(pieces)
        if not data:
            self._done = True
            return b""
        self.output += len(data)
        if (
            self.max_ratio is not None
            and self.output >= self.ratio_min_output
            and self.output > self.max_ratio * max(self.counter.count, 1)
        ):
            ratio = self.output / max(self.counter.count, 1)
            self._stop(
                f"decompression stopped after {fmt_bytes(self.output)} of output from "
                f"{fmt_bytes(self.counter.count)} of {self.kind} input (ratio {ratio:,.0f}:1 is "
                "over "
                f"the {self.max_ratio:,.0f}:1 limit): this looks like a decompression bomb, or "
                "data "
                "that is almost all repeated bytes; only the output so far was inspected"
            )
        return data

    def _stop(self, message: str) -> None:
        self._done = True
        self.stopped = message

    def close(self) -> None:
        try:
            self._inner.close()
        except Exception:  # closing a broken stream must not hide the diagnosis
            pass


def _describe_error(kind: str, exc: BaseException, output: int) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "end-of-stream" in text or "ended before" in text:
        return (
            f"the {kind} data ends abruptly after {fmt_bytes(output)} of output: the file was cut "
            "off (an interrupted download or copy?). Fetch or write it again."
        )
    if "CRC" in text or "crc" in text:
        return (
            f"the {kind} data is corrupt: its checksum does not match after {fmt_bytes(output)} "
            f"of output ({text}). Fetch or write it again."
        )
    return f"the {kind} data could not be decompressed after {fmt_bytes(output)} of output: {text}"


def open_compressed(
    raw: BinaryIO,
    kind: str,
    *,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
    ratio_min_output: int = DEFAULT_RATIO_MIN_OUTPUT,
    max_output: int | None = DEFAULT_MAX_DECOMPRESSED,
) -> tuple[LimitedStream | None, str | None]:
    """A limited decompressing stream over ``raw`` for gzip, bz2, xz or zstd.

    Returns ``(stream, None)`` or ``(None, why not)``.  Zip archives go through
    :func:`open_zip_member` instead, because they hold several files.
    """
    counter = CountingReader(raw)
    limits = dict(max_ratio=max_ratio, ratio_min_output=ratio_min_output, max_output=max_output)
    if kind == "gzip":
        inner: Any = gzip.GzipFile(fileobj=counter, mode="rb")
    elif kind == "bz2":
        inner = bz2.BZ2File(counter, mode="rb")
    elif kind == "xz":
        inner = lzma.LZMAFile(counter, mode="rb")  # type: ignore[arg-type]
    elif kind == "zstd":
        mod = zstd_module()
        if mod is None:
            return None, (
                "the file is Zstandard-compressed, and this Python cannot decompress it (Python "
                "3.14 "
                "has compression.zstd; older versions need the 'zstandard' package). Decompress it "
                "first with `zstd -d`, then inspect the result."
            )
        if hasattr(mod, "ZstdDecompressor") and hasattr(mod.ZstdDecompressor, "stream_reader"):
            inner = mod.ZstdDecompressor().stream_reader(counter)
        else:
            inner = mod.ZstdFile(counter, mode="rb")
    else:
        return None, f"{kind} is not a compression this tool can read"
    return LimitedStream(inner, counter, kind, **limits), None  # type: ignore[arg-type]


def list_zip(raw: BinaryIO) -> tuple[zipfile.ZipFile | None, list[zipfile.ZipInfo], str | None]:
    """Open a zip archive and list its file members (folders and macOS extras left out)."""
    try:
        zf = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return (
            None,
            [],
            (
                f"the file starts like a zip archive but its directory cannot be read ({exc}): it "
                "is "
                "probably truncated (an interrupted download or copy?)."
            ),
        )
    members = [
        info
        for info in zf.infolist()
        if not info.is_dir() and not any(s in info.filename for s in _SKIP_MEMBERS)
    ]
    return zf, members, None


def pick_member(
    members: list[zipfile.ZipInfo], wanted_format: str | None
) -> zipfile.ZipInfo | None:
    """The member to inspect: the only one, or the first whose name looks like data."""
    if not members:
        return None
    if len(members) == 1:
        return members[0]
    preferred = {
        "csv": (".csv", ".tsv", ".txt"),
        "tsv": (".tsv", ".tab", ".txt", ".csv"),
        "json": (".json",),
        "jsonl": (".jsonl", ".ndjson", ".json"),
        "parquet": (".parquet", ".pq"),
    }.get(wanted_format or "", ())
    for ext in preferred + (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ".parquet"):
        for info in members:
            if info.filename.lower().endswith(ext):
                return info
    return members[0]


def open_zip_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    counter: CountingReader,
    *,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
    ratio_min_output: int = DEFAULT_RATIO_MIN_OUTPUT,
    max_output: int | None = DEFAULT_MAX_DECOMPRESSED,
) -> tuple[LimitedStream | None, str | None]:
    """A limited stream over one zip member; encrypted members are refused with a reason."""
    if info.flag_bits & 0x1:
        return None, (
            f"the zip member {info.filename!r} is encrypted (password-protected), so it cannot be "
            "inspected."
        )
    try:
        inner = zf.open(info)
    except (zipfile.BadZipFile, NotImplementedError, OSError, RuntimeError, ValueError) as exc:
        return None, f"the zip member {info.filename!r} cannot be opened: {exc}"
    declared = info.file_size / info.compress_size if info.compress_size else None
    stream = LimitedStream(
        inner,
        counter,
        "zip",
        max_ratio=max_ratio,
        ratio_min_output=ratio_min_output,
        max_output=max_output,
        declared_ratio=declared,
    )
    # zipfile reads the compressed bytes through the shared file object; the counter sees them
    # because ZipFile was given the counting wrapper.
    return stream, None
