"""The ``scribe`` command line: report failures from shell pipelines and cron jobs, look at
incidents, deliver what waits, and check the set-up.

Exit statuses: 0 success, 1 the command ran but found a problem (a failed report, problems in an
inspected file, a failing doctor check), 2 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .. import __version__
from ..config import Config, load_config

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the person at the terminal; printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # inspect/profile have their own parsers (owned by the inputs stage), passed through as-is.
    if argv and argv[0] in ("inspect", "profile"):
        return _inputs_command(argv[0], argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"scribe {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scribe",
        description="Blameless post-mortem drafts for failed pipeline tasks.",
        epilog="Configuration: SCRIBE_CONFIG (TOML), SCRIBE_GITHUB_REPO, SCRIBE_GITHUB_TOKEN, "
        "SCRIBE_GITHUB_API_URL, SCRIBE_STORE_URL, SCRIBE_OUTPUT_DIR, SCRIBE_LEAD.",
    )
    parser.add_argument("--version", action="version", version=f"postmortem-scribe {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (default: $SCRIBE_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("report", help="report a failure from a traceback or error text",
                       description="Report one failure from text, e.g. from a cron job: "
                       "`python etl.py 2> err.txt || scribe report --text-file err.txt --pipeline etl`.")
    p.add_argument("--text-file", required=True, metavar="F",
                   help="file with the traceback or error message; '-' reads standard input")
    p.add_argument("--pipeline", required=True, help="pipeline name (DAG id, flow, job)")
    p.add_argument("--task", help="task name")
    p.add_argument("--run-id", help="run identifier; the same run/task/try is reported once")
    p.add_argument("--try", dest="try_number", type=int, metavar="N", help="try number")
    p.add_argument("--max-tries", type=int, metavar="N")
    p.add_argument("--log-file", metavar="L", help="the task's log file (read from its end)")
    p.add_argument("--input", action="append", default=[], metavar="PATH",
                   help="an input file of the task (repeatable); it is inspected for problems")
    p.add_argument("--owner")
    p.add_argument("--tag", action="append", default=[])
    p.add_argument("--run-url", metavar="URL")
    p.add_argument("--state", default="failed", help="failed, crashed, timed_out, killed ...")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("classify", help="classify a traceback or log excerpt",
                       description="Print the category, confidence, evidence and fingerprint of "
                       "a failure given as text, or classify many with --jsonl.")
    p.add_argument("path", nargs="?", default="-", help="text file, or '-' for standard input")
    p.add_argument("--jsonl", metavar="F",
                   help='read lines {"id","text"} and write {"id","category","confidence","fingerprint"}')
    p.add_argument("--json", action="store_true", help="print the single result as JSON")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("group", help="group failures into incidents with the repeat logic",
                       description='Run the repeat logic in order over lines {"id","text"} with a '
                       'throwaway store and write lines {"id","incident"}.')
    p.add_argument("--jsonl", required=True, metavar="F", help="input JSON lines ('-' for stdin)")
    p.set_defaults(func=cmd_group)

    sub.add_parser("inspect", help="diagnose an input file (see `scribe inspect --help`)")
    sub.add_parser("profile", help="record the shape of a good input file (see `scribe profile --help`)")

    p = sub.add_parser("incidents", help="list incidents")
    p.add_argument("--status", choices=["open", "closed"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_incidents)

    p = sub.add_parser("show", help="show one incident, its occurrences and its draft")
    p.add_argument("incident", help="incident key (a unique prefix is enough)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("flush", help="deliver drafts and comments waiting in the outbox")
    p.add_argument("--all", action="store_true",
                   help="also send grouped comments whose window has not ended yet")
    p.add_argument("--retry-failed", action="store_true",
                   help="retry messages that were refused for good (after fixing the cause)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop after S seconds (default: until nothing is due)")
    p.set_defaults(func=cmd_flush)

    p = sub.add_parser("close", help="mark an incident closed (for local drafts; GitHub uses sync)")
    p.add_argument("incident")
    p.set_defaults(func=cmd_close)

    p = sub.add_parser("sync", help="read the state of our GitHub issues into the store")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("doctor", help="check the configuration, store, templates and GitHub access")
    p.add_argument("--create-labels", action="store_true",
                   help="create our labels in the repository when they are missing")
    p.set_defaults(func=cmd_doctor)
    return parser


# ------------------------------------------------------------------------------------ helpers


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else load_config()
    for problem in config.problems:
        print(f"scribe: config: {problem}", file=sys.stderr)
    return config


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _open_lines(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _json_lines(path: str) -> Any:
    with _open_lines(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}: line {n} is not JSON ({exc.msg}); expected "
                                 '{"id": ..., "text": ...}') from None
            if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("text"), str):
                raise UsageError(f'{path}: line {n} should be an object with "id" and "text" (a string)')
            yield item


def _store(config: Config) -> Any:
    from ..store import open_store

    try:
        return open_store(config.store_url)
    except Exception as exc:  # noqa: BLE001 - turned into a message for people
        raise UsageError(f"cannot open the store ({exc}); check SCRIBE_STORE_URL") from None


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


# ------------------------------------------------------------------------------------ commands


def cmd_report(args: argparse.Namespace) -> int:
    from ..api import report

    text = _read_text(args.text_file)
    if not text.strip() and not args.log_file:
        print("scribe report: warning: the error text is empty; the draft will rely on the log "
              "and inputs only", file=sys.stderr)
    config = _config(args)
    outcome = report(
        text, pipeline=args.pipeline, task=args.task, run_id=args.run_id,
        orchestrator="cli", try_number=args.try_number, max_tries=args.max_tries,
        log_file=args.log_file, inputs=args.input, owner=args.owner, tags=args.tag,
        run_url=args.run_url, state=args.state, detected_by="cli", config=config,
    )
    if args.json:
        from ..records import to_dict

        _print_json(to_dict(outcome))
    else:
        print(f"{outcome.action}: {outcome.message}")
        if outcome.category:
            print(f"category: {outcome.category}")
    return EXIT_OK if outcome else EXIT_PROBLEM


def _classify_text(text: str, config: Config, **identity: Any) -> Any:
    from ..pipeline import process
    from ..records import FailureContext

    # The text is also the "log": lines around a traceback (an orchestrator's final state line)
    # are evidence the classifier needs, as the log excerpt gives it in a real report.
    ctx = FailureContext(pipeline=identity.get("pipeline") or "unknown", task=identity.get("task"),
                         orchestrator="cli", error_text=text, log_lines=text.splitlines(),
                         detected_by="cli")
    return process(ctx, config).record


def cmd_classify(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.jsonl:
        for item in _json_lines(args.jsonl):
            record = _classify_text(item["text"], config, **_identity(item))
            cls, fp = record.classification, record.fingerprint
            print(json.dumps({"id": item["id"], "category": cls.category,
                              "confidence": round(cls.confidence, 3),
                              "low_confidence": cls.low_confidence, "fingerprint": fp.key}))
        return EXIT_OK
    text = _read_text(args.path)
    if not text.strip():
        raise UsageError("no text to classify; give a file with a traceback or log excerpt, or pipe one in")
    record = _classify_text(text, config)
    cls, fp = record.classification, record.fingerprint
    if args.json:
        from ..records import to_dict

        _print_json({"category": cls.category, "confidence": cls.confidence,
                     "low_confidence": cls.low_confidence, "evidence": to_dict(cls.evidence),
                     "fingerprint": fp.key, "basis": fp.basis})
        return EXIT_OK
    print(f"category:    {cls.category}{'  (low confidence: a guess)' if cls.low_confidence else ''}")
    print(f"confidence:  {cls.confidence:.2f}")
    for ev in cls.evidence[:5]:
        print(f"evidence:    rule {ev.rule} in {ev.source}: {ev.text[:160]}")
    print(f"fingerprint: {fp.key}  ({fp.basis})")
    return EXIT_OK


def _identity(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("pipeline", "task") if isinstance(item.get(k), str)}


def cmd_group(args: argparse.Namespace) -> int:
    from ..fingerprint import bands as lsh_bands
    from ..store import Store

    config = _config(args)
    with tempfile.TemporaryDirectory(prefix="scribe-group-") as tmp:
        store = Store(f"sqlite:///{os.path.join(tmp, 'group.sqlite')}")
        try:
            for n, item in enumerate(_json_lines(args.jsonl)):
                record = _classify_text(item["text"], config, **_identity(item))
                record.occurrence_key = f"group|{n}|{item['id']}"
                record.run_id = str(item["id"])
                fp = record.fingerprint
                result = store.record_occurrence(
                    record, render=lambda c, i: [], render_digest=lambda i, e: "",
                    bands=lsh_bands(fp.signature) if fp.signature else [],
                    comment_window_seconds=0)
                print(json.dumps({"id": item["id"], "incident": result.correlation.incident}))
        finally:
            store.dispose()
    return EXIT_OK


def _inputs_command(name: str, argv: list[str]) -> int:
    from .. import inputs

    if name == "inspect":
        return inputs.cli_inspect(argv)
    code = inputs.cli_profile(argv)
    # Remember the profile so that a later failure can say what changed.
    paths = [a for a in argv if not a.startswith("-")]
    if code == 0 and paths and "--no-store" not in argv:
        from ..api import report_profile

        report_profile(paths[0])
    return code


def cmd_incidents(args: argparse.Namespace) -> int:
    store = _store(_config(args))
    rows = store.incidents(status=args.status, limit=args.limit)
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return EXIT_OK
    if not rows:
        print("no incidents recorded yet")
        return EXIT_OK
    header = ("INCIDENT", "CATEGORY", "COUNT", "FIRST SEEN", "LAST SEEN", "STATUS", "ISSUE")
    table = [header] + [
        (r.key, r.category or "-", str(r.occurrences), r.first_seen[:19], r.last_seen[:19],
         r.status + (" (flaky)" if r.flaky else ""), r.issue_url or "(waiting in outbox)")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(_config(args))
    incident = store.incident(args.incident)
    if incident is None:
        raise UsageError(f"no incident {args.incident!r}; `scribe incidents` lists them")
    occurrences = store.incident_occurrences(incident.key)
    messages = store.outbox_messages(incident=incident.key)
    if args.json:
        _print_json({"incident": incident.__dict__, "occurrences": occurrences,
                     "outbox": [{k: m[k] for k in ("id", "kind", "status", "attempts",
                                                    "last_error", "result_url")} for m in messages]})
        return EXIT_OK
    print(f"incident    {incident.key}  ({incident.status}{', flaky' if incident.flaky else ''})")
    print(f"title       {incident.title}")
    print(f"category    {incident.category}")
    print(f"pipeline    {incident.pipeline} -> {incident.task or '-'}")
    print(f"lead        {incident.lead or '(none)'}")
    print(f"seen        {incident.occurrences} times, first {incident.first_seen}, last {incident.last_seen}")
    print(f"issue       {incident.issue_url or '(not delivered yet)'}")
    if incident.previous_key:
        print(f"regression  of {incident.previous_key}")
    print(f"fingerprint {incident.fingerprint}")
    print("\noccurrences (newest first):")
    for occ in occurrences[:20]:
        print(f"  {occ['occurred_at']}  run {occ['run_id'] or '-'}  task {occ['task'] or '-'}  try {occ['try_number'] or '-'}")
    print("\noutbox:")
    for m in messages:
        err = f"  last error: {m['last_error']}" if m["last_error"] else ""
        print(f"  #{m['id']} {m['kind']:<8} {m['status']:<8} attempts {m['attempts']}{err}")
    draft = next((m for m in messages if m["kind"] == "open"), None)
    if draft:
        print(f"\n--- draft: {draft['title']}\n")
        print(draft["body"])
    return EXIT_OK


def cmd_flush(args: argparse.Namespace) -> int:
    from ..api import flush

    config = _config(args)
    store = _store(config)
    if args.retry_failed:
        print(f"requeued {store.requeue_failed()} refused message(s)")
    if args.all:
        store.make_all_due()
    deadline = time.monotonic() + args.timeout if args.timeout else None
    result = flush(config=config, deadline=deadline)
    counts = store.outbox_counts()
    print(f"delivered {result.sent}, retrying later {result.retrying}, failed {result.failed}; "
          f"waiting in the outbox: {counts.get('pending', 0)}")
    for error in dict.fromkeys(result.errors):
        print(f"  {error}")
    for note in dict.fromkeys(result.notes):
        print(f"  note: {note}")
    return EXIT_OK if not result.errors else EXIT_PROBLEM


def cmd_close(args: argparse.Namespace) -> int:
    store = _store(_config(args))
    incident = store.incident(args.incident)
    if incident is None:
        raise UsageError(f"no incident {args.incident!r}; `scribe incidents` lists them")
    store.set_status(incident.key, "closed")
    print(f"closed {incident.key}; if it fails again it will be reported as a regression")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    config = _config(args)
    if not config.github_repo:
        print("no GitHub repository configured (SCRIBE_GITHUB_REPO); local drafts are closed "
              "with `scribe close ID`")
        return EXIT_OK
    from ..publish.github.sync import sync

    result = sync(_store(config), config)
    print(result.summary() if hasattr(result, "summary") else result)
    return EXIT_OK if not getattr(result, "errors", None) else EXIT_PROBLEM


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(_config(args), create_labels=args.create_labels)
