"""Plain typed records passed between the stages of one failure.

Every stage takes one record and hands one forward; none of them holds a host object (an Airflow
TaskInstance, a Prefect State) past the adapter.  All records except :class:`FailureContext`
(which may carry the live exception) round-trip through JSON via :func:`to_json` /
:func:`from_json`, and the stored form carries :data:`SCHEMA_VERSION` so that a later release can
read what an earlier one wrote.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, Union

SCHEMA_VERSION = 1
"""Version of the serialised :class:`FailureRecord`; bump it when a field changes meaning."""

Orchestrator = Literal["airflow", "prefect", "python", "cli"]
Category = Literal[
    "data_format",
    "data_missing",
    "data_quality",
    "upstream",
    "connectivity",
    "external_service",
    "auth",
    "resources",
    "timeout",
    "infrastructure",
    "config_env",
    "code_bug",
]
CATEGORIES: tuple[str, ...] = typing.get_args(Category)

Action = Literal["opened", "commented", "regression", "queued", "recorded", "duplicate", "failed"]
"""What :func:`postmortem_scribe.report` did with one failure.

- ``opened``: a new incident; its draft was delivered (issue created or file written).
- ``commented``: a repeat of an open incident; a comment was delivered.
- ``regression``: a closed incident came back; a new linked draft was delivered.
- ``queued``: the draft or comment is stored in the outbox and waits for ``scribe flush``.
- ``recorded``: a repeat counted inside the coalescing window; no new message was needed.
- ``duplicate``: this exact occurrence (same run, task and try) was already reported.
- ``failed``: nothing could be stored; ``message`` says why.
"""


# --------------------------------------------------------------------------------------------
# What an adapter hands to the core
# --------------------------------------------------------------------------------------------


@dataclass
class FailureContext:
    """One host failure event, as an adapter saw it.

    This is the only record that may carry a live exception; capture turns it into a
    :class:`FailureRecord` and the exception object goes no further.
    """

    pipeline: str
    """DAG id, flow name, or a name the caller chooses."""
    task: str | None = None
    """Task id or task-run name; ``None`` for a failure of the whole pipeline run."""
    orchestrator: str = "python"
    run_id: str | None = None
    try_number: int | None = None
    max_tries: int | None = None
    map_index: int | None = None
    state: str = "failed"
    """Host state name: ``failed``, ``crashed``, ``timed_out``, ``killed`` ..."""
    started_at: str | None = None
    """ISO 8601 with timezone."""
    ended_at: str | None = None
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    run_url: str | None = None
    exception: BaseException | None = None
    """The live exception, with its ``__traceback__``, when the adapter has it."""
    error_text: str | None = None
    """A traceback or error message as text, when there is no live exception."""
    log_path: str | None = None
    log_lines: list[str] | None = None
    inputs: list[str] = field(default_factory=list)
    """Paths or ``file://`` URIs of the task's input files."""
    secrets: list[str] = field(default_factory=list)
    """Secret values known to the host (connection passwords, tokens) to scrub everywhere."""
    detected_by: str = "api"
    """Which way in noticed the failure: ``listener``, ``notifier``, ``hook``, ``watcher``, ``cli`` ..."""
    notes: list[str] = field(default_factory=list)
    """Evidence the adapter has that is not in the log, e.g. "the task process exited with signal 9"."""
    last_success_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    """Small host facts worth showing (hostname, executor, queue, ...)."""

    def occurrence_key(self) -> str:
        """The identity of this occurrence: the same failure seen twice must give the same key.

        Listener and notifier (or hook and watcher) may both see one failure; the store keeps
        the first report of a key and answers ``duplicate`` to the rest.
        """
        parts = [
            self.orchestrator,
            self.pipeline,
            self.run_id or "",
            self.task or "",
            "" if self.map_index in (None, -1) else str(self.map_index),
            "" if self.try_number is None else str(self.try_number),
        ]
        return "|".join(parts)


# --------------------------------------------------------------------------------------------
# What capture builds
# --------------------------------------------------------------------------------------------


@dataclass
class Frame:
    filename: str
    lineno: int | None
    function: str
    module: str | None = None
    """Dotted module name when known (``pkg.mod``); fingerprints prefer it to the file name."""
    line: str | None = None
    """The source line, stripped."""
    in_app: bool = True
    """False for the standard library, site-packages and the orchestrator's own code."""


@dataclass
class ExceptionInfo:
    type: str
    """Qualified name, e.g. ``pandas.errors.ParserError`` (``builtins.`` dropped)."""
    message: str
    frames: list[Frame] = field(default_factory=list)
    """Outermost call first, as Python prints them."""
    relation: Literal["root", "cause", "context"] = "root"
    """How this exception links to the one after it in the chain: ``cause`` (``raise ... from``)
    or ``context`` (raised while handling it); ``root`` for the last entry, which links to
    nothing."""


@dataclass
class LogExcerpt:
    source: str | None
    """File path, ``lines`` or a URL."""
    lines: list[str] = field(default_factory=list)
    """The excerpt, ANSI-free; a line ``...`` marks a gap."""
    error_lines: list[int] = field(default_factory=list)
    """Indexes into ``lines`` of the lines that matched an error marker."""
    total_bytes: int | None = None
    truncated: bool = False
    problem: str | None = None
    """Why the log could not be read, if it could not."""


@dataclass
class Problem:
    """One thing wrong with an input file, in words a person learns from."""

    message: str
    line: int | None = None
    """Physical line, 1-based."""
    record: int | None = None
    """Data record, 1-based, not counting the header."""
    column: str | None = None
    excerpt: str | None = None
    """A short, scrubbed piece of the offending row."""
    code: str = "problem"
    """Stable machine-readable kind, e.g. ``ragged_row``, ``wrong_format``."""


