"""``scribe inspect`` and ``scribe profile``: the same checks a failure's capture runs, on demand,
for a file someone is about to upload.

Exit statuses of ``scribe inspect``: 0 no problems, 1 problems found, 2 bad usage or a file that
cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from postmortem_scribe.inputs.core import inspect_path
from postmortem_scribe.inputs.expected import (
    Expectation,
    expectation_from_cli,
    expectation_from_schema_file,
)
from postmortem_scribe.inputs.profile import profile_path
from postmortem_scribe.inputs.report_text import format_report_text, report_to_dict

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors by exception instead of exiting the process, and
    prints --help to the given stream."""

    out: TextIO | None = None

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)

    def print_help(self, file: TextIO | None = None) -> None:  # type: ignore[override]
        super().print_help(file or self.out)


class _UsageError(Exception):
    pass


def _inspect_parser(prog: str) -> _Parser:
    p = _Parser(
        prog=prog,
        description=(
            "Check an input file (CSV, TSV, JSON, JSON Lines, Parquet, possibly compressed) and\n"
            "say exactly what is wrong with it and what was expected: the line, record and\n"
            "column of each problem, in plain words, with a short excerpt."
        ),
        epilog=(
            "Exit status: 0 no problems found, 1 problems found, 2 bad usage or unreadable file.\n"
            "Examples:\n"
            "  %(prog)s orders.csv\n"
            "  %(prog)s orders.csv --expect-columns order_id:integer,customer,amount:number\n"
            "  %(prog)s orders.csv --schema orders.schema.json --json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="the file to inspect (a path or a file:// URI)")
    p.add_argument(
        "--expect-columns",
        metavar="A,B,C",
        help="expected column names in order; NAME:TYPE sets a type "
        "(integer, number, boolean, date, datetime, string)",
    )
    p.add_argument("--expect-types", metavar="A:TYPE,...", help="expected types of some columns")
    p.add_argument("--delimiter", metavar="CHAR", help="expected delimiter (',', ';', 'tab', '|')")
    p.add_argument("--encoding", metavar="NAME", help="expected encoding (utf-8, cp1252, ...)")
    p.add_argument(
        "--schema",
        metavar="FILE",
        help='a JSON schema file: {"columns": [...], "types": {...}, "delimiter": ","}, '
        'or a Frictionless Table Schema {"fields": [{"name", "type"}]}',
    )
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    p.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds and say how much was scanned (default: no limit)",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        metavar="N",
        help="stop after reading N bytes of the file (default: no limit)",
    )
    return p


def cli_inspect(
    argv: list[str],
    *,
    prog: str = "scribe inspect",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``scribe inspect PATH [--expect-columns a,b,c] [--schema FILE] [--json]``; returns the
    exit status (0 no problems, 1 problems, 2 bad usage or unreadable).  Never raises."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _cli_inspect(argv, prog, out, err)
    except Exception as exc:  # the CLI reports, it does not crash
        err.write(f"{prog}: error: {type(exc).__name__}: {exc}\n")
        return EXIT_USAGE


def _cli_inspect(argv: list[str], prog: str, out: TextIO, err: TextIO) -> int:
    parser = _inspect_parser(prog)
    parser.out = out
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        parser.print_usage(err)
        err.write(f"{prog}: error: {exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    if args.budget is not None and args.budget <= 0:
        err.write(f"{prog}: error: --budget must be a positive number of seconds\n")
        return EXIT_USAGE
    if args.max_bytes is not None and args.max_bytes <= 0:
        err.write(f"{prog}: error: --max-bytes must be a positive number of bytes\n")
        return EXIT_USAGE
    exp: Expectation | None = None
    if args.expect_columns or args.expect_types or args.delimiter or args.encoding:
        exp = expectation_from_cli(
            args.expect_columns, args.expect_types, args.delimiter, args.encoding
        )
        if exp.problems:
            for p in exp.problems:
                err.write(f"{prog}: error: {p}\n")
            return EXIT_USAGE
    if args.schema:
        schema = expectation_from_schema_file(args.schema)
        if schema.problems and schema.is_empty():
            for p in schema.problems:
                err.write(f"{prog}: error: {p}\n")
            return EXIT_USAGE
        for p in schema.problems:
            err.write(f"{prog}: warning: {p}\n")
        exp = exp.merged_with(schema) if exp else schema
    report = inspect_path(
        args.path, expect=exp, budget_seconds=args.budget, max_bytes=args.max_bytes
    )
    if args.json:
        out.write(json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(format_report_text(report))
    if not report.exists or (report.error and not report.problems):
        return EXIT_USAGE
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def cli_profile(
    argv: list[str],
    *,
    prog: str = "scribe profile",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``scribe profile PATH [--json]``: print a cheap profile of a file that works (the lead
    stores it as the baseline for later failures).  Returns 0, or 2 for bad usage / unreadable.
    Never raises."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _cli_profile(argv, prog, out, err)
    except Exception as exc:
        err.write(f"{prog}: error: {type(exc).__name__}: {exc}\n")
        return EXIT_USAGE


def _cli_profile(argv: list[str], prog: str, out: TextIO, err: TextIO) -> int:
    parser = _Parser(
        prog=prog,
        description=(
            "Profile an input file that works: size, format, encoding, delimiter, header, column "
            "types from a sample and a row estimate. Later failures are compared with it."
        ),
        epilog="Exit status: 0 profiled, 2 bad usage or unreadable file.",
    )
    parser.out = out
    parser.add_argument("path", help="the file to profile (a path or a file:// URI)")
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.add_argument(
        "--no-store",
        action="store_true",
        help="only print the profile; do not store it as the baseline for later failures",
    )
    parser.add_argument(
        "--budget", type=float, metavar="SECONDS", help="time limit (default: none)"
    )
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        parser.print_usage(err)
        err.write(f"{prog}: error: {exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    prof = profile_path(args.path, budget_seconds=args.budget)
    if args.json:
        out.write(json.dumps(prof, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(format_profile_text(prof))
    if not prof.get("exists", True) or prof.get("error"):
        return EXIT_USAGE
    return EXIT_OK


def format_profile_text(prof: dict) -> str:  # type: ignore[type-arg]
    """The profile as ``key: value`` lines."""
    lines = [str(prof.get("path"))]
    if prof.get("error"):
        lines.append(f"  could not be profiled: {prof['error']}")
    for key in ("size_bytes", "format", "compression", "encoding", "delimiter", "row_estimate"):
        value = prof.get(key)
        if value is None:
            continue
        if key == "delimiter":
            value = "tab" if value == "\t" else repr(value)
        if key == "row_estimate" and not prof.get("row_estimate_exact"):
            value = f"about {value:,}" if isinstance(value, int) else value
        lines.append(f"  {key}: {value}")
    types = prof.get("column_types") or {}
    header = prof.get("header") or list(types)
    if header:
        lines.append("  columns:")
        for name in header:
            lines.append(f"    {name}: {types.get(name, 'unknown')}")
    return "\n".join(lines) + "\n"
