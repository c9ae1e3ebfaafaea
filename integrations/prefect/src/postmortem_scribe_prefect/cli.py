"""``scribe-prefect``: the adapter's command line (the watcher, and a configuration check)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from . import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scribe-prefect",
        description="postmortem-scribe for Prefect: drafts post-mortems of failed runs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    w = sub.add_parser(
        "watch",
        help="follow the Prefect API's events and draft failures no hook reported",
        description=(
            "Follow prefect.flow-run.Failed/Crashed and prefect.task-run.Failed events of the "
            "Prefect API named by PREFECT_API_URL and draft the failures that no in-process hook "
            "reported (killed processes, crashed infrastructure, flows without hooks). Shares "
            "the incident store (SCRIBE_STORE_URL) with the hooks, so nothing is drafted twice."
        ),
    )
    w.add_argument("--grace", type=float, default=10.0, metavar="SECONDS",
                   help="wait after an event for hooks and the last log batch (default 10)")
    w.add_argument("--settle", type=float, default=6.0, metavar="SECONDS",
                   help="then wait up to this long for the run's logs to stop growing (default 6)")
    w.add_argument("--catch-up", type=float, default=600.0, metavar="SECONDS",
                   help="on start, also look at runs that failed this long ago (default 600)")
    w.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                   help="stop listening after this long, finish what was received, and exit")
    w.add_argument("--flow", action="append", default=[], metavar="NAME",
                   help="watch only this flow (a name or glob such as 'nightly-*'); repeatable")
    w.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    c = sub.add_parser("check", help="show what the adapter would use: API, store, token source")
    c.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def _check() -> int:
    from prefect.settings import PREFECT_API_URL

    from ._report import load_core_config, load_settings, token_from_block

    config = load_core_config()
    settings = load_settings()
    api = PREFECT_API_URL.value()
    none = "(none: flows start a temporary server; the watcher needs one)"
    print(f"Prefect API:       {api or none}")
    default_store = "(default SQLite file in the user data directory)"
    print(f"incident store:    {config.store_url or default_store}")
    local = f"local Markdown files in {config.output_dir}"
    print(f"publishing to:     {config.github_repo or local}")
    token_source = "SCRIBE_GITHUB_TOKEN / config" if config.github_token else None
    if not token_source and settings.secret_block and api:
        token, problem = asyncio.run(token_from_block(settings.secret_block))
        if problem:
            print(f"token:             {problem}")
        token_source = f"Prefect Secret block {settings.secret_block!r}" if token else None
    print(f"token:             {token_source or 'none found'}")
    print(f"hook timeout:      {settings.timeout_for(config):g} s")
    for problem in [*config.problems, *settings.problems]:
        print(f"problem:           {problem}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scribe-prefect`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request would bury what the watcher decided.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if args.command == "check":
        return _check()

    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print("scribe-prefect watch: PREFECT_API_URL is not set; set it to your Prefect "
              "server's API, e.g. http://127.0.0.1:4200/api", file=sys.stderr)
        return 2
    from .watcher import Watcher

    watcher = Watcher(grace_seconds=args.grace, settle_seconds=args.settle,
                      catch_up_seconds=args.catch_up, exit_after=args.exit_after,
                      flows=args.flow)
    try:
        stats = asyncio.run(watcher.run())
    except KeyboardInterrupt:
        stats = watcher.stats
    print(f"scribe-prefect watch: {stats.events} events, {stats.drafted} drafted, "
          f"{stats.skipped} already reported or resolved, {stats.replayed_or_repeated} "
          f"replayed, {stats.errors} errors, {stats.connections} connections", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