@dataclass
class InputReport:
    """What inspecting one input file found."""

    path: str
    exists: bool = True
    size_bytes: int | None = None
    format: str | None = None
    """``csv``, ``tsv``, ``json``, ``jsonl``, ``parquet``, ``gzip`` ..."""
    encoding: str | None = None
    compression: str | None = None
    delimiter: str | None = None
    header: list[str] | None = None
    row_estimate: int | None = None
    problems: list[Problem] = field(default_factory=list)
    expected: str | None = None
    """One or two sentences on the expected format, for people."""
    changes: list[str] = field(default_factory=list)
    """What differs from the last successful run's profile of this input."""
    scanned_bytes: int | None = None
    complete: bool = True
    """False when a time or byte budget stopped the scan; the draft says how far it got."""
    error: str | None = None
    """Why no diagnosis could be made, if none could."""
    notes: list[str] = field(default_factory=list)
    """Things a person should know that are not problems: how much was scanned when a budget
    stopped the scan, which archive member was inspected, that pyarrow is needed for a schema."""


@dataclass
class Evidence:
    rule: str
    """Rule id from the classification rules."""
    source: str
    """``exception``, ``log``, ``state`` or ``input``."""
    text: str
    """The matched line, scrubbed."""


@dataclass
class Classification:
    category: str
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    low_confidence: bool = False
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Similar:
    incident: str
    score: float
    title: str | None = None
    url: str | None = None
    status: str | None = None


@dataclass
class Fingerprint:
    key: str
    """Stable grouping key (hex)."""
    basis: str
    """What the key was built from, for people: ``type+frames+message`` or a fallback."""
    signature: list[int] = field(default_factory=list)
    """Similarity signature (e.g. MinHash) for near-repeat search."""
    normalized_message: str = ""


@dataclass
class FailureRecord:
    """Everything known about one failure, scrubbed, serialisable, host-free."""

    pipeline: str
    task: str | None
    orchestrator: str
    occurrence_key: str
    run_id: str | None = None
    try_number: int | None = None
    max_tries: int | None = None
    map_index: int | None = None
    state: str = "failed"
    started_at: str | None = None
    ended_at: str | None = None
    detected_at: str | None = None
    detected_by: str = "api"
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    run_url: str | None = None
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    """The chain, root cause first as Python prints it; the last one is what was raised."""
    error_text: str | None = None
    """The raw error text when no traceback could be parsed from it."""
    log: LogExcerpt | None = None
    inputs: list[InputReport] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    last_success_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    capture_problems: list[str] = field(default_factory=list)
    """What capture could not do (unreadable log, missing input ...), said plainly."""
    classification: Classification | None = None
    fingerprint: Fingerprint | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def final_exception(self) -> ExceptionInfo | None:
        return self.exceptions[-1] if self.exceptions else None


# --------------------------------------------------------------------------------------------
# Decisions and results
# --------------------------------------------------------------------------------------------


@dataclass
class Route:
    lead: str | None
    stakeholders: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    rule: str | None = None
    """Name of the routing rule that matched, or ``default``."""


@dataclass
class Correlation:
    kind: Literal["new", "repeat", "regression", "duplicate"]
    incident: str
    """Public key of the incident this occurrence belongs to."""
    occurrences: int = 1
    previous_incident: str | None = None
    """For a regression: the closed incident that came back."""
    previous_issue_url: str | None = None
    similar: list[Similar] = field(default_factory=list)
    first_seen: str | None = None
    storm: bool = False
    """True when this occurrence joined the incident through a shared cause (a storm), not
    through an identical fingerprint."""
    flaky: bool = False
    """True when the task alternates between failing and passing."""


@dataclass
class Draft:
    title: str
    body: str
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What :func:`postmortem_scribe.report` did; never an exception."""

    action: str
    incident: str | None = None
    issue_url: str | None = None
    path: str | None = None
    category: str | None = None
    fingerprint: str | None = None
    message: str = ""

    def __bool__(self) -> bool:
        return self.action != "failed"


# --------------------------------------------------------------------------------------------
# JSON round-trip
# --------------------------------------------------------------------------------------------

T = TypeVar("T")


def to_dict(record: Any) -> Any:
    """Dataclass → plain JSON types.  Live exceptions are not serialisable and are dropped."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        out = {}
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            if isinstance(value, BaseException):
                continue
            out[f.name] = to_dict(value)
        return out
    if isinstance(record, (list, tuple)):
        return [to_dict(v) for v in record]
    if isinstance(record, dict):
        return {str(k): to_dict(v) for k, v in record.items()}
    return record


def to_json(record: Any) -> str:
    return json.dumps(to_dict(record), ensure_ascii=False, sort_keys=True)


def from_dict(cls: type[T], data: Any) -> T:
    """Plain JSON types → dataclass ``cls``; unknown keys are ignored, missing ones defaulted."""
    return typing.cast(T, _build(cls, data))


def from_json(cls: type[T], text: str) -> T:
    return from_dict(cls, json.loads(text))


def _build(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(args[0], data) if len(args) == 1 else data
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return [_build(item, v) for v in data]
    if origin is tuple:
        args = typing.get_args(tp)
        return tuple(_build(a, v) for a, v in zip(args, data))
    if origin is dict:
        _, val = typing.get_args(tp) or (Any, Any)
        return {k: _build(val, v) for k, v in data.items()}
    if dataclasses.is_dataclass(tp) and isinstance(data, dict):
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data and f.init:
                kwargs[f.name] = _build(hints[f.name], data[f.name])
        return tp(**kwargs)
    return data
