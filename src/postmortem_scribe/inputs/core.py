"""``inspect_path``: one input file in, one :class:`InputReport` out, whatever the file.

The order of work: does the path exist and is it a regular file; what do the magic bytes say
(compression, archives, binary formats); for text, which encoding; is it really data (not an
HTML error page or a Git LFS pointer); which text format (CSV/TSV, JSON, JSON Lines); then the
streaming check of that format, within the budget.  Every step that finds something wrong adds
a :class:`~postmortem_scribe.records.Problem` in plain words; nothing raises.
"""

from __future__ import annotations

import difflib
import json
import os
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from postmortem_scribe.inputs import compression as C
from postmortem_scribe.inputs import csv_check, json_check, parquet_check
from postmortem_scribe.inputs import encoding as E
from postmortem_scribe.inputs import sniff as S
from postmortem_scribe.inputs.budget import Budget, fmt_bytes
from postmortem_scribe.inputs.collect import INVISIBLE, Findings
from postmortem_scribe.inputs.expected import Expectation, compare_columns, describe
from postmortem_scribe.records import InputReport

HEAD = 64 * 1024


@dataclass
class Extras:
    """What an inspection learned that :class:`InputReport` has no field for (used by profiles)."""

    column_types: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    records_scanned: int = 0
    text_bytes: int = 0
    line_terminator: str | None = None
    header_is_data: bool = False


def add_note(report: InputReport, note: str) -> None:
    """Attach a note (not a problem) to the report, once."""
    if note not in report.notes:
        report.notes.append(note)


def inspect_path(
    path: str | os.PathLike[str],
    *,
    expect: Expectation | None = None,
    budget_seconds: float | None = None,
    max_bytes: int | None = None,
    max_decompressed_bytes: int | None = C.DEFAULT_MAX_DECOMPRESSED,
    max_ratio: float | None = C.DEFAULT_MAX_RATIO,
) -> InputReport:
    """Inspect one input file and say what is wrong with it and what was expected.

    Args:
        path: a local path or a ``file://`` URI.
        expect: the expected shape, if known (config, schema file, last good profile).
        budget_seconds: stop after this many seconds and say how far the scan got; ``None``
            means no limit (the CLI).  Callers in the failure path pass a few seconds.
        max_bytes: stop after reading this many bytes of the file; ``None`` means no limit.
        max_decompressed_bytes: cap on the output of a compressed input.
        max_ratio: decompression ratio beyond which a compressed input counts as a bomb.

    Never raises; an internal error becomes :attr:`InputReport.error`.
    """
    report, _ = inspect_path_extras(
        path,
        expect=expect,
        budget_seconds=budget_seconds,
        max_bytes=max_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        max_ratio=max_ratio,
    )
    return report


def inspect_path_extras(
    path: str | os.PathLike[str],
    *,
    expect: Expectation | None = None,
    budget_seconds: float | None = None,
    max_bytes: int | None = None,
    max_decompressed_bytes: int | None = C.DEFAULT_MAX_DECOMPRESSED,
    max_ratio: float | None = C.DEFAULT_MAX_RATIO,
    chunk_size: int = csv_check.CHUNK_SIZE,
    fast: bool = True,
    sample_only: bool = False,
) -> tuple[InputReport, Extras]:
    """:func:`inspect_path`, also returning what the report has no field for."""
    try:
        shown = os.fspath(path)
    except Exception:
        shown = repr(path)
    report = InputReport(path=str(shown))
    extras = Extras()
    try:
        job = _Job(
            report,
            extras,
            expect,
            Budget(budget_seconds, max_bytes),
            max_decompressed_bytes,
            max_ratio,
            chunk_size,
            fast,
            sample_only,
        )
        job.run(str(shown))
    except Exception as exc:  # never raise into the host: say what happened instead
        report.error = (
            f"the inspection itself failed ({type(exc).__name__}: {str(exc)[:200]}); this is a "
            "bug in postmortem-scribe, not necessarily a problem with the file"
        )
        report.complete = False
    return report, extras


def _local_path(path: str) -> tuple[str | None, str | None]:
    """(local path, why not) for a path or URI."""
    if path.startswith("file:"):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(path)
        if parsed.netloc not in ("", "localhost"):
            return (
                None,
                f"{path} names a file on another host ({parsed.netloc}); only local files can be "
                "inspected",
            )
        return unquote(parsed.path), None
    if "://" in path[:16]:
        scheme = path.split("://", 1)[0]
        return None, (
            f"{path} is a remote {scheme}:// URL; only local files and file:// URIs are inspected. "
            "Download it first, then run `scribe inspect` on the copy"
        )
    return path, None


