"""Turn an adapter's :class:`FailureContext` into a :class:`FailureRecord` (the capture stage).

The pieces (exception chains, traceback text, log excerpts, input inspection) live in
:mod:`postmortem_scribe.capture` and :mod:`postmortem_scribe.inputs`; this module decides what to
use for one failure and keeps going when a piece fails: whatever could not be captured becomes a
plain sentence in ``capture_problems`` rather than an exception.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

from . import capture
from .config import Config
from .records import FailureContext, FailureRecord, InputReport

log = logging.getLogger("postmortem_scribe.capture")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build_record(ctx: FailureContext, config: Config, *, deadline: float | None = None,
                 profiles: object | None = None) -> FailureRecord:
    """Capture everything about one failure within ``deadline`` (a ``time.monotonic()`` value).

    ``profiles`` is a callable ``path -> list[dict]`` giving earlier success profiles of an input
    (the store's), used to say what changed.
    """
    record = FailureRecord(
        pipeline=ctx.pipeline or "unknown-pipeline",
        task=ctx.task,
        orchestrator=ctx.orchestrator,
        occurrence_key=ctx.occurrence_key(),
        run_id=ctx.run_id,
        try_number=ctx.try_number,
        max_tries=ctx.max_tries,
        map_index=None if ctx.map_index in (None, -1) else ctx.map_index,
        state=ctx.state or "failed",
        started_at=ctx.started_at,
        ended_at=ctx.ended_at,
        detected_at=now_iso(),
        detected_by=ctx.detected_by,
        owner=ctx.owner,
        tags=[str(t) for t in ctx.tags],
        run_url=ctx.run_url,
        notes=list(ctx.notes),
        last_success_at=ctx.last_success_at,
        extra={str(k): str(v) for k, v in ctx.extra.items()},
    )
    _capture_exceptions(record, ctx, config)
    _capture_log(record, ctx, config)
    if not record.exceptions and record.log and record.log.lines:
        # Out-of-process watchers only have the log: the traceback may be in it.
        record.exceptions = _safely(
            lambda: capture.exceptions_from_text("\n".join(record.log.lines), app_roots=config.app_roots),
            [], record, "the log's traceback could not be parsed")
    _capture_inputs(record, ctx, config, deadline, profiles)
    record.environment = _safely(capture.environment_versions, {}, record,
                                 "environment versions could not be read")
    return record


def _capture_exceptions(record: FailureRecord, ctx: FailureContext, config: Config) -> None:
    if ctx.exception is not None:
        record.exceptions = _safely(
            lambda: capture.exception_chain(ctx.exception, app_roots=config.app_roots), [], record,
            "the exception could not be read")
        return
    text = (ctx.error_text or "").strip()
    if not text:
        if not ctx.log_path and not ctx.log_lines and not ctx.notes:
            record.capture_problems.append(
                "no exception, error text or log was given; expected a traceback, an error "
                "message or a log file")
        return
    record.exceptions = _safely(
        lambda: capture.exceptions_from_text(text, app_roots=config.app_roots), [], record,
        "the error text could not be parsed")
    if not record.exceptions or not any(e.frames for e in record.exceptions):
        record.error_text = text[-20000:]


def _capture_log(record: FailureRecord, ctx: FailureContext, config: Config) -> None:
    limits = dict(max_bytes=config.log_max_bytes, tail_lines=config.log_tail_lines,
                  context_lines=config.log_context_lines)
    if ctx.log_lines is not None:
        record.log = _safely(lambda: capture.excerpt_from_lines(list(ctx.log_lines), **limits),
                             None, record, "the log lines could not be read")
    elif ctx.log_path:
        record.log = _safely(lambda: capture.excerpt_from_file(ctx.log_path, **limits), None,
                             record, f"the log file {ctx.log_path} could not be read")
    if record.log is not None and record.log.problem:
        record.capture_problems.append(record.log.problem)


def input_path(reference: str) -> str:
    """``file:///data/x.csv`` -> ``/data/x.csv``; other strings unchanged."""
    if reference.startswith("file://"):
        return unquote(urlsplit(reference).path)
    return reference


def _capture_inputs(record: FailureRecord, ctx: FailureContext, config: Config,
                    deadline: float | None, profiles: object | None) -> None:
    refs = list(dict.fromkeys(str(r) for r in ctx.inputs if r))[:10]
    if not refs:
        return
    try:
        from . import inputs
    except ImportError as exc:  # pragma: no cover - the inputs stage ships with the core
        record.capture_problems.append(f"input inspection unavailable ({exc})")
        return
    for ref in refs:
        path = input_path(ref)
        budget = config.input_budget_seconds
        if deadline is not None:
            budget = max(0.2, min(budget, (deadline - time.monotonic()) / 3))
        try:
            expect = inputs.expectation_from_config(config, path)
            earlier = profiles(path) if profiles is not None else []  # type: ignore[operator]
            if expect is None and earlier:
                # No configured shape: the last successful run's input is the expectation.
                expect = inputs.expectation_from_profile(earlier[0])
            report = inputs.inspect_path(path, expect=expect, budget_seconds=budget)
            if earlier and report.exists:
                report.changes = inputs.compare_to_profile(report, earlier[0])
        except Exception as exc:  # noqa: BLE001 - one input must not lose the draft
            log.debug("input inspection failed", exc_info=True)
            report = InputReport(path=path, error=f"could not be inspected ({type(exc).__name__})")
        record.inputs.append(report)


def _safely(fn, default, record: FailureRecord, what: str):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - capture is best effort, the draft is not
        log.debug("capture step failed: %s", what, exc_info=True)
        record.capture_problems.append(f"{what} ({type(exc).__name__})")
        return default


__all__ = ["build_record", "input_path"]