class _Job:
    def __init__(
        self,
        report: InputReport,
        extras: Extras,
        expect: Expectation | None,
        budget: Budget,
        max_out: int | None,
        max_ratio: float | None,
        chunk_size: int,
        fast: bool,
        sample_only: bool,
    ) -> None:
        self.report = report
        self.extras = extras
        self.exp = expect if expect is not None and not expect.is_empty() else None
        self.exp_raw = expect
        self.budget = budget
        self.max_out = max_out
        self.max_ratio = max_ratio
        self.chunk_size = chunk_size
        self.fast = fast
        self.sample_only = sample_only
        self.f = Findings()
        self.name = ""
        self.want_format: str | None = None
        self.want_compression: str | None = None
        self.stream: C.LimitedStream | None = None

    # ---- top level ---------------------------------------------------------------------------

    def run(self, path: str) -> None:
        r = self.report
        if self.exp_raw is not None:
            for p in self.exp_raw.problems:
                self.note(f"expectation: {p}")
        local, why = _local_path(path)
        if local is None:
            r.exists = False
            r.error = why
            r.complete = False
            return
        self.name = PurePosixPath(local.replace("\\", "/")).name or local
        fmt, comp = S.expected_from_name(local)
        self.want_format = (self.exp.format if self.exp and self.exp.format else None) or fmt
        self.want_compression = comp
        try:
            st = os.stat(local)
        except FileNotFoundError:
            r.exists = False
            r.error = self._missing_message(local)
            r.complete = False
            r.expected = self.expected_words(None, None, None)
            return
        except (OSError, ValueError) as exc:
            r.exists = False
            r.error = f"{path} cannot be accessed: {getattr(exc, 'strerror', None) or exc}"
            r.complete = False
            return
        if stat_mod.S_ISDIR(st.st_mode):
            r.error = (
                f"{path} is a directory, not a file (a partitioned dataset?); inspect the files "
                "inside it"
            )
            r.complete = False
            return
        if not stat_mod.S_ISREG(st.st_mode):
            r.error = (
                f"{path} is not a regular file (a pipe, socket or device); only regular files "
                "are inspected"
            )
            r.complete = False
            return
        r.size_bytes = st.st_size
        try:
            fh = open(local, "rb")
        except OSError as exc:
            r.error = f"{path} exists but cannot be read: {exc.strerror or exc}"
            r.complete = False
            return
        with fh:
            self.inspect_file(local, fh, st.st_size)
        self.finish()

    def _missing_message(self, local: str) -> str:
        parent = os.path.dirname(local) or "."
        msg = f"no such file: {local}"
        if not os.path.isdir(parent):
            return msg + f" (the folder {parent} does not exist either)"
        try:
            names = []
            with os.scandir(parent) as it:
                for i, entry in enumerate(it):
                    if i >= 2000:
                        break
                    names.append(entry.name)
            close = difflib.get_close_matches(os.path.basename(local), names, n=3, cutoff=0.6)
        except OSError:
            close = []
        msg += (
            ". The task expected this input to exist; the upstream step may not have produced it "
            "yet, or the path is wrong"
        )
        if close:
            msg += "; similar names in that folder: " + ", ".join(close)
        return msg

    def note(self, text: str) -> None:
        self.extras.notes.append(text)
        add_note(self.report, text)

    def expected_words(
        self, fmt: str | None, delim: str | None, header: list[str] | None
    ) -> str | None:
        """The expected format in words: what the expectation or the file name asked for, else
        the conventions of the detected data format (nothing for non-data files)."""
        want = (self.exp.format if self.exp and self.exp.format else None) or self.want_format
        if want is None and fmt not in ("csv", "tsv", "json", "jsonl", "parquet"):
            return describe(self.exp, None, delim, None) if self.exp else None
        if want in ("csv", "tsv", "text") and fmt in ("csv", "tsv"):
            want = fmt
        if want not in (None, fmt, "text"):
            delim, header = None, None
        return describe(self.exp, want or fmt, delim, header)

    def finish(self) -> None:
        r = self.report
        r.problems = self.f.finish()
        if self.stream is not None:
            if self.stream.stopped:
                r.problems.append(_problem("decompression_limit", self.stream.stopped))
                r.complete = False
                self.budget.stop("decompressed")
            if self.stream.error:
                r.problems.append(_problem("compression_corrupt", self.stream.error))
        if self.budget.stop_reason and r.complete:
            r.complete = False
        if not r.complete and r.error is None and self.budget.stop_reason:
            total = r.size_bytes
            self.note(self.budget.coverage_sentence(r.scanned_bytes, total))
        if r.expected is None:
            header_trouble = {
                "duplicate_column",
                "blank_column",
                "header_whitespace",
                "invisible_character",
                "header_field_count",
                "no_header",
            }
            shown_header = None if any(p.code in header_trouble for p in r.problems) else r.header
            r.expected = self.expected_words(r.format, r.delimiter, shown_header)

    # ---- binary level ------------------------------------------------------------------------

    def inspect_file(self, local: str, fh: BinaryIO, size: int) -> None:
        r = self.report
        if size == 0:
            r.format = self.want_format
            r.scanned_bytes = 0
            self.f.add(
                "empty",
                f"{self.name} is empty (0 bytes): the step that writes it produced nothing, or the "
                "copy failed. Expected " + self._expected_lower(),
            )
            return
        head = fh.read(HEAD)
        magic = S.sniff_bytes(head)
        if magic is None:
            fh.seek(0)
            self.inspect_stream(fh, head, size, raw=fh)
            return
        kind = magic.kind
        if kind in ("gzip", "bz2", "xz", "zstd"):
            r.compression = kind
            if self.want_compression != kind:
                self.wrong_format(kind, head=head, compressed=True)
            fh.seek(0)
            stream, why = C.open_compressed(
                fh,
                kind,
                max_ratio=self.max_ratio,
                max_output=self.max_out,
            )
            if stream is None:
                r.error = why
                r.complete = False
                r.scanned_bytes = len(head)
                return
            self.stream = stream
            inner_head = stream.read(HEAD)
            if stream.error and not inner_head:
                r.scanned_bytes = stream.raw_consumed
                return
            inner_magic = S.sniff_bytes(inner_head)
            if inner_magic is not None:
                self.binary_inside(inner_magic, kind)
                r.scanned_bytes = stream.raw_consumed
                return
            self.inspect_stream(stream, inner_head, size, raw=None, prefixed=True)
            return
        if kind == "zip":
            self.inspect_zip(fh, size)
            return
        if kind == "parquet":
            r.format = "parquet"
            if self.want_format not in (None, "parquet"):
                self.wrong_format("parquet")
            self.inspect_parquet(local, size)
            return
        # Anything else with magic bytes is not what a pipeline reads as text.
        r.format = "xls" if kind == "ole" else kind
        r.scanned_bytes = len(head)
        if self.want_format in (r.format,):
            self.note(f"{S.NAMES.get(kind, kind)} cannot be inspected further by this tool")
            return
        self.wrong_format(kind)

    def binary_inside(self, magic: S.Sniff, outer: str) -> None:
        r = self.report
        r.format = magic.kind
        if magic.kind == "parquet":
            self.note(
                f"the {outer} file holds a Parquet file; Parquet needs random access, so "
                "decompress "
                "it to inspect the schema"
            )
            return
        if magic.kind == "tar":
            self.note(
                f"the {outer} file holds a tar archive; extract it and inspect the files inside"
            )
            if self.want_format not in (None, "tar"):
                self.wrong_format("tar")
            return
        self.wrong_format(magic.kind)

    def inspect_zip(self, fh: BinaryIO, size: int) -> None:
        r = self.report
        counter = C.CountingReader(fh)
        zf, members, why = C.list_zip(counter)  # type: ignore[arg-type]
        if zf is None:
            r.format = "zip"
            self.f.add("compression_corrupt", why or "the zip archive cannot be read.")
            r.scanned_bytes = counter.count
            return
        with zf:
            kind = S.zip_kind([i.filename for i in zf.infolist()])
            if kind != "zip":
                r.format = kind
                r.scanned_bytes = counter.count
                if self.want_format != kind:
                    self.wrong_format(kind)
                return
            r.compression = "zip"
            if self.want_compression != "zip" and self.want_format not in (None,):
                self.wrong_format("zip", compressed=True)
            member = C.pick_member(members, self.want_format)
            if member is None:
                self.f.add("empty", f"{self.name} is a zip archive with no files in it.")
                r.scanned_bytes = counter.count
                return
            if len(members) > 1:
                others = [m.filename for m in members if m is not member]
                self.note(
                    f"the zip archive holds {len(members)} files; inspected {member.filename!r} "
                    f"(others: {', '.join(others[:5])}{', ...' if len(others) > 5 else ''})"
                )
            else:
                self.note(f"inspected {member.filename!r} inside the zip archive")
            if (
                self.max_ratio is not None
                and member.compress_size
                and member.file_size > C.DEFAULT_RATIO_MIN_OUTPUT
                and member.file_size / member.compress_size > self.max_ratio
            ):
                self.note(
                    f"{member.filename!r} declares {fmt_bytes(member.file_size)} from "
                    f"{fmt_bytes(member.compress_size)} compressed (ratio "
                    f"{member.file_size / member.compress_size:,.0f}:1): a possible decompression "
                    "bomb"
                )
            stream, why = C.open_zip_member(
                zf,
                member,
                counter,
                max_ratio=self.max_ratio,
                max_output=self.max_out,
            )
            if stream is None:
                r.error = why
                r.complete = False
                r.scanned_bytes = counter.count
                return
            self.stream = stream
            inner_name = member.filename
            fmt, comp = S.expected_from_name(inner_name)
            if fmt and (not self.exp or not self.exp.format):
                self.want_format = fmt
            inner_head = stream.read(HEAD)
            inner_magic = S.sniff_bytes(inner_head)
            if inner_magic is not None:
                self.binary_inside(inner_magic, "zip")
                r.scanned_bytes = counter.count
                return
            self.inspect_stream(stream, inner_head, size, raw=None, prefixed=True)

    def inspect_parquet(self, local: str, size: int) -> None:
        r = self.report
        res = parquet_check.check_parquet(local, size, self.f, name=self.name)
        r.scanned_bytes = min(size, 4096) if res.footer_ok else min(size, HEAD)
        for n in res.notes:
            self.note(n)
        if res.columns is not None:
            r.header = res.columns
            r.row_estimate = res.rows
            self.extras.column_types = dict(res.column_types)
            if self.exp:
                compare_columns(res.columns, self.exp, self.f, line=None)
                parquet_check.parquet_type_problems(res, self.exp.types, self.f)

    # ---- text level --------------------------------------------------------------------------

    def inspect_stream(
        self,
        stream: Any,
        head: bytes,
        size: int,
        *,
        raw: BinaryIO | None,
        prefixed: bool = False,
    ) -> None:
        """Text content from ``stream``; ``head`` is its first bytes (already consumed from
        ``stream`` when ``prefixed``)."""
        r = self.report
        if prefixed:
            stream = csv_check.PrefixedReader(head, stream)
        elif raw is not None:
            raw.seek(0)
        marker = S.sniff_text_markers(head)
        if marker is not None:
            r.format = marker.kind
            r.scanned_bytes = len(head) if raw is not None else self._progress_raw()
            if self.want_format == marker.kind:
                self.note(
                    f"{S.NAMES.get(marker.kind, marker.kind)} is not a data format this tool checks"
                )
            else:
                self.wrong_format(marker.kind, detail=marker.detail)
            return
        at_eof = len(head) < HEAD
        guess = E.detect(head, at_eof=at_eof)
        r.encoding = guess.name
        bom = guess.bom_bytes
        if guess.wide:
            text_stream: Any = E.TranscodingReader(stream, guess.name, skip=bom)
        else:
            if bom:
                stream.read(bom)
            text_stream = stream
        sample = text_stream.read(HEAD)
        text_stream = csv_check.PrefixedReader(sample, text_stream)
        enc = guess.scan_encoding
        sample_text = sample.decode(enc, "replace")
        if not sample_text.strip() and at_eof:
            r.format = self.want_format
            r.scanned_bytes = size
            self.f.add(
                "whitespace_only",
                f"{self.name} holds only whitespace ({fmt_bytes(size)} of spaces and line breaks), "
                "no header and no data. Expected " + self._expected_lower(),
            )
            return
        binary_share = S.looks_binary(sample_text[:20000])
        if binary_share > 0.05 and not (guess.wide and binary_share < 0.2):
            r.format = "binary"
            r.encoding = None
            r.scanned_bytes = len(head)
            self.wrong_format("binary", detail=f"{binary_share:.0%}")
            return
        self.encoding_problems(guess, sample)
        content = self.content_format(sample_text)
        want = self.want_format
        if want in ("csv", "tsv") and content in ("json", "jsonl"):
            self.wrong_format(content)
        elif want in ("json", "jsonl", "parquet") and content == "csv":
            self.wrong_format("csv")
        elif want == "json" and content == "jsonl":
            self.wrong_format("jsonl")
        elif want == "jsonl" and content == "json":
            self.wrong_format("json")
        elif want in ("xlsx", "xls") and content == "csv":
            self.wrong_format("csv")

        # The scanners' byte counts feed the progress function once they exist.
        counter_res: list[Any] = []

        def progress() -> int:
            return self._progress(raw, bom, guess, counter_res)

        if content in ("json", "jsonl"):
            self.inspect_json(text_stream, content, progress, counter_res, size)
        else:
            self.inspect_csv(text_stream, sample_text, enc, progress, counter_res, size, guess)

    def _progress_raw(self) -> int:
        return self.stream.raw_consumed if self.stream is not None else 0

    def _progress(
        self, raw: BinaryIO | None, bom: int, guess: E.EncodingGuess, holder: list[Any]
    ) -> int:
        if self.stream is not None:
            return self.stream.raw_consumed
        if guess.wide and raw is not None:
            try:
                return raw.tell()
            except (OSError, ValueError):
                return 0
        return bom + (holder[0].text_bytes if holder else 0)

    def content_format(self, text: str) -> str:
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped[:1] not in ("{", "["):
            return "csv"
        lines = [ln for ln in stripped.splitlines() if ln.strip()]
        first = lines[0].strip() if lines else ""
        try:
            json.loads(first)
            ok_first = True
        except ValueError:
            ok_first = False
        if ok_first and len(lines) >= 2 and lines[1].lstrip()[:1] in ("{", "["):
            try:
                json.loads(lines[1])
                return "jsonl"
            except ValueError:
                # The second line may be cut by the sample's end; one good line is enough
                # when the name says JSON Lines.
                if self.want_format == "jsonl" or len(lines) > 2:
                    return "jsonl"
        if (
            stripped[:1] == "["
            and "," in first[:200]
            and not ok_first
            and self.want_format in ("csv", "tsv")
        ):
            return "csv"
        return "json"

    def encoding_problems(self, guess: E.EncodingGuess, sample: bytes) -> None:
        want = self.exp.encoding if self.exp and self.exp.encoding else None
        name = guess.name
        if want and E.same_encoding(want, name):
            return
        if (
            want
            and guess.ascii_only
            and name == "utf-8"
            and want in ("utf-8", "cp1252", "latin-1", "utf-8-sig")
        ):
            return
        src = f" ({self.exp.source})" if want and self.exp and self.exp.source else ""
        if name == "utf-8-sig":
            if want in (None, "utf-8"):
                self.f.add(
                    "bom",
                    f"{self.name} starts with a UTF-8 byte-order mark (BOM, bytes EF BB BF), as "
                    "Excel's "
                    "'CSV UTF-8' writes. pandas skips it, but csv.DictReader or json.load with "
                    "encoding='utf-8' see it as part of the first name ('\\ufeffid' instead of "
                    "'id'). "
                    "Read with encoding='utf-8-sig', or save without a BOM.",
                    line=1,
                )
                return
        if guess.wide:
            self.f.add(
                "utf16",
                f"{self.name} is {E.label(name)} text"
                + (" without a byte-order mark" if guess.bom_missing else "")
                + (f", but {E.label(want)} was expected{src}" if want else "")
                + ". Most tools read UTF-8 by default and see a NUL byte between every letter. "
                "Save "
                "it as UTF-8, or read it with encoding='utf-16'.",
                line=1,
            )
            return
        if name in ("cp1252", "latin-1"):
            self.f.add(
                "not_utf8",
                f"{self.name} is not UTF-8: it looks like {E.label(name)}"
                + (f" ({guess.evidence})" if guess.evidence else "")
                + (f", but {E.label(want)} was expected{src}" if want else "")
                + ". Readers expecting UTF-8 (pandas, Python's open()) fail with "
                "UnicodeDecodeError. "
                f"Save it as UTF-8, or read it with encoding='{name}'.",
                line=_evidence_line(guess),
            )
            return
        if want and name in ("utf-8", "utf-8-sig"):
            try:
                sample.decode("utf-8")
                text = sample.decode("utf-8", "replace")
                example = next((ch for ch in text if ord(ch) > 127), None)
            except UnicodeDecodeError:
                example = None
            if example is not None:
                shown = (
                    example.encode("utf-8").decode(want, "replace")
                    if want not in ("utf-16", "utf-32")
                    else "?"
                )
                self.f.add(
                    "encoding_mismatch",
                    f"{self.name} is UTF-8 but {E.label(want)} was expected{src}: read as {want}, "
                    f"{example!r} shows up as {shown!r}. Save it as {want}, or change the expected "
                    "encoding to utf-8.",
                    line=1,
                )

    def wrong_format(
        self,
        kind: str,
        *,
        head: bytes | None = None,
        compressed: bool = False,
        detail: str | None = None,
    ) -> None:
        want = self.want_format
        name = self.name
        what = S.NAMES.get(kind, kind)
        named = {
            "csv": "CSV text",
            "tsv": "tab-separated text",
            "json": "a JSON document",
            "jsonl": "JSON Lines",
            "parquet": "a Parquet file",
            "text": "text",
            "xlsx": "an Excel workbook",
            "xls": "an Excel file",
        }.get(want or "", "data")
        if compressed:
            if kind == "zip":
                msg = (
                    f"{name} is named like {named} but it is a zip archive; its content was "
                    "inspected "
                    "(see below). Unzip it first, or name it .zip and read it as an archive."
                )
            else:
                magic = " ".join(f"{b:02X}" for b in (head or b"")[:3])
                tool = {"gzip": "gunzip", "bz2": "bunzip2", "xz": "unxz", "zstd": "zstd -d"}[kind]
                ext = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}[kind]
                msg = (
                    f"{name} is named like {named} but it is {what} (it starts with the bytes "
                    f"{magic}): readers expecting plain text see binary data. Decompress it "
                    f"({tool}), or name it {name}{ext} and read it with compression='{kind}'. Its "
                    "content was inspected below."
                )
            self.f.add("wrong_format", msg)
            return
        if kind == "xlsx":
            msg = (
                f"{name} is an Excel workbook (.xlsx: a zip archive holding xl/workbook.xml), not "
                f"{named}. Export it from Excel with File > Save As > 'CSV UTF-8 (Comma "
                "delimited)', "
                "or read it with pandas.read_excel()."
            )
        elif kind in ("xls", "ole"):
            msg = (
                f"{name} is a legacy Excel/Office file (.xls, OLE2 format), not {named}. Save it "
                "from "
                "Excel as 'CSV UTF-8', or read it with pandas.read_excel()."
            )
        elif kind in ("docx", "pptx", "ods"):
            msg = f"{name} is {what}, not {named}. Export the data as CSV."
        elif kind == "parquet":
            msg = (
                f"{name} is a Parquet file (it starts with 'PAR1'), not {named}. Read it with "
                "pandas.read_parquet(), or export it as CSV."
            )
        elif kind == "html":
            msg = (
                f"{name} is an HTML page{(' ' + detail) if detail else ''}, not {named}: probably "
                "an "
                "error or login page saved instead of the data (a failed download, an expired "
                "link, an authentication redirect). Check the step that downloads it."
            )
        elif kind == "xml" and detail:
            msg = (
                f"{name} is an XML document holding {detail}, not {named}: a storage service's "
                "error message was saved instead of the data. Check the download step's URL and "
                "credentials."
            )
        elif kind == "lfs":
            msg = (
                f"{name} is a Git LFS pointer{(' (' + detail + ')') if detail else ''}: a small "
                "text "
                f"file that stands in for the real data, which was never fetched. Run `git lfs "
                "pull`, or enable LFS in the checkout step."
            )
        elif kind == "binary":
            msg = (
                f"{name} holds binary data, not text: {detail or 'many'} of its first characters "
                "are "
                "control bytes or invalid text. It is a different kind of file, encrypted, or "
                f"corrupt; expected {named}."
            )
        elif kind == "jsonl" and want in ("csv", "tsv"):
            msg = (
                f"{name} is named like {named} but holds JSON Lines (one JSON object per line). "
                "Read it with pandas.read_json(..., lines=True), or rename it to .jsonl."
            )
        elif kind == "json" and want in ("csv", "tsv"):
            msg = (
                f"{name} is named like {named} but holds a JSON document. Read it as JSON, or "
                "export it as CSV."
            )
        elif kind == "jsonl" and want == "json":
            msg = (
                f"{name} is named like a single JSON document but holds JSON Lines (one JSON value "
                "per line): json.load() fails on the second line. Read it with "
                "pandas.read_json(..., lines=True), or rename it to .jsonl."
            )
        elif kind == "json" and want == "jsonl":
            msg = (
                f"{name} is named like JSON Lines but holds one JSON document spread over several "
                "lines, not one complete value per line. Read it with json.load(), or write one "
                "record per line."
            )
        elif kind == "csv":
            msg = f"{name} is named like {named} but holds delimited text (CSV)."
        else:
            msg = f"{name} is {what}, not {named}."
        self.f.add("wrong_format", msg)

    def _expected_lower(self) -> str:
        text = self.expected_words(None, None, None) or "a data file"
        if text[1:2].isupper():  # an acronym such as CSV keeps its case
            return text
        return text[0].lower() + text[1:]

    # ---- formats -----------------------------------------------------------------------------

    def inspect_json(
        self, stream: Any, content: str, progress: Any, holder: list[Any], size: int
    ) -> None:
        r = self.report
        r.format = content
        exp_cols = self.exp.columns if self.exp else None
        exp_types = self.exp.types if self.exp else None
        if content == "jsonl":
            res = json_check.check_jsonl(
                stream,
                findings=self.f,
                budget=self.budget,
                progress=progress,
                expected_columns=exp_cols,
                expected_types=exp_types,
            )
        else:
            res = json_check.check_json(
                stream,
                findings=self.f,
                budget=self.budget,
                progress=progress,
                expected_columns=exp_cols,
                expected_types=exp_types,
            )
        holder.append(res)
        r.header = res.columns
        self.extras.column_types = dict(res.column_types)
        self.extras.records_scanned = res.records
        r.scanned_bytes = progress()
        complete = res.eof and not self.budget.stop_reason
        r.complete = complete
        if res.top in ("array", "wrapper") or content == "jsonl":
            r.row_estimate = (
                res.records if complete else _estimate(res.records, r.scanned_bytes, size)
            )
        if (
            complete
            and content == "json"
            and any(p.code.startswith("json_") for p in self.f.problems)
        ):
            self.note(
                "a JSON document cannot be read past its first syntax error, so checking stopped "
                "there"
            )
        if self.exp and self.exp.columns and res.columns is not None:
            seen = list(dict.fromkeys(list(res.columns) + list(res.column_types)))
            never = [c for c in self.exp.columns if c not in seen]
            if never:
                # A key absent from every record is said once, not once per record.
                kept = [
                    p
                    for p in self.f.problems
                    if not (p.code == "missing_key" and p.column in never)
                ]
                self.f.problems = kept
                left = self.f.counts["missing_key"] - sum(res.missing_counts[c] for c in never)
                shown = sum(1 for p in kept if p.code == "missing_key")
                if left <= 0:
                    self.f.counts.pop("missing_key", None)
                else:
                    self.f.counts["missing_key"] = left
                if left <= shown:
                    self.f.extra_lines.pop("missing_key", None)
            compare_columns(seen, self.exp, self.f, line=None, what="key")

    def inspect_csv(
        self,
        stream: Any,
        sample_text: str,
        enc: str,
        progress: Any,
        holder: list[Any],
        size: int,
        guess: E.EncodingGuess,
    ) -> None:
        r = self.report
        expected = self.exp.delimiter if self.exp and self.exp.delimiter else None
        hinted = {"tsv": "\t", "csv": ","}.get(self.want_format or "")
        cut = max(sample_text.rfind("\n"), sample_text.rfind("\r"))
        dialect = csv_check.detect_dialect(
            sample_text[: cut + 1] if cut > 0 else sample_text, expected=expected, hinted=hinted
        )
        d = dialect.delimiter
        r.delimiter = d
        r.format = "tsv" if d == "\t" else "csv"
        self.delimiter_problems(d, dialect)
        exp_types = self.exp.types if self.exp else {}
        scanner = csv_check.CsvScanner(
            delimiter=d,
            encoding=enc,
            findings=self.f,
            budget=self.budget,
            progress=progress,
            expected_types=exp_types,
            fast=self.fast,
            on_header=self.on_header,
        )
        holder.append(scanner.res)
        chunker = csv_check.Chunker(stream, self.chunk_size)
        res = scanner.run(chunker)
        r.header = None if res.header_is_data and not self.exp else res.header
        if res.header_is_data and not (self.exp and self.exp.columns):
            self.note(
                "the first line looks like data (numbers or dates), not column names: the file "
                "may have no header row"
            )
        self.extras.column_types = dict(res.column_types)
        self.extras.records_scanned = res.records
        self.extras.text_bytes = res.text_bytes
        self.extras.header_is_data = res.header_is_data
        self.extras.line_terminator = (
            "mixed"
            if res.crlf_lines and res.lf_lines
            else "\r\n"
            if res.crlf_lines
            else "\r"
            if res.cr_lines and not res.lf_lines
            else "\n"
        )
        r.scanned_bytes = progress()
        complete = res.eof and not self.budget.stop_reason
        if self.stream is not None and self.stream.stopped:
            complete = False
        r.complete = complete
        r.row_estimate = res.records if complete else _estimate(res.records, r.scanned_bytes, size)
        if res.header is None and res.eof and not self.f.has("whitespace_only"):
            self.f.add(
                "whitespace_only",
                f"{self.name} has no header and no data, only blank lines. Expected "
                + self._expected_lower(),
            )

    def on_header(self, header: list[str], line: int, is_data: bool) -> None:
        exp = self.exp
        csv_check.check_header(header, line, self.f, delimiter=self.report.delimiter or ",")
        if exp and exp.columns:
            matched = sum(1 for c in header if c.strip() in exp.columns)
            if is_data and matched == 0:
                self.f.add(
                    "no_header",
                    f"line {line} looks like data, not a header: none of its values is an expected "
                    "column name. The file seems to have no header row; expected the first line "
                    "to "
                    f"be: {(self.report.delimiter or ',').join(exp.columns)}",
                    line=line,
                    excerpt_text=(self.report.delimiter or ",").join(header),
                )
                return
            # Names with stray spaces or invisible characters already have their own problem;
            # compare the cleaned names so the same mistake is not reported twice.
            clean = ["".join(ch for ch in c if ch not in INVISIBLE).strip() for c in header]
            compare_columns(clean, exp, self.f, line=line)

    def delimiter_problems(self, d: str, dialect: csv_check.Dialect) -> None:
        from postmortem_scribe.inputs.csv_check import delim_name, delim_shown

        want = self.exp.delimiter if self.exp and self.exp.delimiter else None
        src = f" ({self.exp.source})" if want and self.exp and self.exp.source else ""
        if want and want != d and dialect.fields >= 2:
            self.f.add(
                "delimiter",
                f"values are separated by {delim_shown(d)} ({delim_name(d)}s), but "
                f"{delim_shown(want)} "
                f"was expected{src}: a reader splitting on {delim_shown(want)} sees each line as "
                "one "
                f"column. Write the file with {delim_shown(want)}, or read it with sep={d!r}.",
                line=1,
            )
        elif not want and dialect.fields >= 2 and dialect.consistent:
            named = self.want_format
            if named == "csv" and d != ",":
                self.f.add(
                    "delimiter",
                    f"{self.name} is named .csv but its values are separated by {delim_shown(d)} "
                    f"({delim_name(d)}s), not commas: a reader using the default ',' sees each "
                    "line "
                    f"as one column. Read it with sep={d!r}, or write it with commas.",
                    line=1,
                )
            elif named == "tsv" and d != "\t":
                self.f.add(
                    "delimiter",
                    f"{self.name} is named .tsv but its values are separated by {delim_shown(d)} "
                    f"({delim_name(d)}s), not tabs. Read it with sep={d!r}, or write it with tabs.",
                    line=1,
                )


def _evidence_line(guess: E.EncodingGuess) -> int | None:
    if guess.evidence and " on line " in guess.evidence:
        try:
            return int(guess.evidence.split(" on line ", 1)[1].split(" ", 1)[0])
        except ValueError:
            return None
    return None


def _estimate(records: int, scanned: int | None, total: int | None) -> int | None:
    if not records or not scanned or not total:
        return records or None
    return int(records * max(total / scanned, 1.0))


def _problem(code: str, message: str):  # type: ignore[no-untyped-def]
    from postmortem_scribe.records import Problem

    return Problem(message=message, code=code)


__all__ = ["Extras", "add_note", "inspect_path", "inspect_path_extras"]
