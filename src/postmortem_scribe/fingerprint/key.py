"""The grouping key of a failure, and its similarity signature.

Which evidence goes into the key (``Fingerprint.basis``), from best to weakest:

``type+frames+message``
    The exception chain has in-app frames.  Key = every exception type in the chain (its last
    dotted part: IPython and some loggers print bare class names), the in-app frames of each
    (file stem + function, see :func:`app_token`; no line numbers, no directories) and each
    normalised message.  Line numbers move with every edit and directories differ between hosts
    and virtualenvs, so neither is used; the file's stem is used rather than the module because
    DAG folders are mounted at different places and Airflow imports a DAG file under a module
    name made from a hash of its path.  Comprehension frames are dropped (Python 3.12
    inlined them) and recursion is collapsed, so a Python upgrade does not split a group.

``type+library-frames+message+task``
    Frames exist but none is in-app (the failure happened wholly inside a library or the
    orchestrator, or capture could not tell).  Key = types, the innermost
    :data:`LIBRARY_FRAMES` frames of each exception, the messages, and the pipeline and task.
    All library frames would make the key depend on how deep the caller was; none would
    over-group every ``KeyError`` raised anywhere in pandas.  Library frames say where the
    library failed, not whose data or call made it fail, so two pipelines hitting the same
    library error are kept apart (over-grouping when no frame is in-app is the grouping mistake
    Sentry's users complain of most); repeats within one task still group.

``type+message+task``
    Exceptions without frames (a state message such as "ValueError: bad row", or a traceback
    too mangled to parse).  A type and a message alone are weak evidence that two pipelines hit
    the same bug, so the pipeline and task are part of the key: over-grouping hides a problem,
    under-grouping costs one extra issue.

``log+state+task``
    No exception at all: the process was killed (OOM, SIGKILL, eviction), timed out, or only a
    log is known.  Key = state, the normalised last error lines of the log / error text / notes,
    and the pipeline and task.  Two pipelines killed by the OOM killer are two incidents
    (different data, different memory needs, often different owners); a *storm* of them with one
    cause is joined by correlation, not by pretending they are one fingerprint.

``state+task``
    Nothing but the state: one key per pipeline, task and state.

The key is the first 32 hex digits of a SHA-256 over a versioned, newline-joined description;
the description never contains line numbers, paths, timestamps or host names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from ..records import ExceptionInfo, FailureRecord, Fingerprint, Frame
from .normalize import normalize_message
from .similarity import minhash, shingles

__all__ = [
    "KEY_VERSION",
    "LIBRARY_FRAMES",
    "error_lines",
    "fingerprint",
    "app_token",
    "frame_module",
    "frame_token",
]

KEY_VERSION = "fp1"
"""Part of every hashed description; bump it when the recipe changes on purpose."""
LIBRARY_FRAMES = 4
"""Innermost library frames used when no frame is in-app."""
ERROR_LINES = 3
"""Last distinct error lines used when there is no exception."""
MESSAGE_CHARS = 400
"""Normalised message characters used in the key: the head says what went wrong, the tail of a
long message is usually data (a query, a row, a remote stack)."""

_SKIP_FUNCS = {"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<lambda>"}
_PKG_DIR = re.compile(r".*/(?:site-packages|dist-packages)/")
_ZIP_DIR = re.compile(r".*?\.(?:zip|egg|whl)/")
_STDLIB_DIR = re.compile(r".*/lib(?:64)?/python\d+(?:\.\d+)?/")

# Leading decoration of a log line: timestamps, levels, logger/file markers, pids.
_LOG_PREFIX = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,80}\]|\{[^}]{0,80}\}|<ts>|<num>|\d[\d\-:T.,+Z ]{6,}|"
    r"(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b|[\w.]+:\d+|-|\||:)\s*)+",
    re.IGNORECASE,
)
_ERROR_MARK = re.compile(
    r"error|exception|fatal|critical|fail|killed|sigkill|sigterm|signal|oom|timed? ?out|"
    r"exit(?:ed)? (?:with )?(?:code|status|return code)|return code|traceback|refused|denied|"
    r"zombie|evict|panic",
    re.IGNORECASE,
)


def frame_module(frame: Frame) -> str:
    """A host-independent name for the frame's module.

    ``frame.module`` when capture knew it; otherwise derived from the file name: the dotted path
    below ``site-packages`` (or a ``.zip``, or the standard library directory), else the file's
    stem.  Never a directory that differs between machines.
    """
    if frame.module:
        return frame.module
    name = (frame.filename or "").replace("\\", "/")
    if name.startswith("<"):
        return name
    for pattern in (_PKG_DIR, _ZIP_DIR, _STDLIB_DIR):
        m = pattern.match(name)
        if m:
            rest = name[m.end():]
            break
    else:
        rest = name.rsplit("/", 1)[-1]
    if rest.endswith(".py"):
        rest = rest[:-3]
    parts = [p for p in rest.split("/") if p]
    if parts and parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts) or name


def frame_token(frame: Frame) -> str:
    """``module:function`` for one frame; the function's last dotted part only, because live
    tracebacks on Python 3.11+ may give a qualified name where a printed one gives the bare name."""
    function = (frame.function or "?").rsplit(".", 1)[-1]
    return f"{frame_module(frame)}:{function}"


_AIRFLOW_DAG_MODULE = re.compile(r"^unusual_prefix_[0-9a-f]+_")


def app_token(frame: Frame) -> str:
    """``stem:function`` for an in-app frame, the same from a live frame and from text.

    A live frame knows its module (``mypkg.tasks`` or, for a DAG file Airflow imported,
    ``unusual_prefix_<sha1 of the path>_etl``) while a printed traceback only has the file name;
    the file's stem is what both agree on, and it does not change with the checkout directory.
    """
    name = (frame.filename or "").replace("\\", "/")
    stem = name.rsplit("/", 1)[-1]
    if stem.endswith(".py"):
        stem = stem[:-3]
        if stem == "__init__" and "/" in name:
            stem = name.rsplit("/", 2)[-2]
    elif frame.module:
        stem = _AIRFLOW_DAG_MODULE.sub("", frame.module).rsplit(".", 1)[-1]
    function = (frame.function or "?").rsplit(".", 1)[-1]
    return f"{stem or '?'}:{function}"


def _frames(frames: Iterable[Frame], *, app: bool = False) -> list[str]:
    out: list[str] = []
    for frame in frames:
        if frame is None or (frame.function or "") in _SKIP_FUNCS:
            continue
        # "<stdin>", "<string>", "<ipython-input-3-...>", "<frozen importlib._bootstrap>": no
        # file to tell one piece of code from another, so "<stdin>:<module>" would make every
        # interactive failure of a type look like the same code.
        if (frame.filename or "").startswith("<") and not frame.module:
            continue
        token = app_token(frame) if app else frame_token(frame)
        if out and out[-1] == token:  # recursion depth varies between runs
            continue
        out.append(token)
    return out


def _type(exc: ExceptionInfo) -> str:
    name = (exc.type or "").strip()
    if name.startswith("builtins."):
        name = name[len("builtins."):]
    return name or "?"


def _type_key(exc: ExceptionInfo) -> str:
    # The class's own name: a live exception gives "google.api_core.exceptions.Forbidden",
    # Jupyter prints "Forbidden", a log line may print either.
    return _type(exc).rsplit(".", 1)[-1]


def _message(exc: ExceptionInfo) -> str:
    return normalize_message(exc.message or "")[:MESSAGE_CHARS]


def _strip_log_prefix(line: str) -> str:
    return _LOG_PREFIX.sub("", line).strip()


def error_lines(record: FailureRecord, *, limit: int = ERROR_LINES) -> list[str]:
    """The last ``limit`` distinct normalised error lines of the error text, log and notes.

    Log decoration (timestamps, levels, ``{file.py:123}``) is stripped so that the same event
    logged at another time or by another Airflow version gives the same line.
    """
    candidates: list[str] = []
    if record.error_text:
        candidates.extend(record.error_text.splitlines())
    log = record.log
    if log is not None and log.lines:
        picked = [log.lines[i] for i in log.error_lines if 0 <= i < len(log.lines)]
        candidates.extend(picked or log.lines)
    marked = [c for c in candidates if _ERROR_MARK.search(c)]
    if not marked and record.error_text:
        # An error text is an error even without a marker word ("Process exited: -9").
        marked = [c for c in record.error_text.splitlines() if c.strip()][-limit:]
    seen: list[str] = []
    for raw in marked:
        line = _strip_log_prefix(normalize_message(raw).replace("\n", " "))
        if line and line not in seen:
            seen.append(line)
    tail = seen[-limit:] if limit > 0 else []
    notes = [normalize_message(n).replace("\n", " ") for n in record.notes if n]
    return tail + sorted(set(notes))


def _digest(parts: list[str]) -> str:
    text = "\n".join([KEY_VERSION, *parts])
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _identity(record: FailureRecord) -> list[str]:
    return [f"pipeline={record.pipeline or ''}", f"task={record.task or ''}"]


def _state(record: FailureRecord) -> str:
    return re.sub(r"[\s\-]+", "_", (record.state or "failed").strip().lower())


def fingerprint(record: FailureRecord) -> Fingerprint:
    """Grouping key, similarity signature and normalised message of one failure.

    See the module documentation for which evidence is used when.  Never raises: a record it
    cannot read gets a key from its identity and state, with ``basis`` saying so.
    """
    try:
        return _fingerprint(record)
    except Exception as exc:  # the failure path must go on
        state = getattr(record, "state", "failed")
        parts = [f"state={state}", f"pipeline={getattr(record, 'pipeline', '')}",
                 f"task={getattr(record, 'task', '')}"]
        return Fingerprint(key=_digest(parts),
                           basis=f"state+task (fingerprint failed: {type(exc).__name__})")


def _fingerprint(record: FailureRecord) -> Fingerprint:
    chain = [e for e in (record.exceptions or []) if e is not None]
    features: set[str] = set()
    texts: list[str] = []

    if chain:
        types = [_type(e) for e in chain]
        type_keys = [_type_key(e) for e in chain]
        messages = [_message(e) for e in chain]
        in_app = [_frames((f for f in e.frames if f is not None and f.in_app), app=True)
                  for e in chain]
        all_frames = [_frames(e.frames) for e in chain]
        for t in types:
            features.add(f"type:{t}")
            features.add(f"type:{t.rsplit('.', 1)[-1]}")
        for frames in all_frames:
            features.update(f"frame:{f}" for f in frames)
        texts.extend(messages)

        if any(in_app):
            basis = "type+frames+message"
            parts = [f"{t}|{'>'.join(fr)}|{m}" for t, fr, m in zip(type_keys, in_app, messages)]
        elif any(all_frames):
            basis = "type+library-frames+message+task"
            parts = [f"{t}|{'>'.join(fr[-LIBRARY_FRAMES:])}|{m}"
                     for t, fr, m in zip(type_keys, all_frames, messages)] + _identity(record)
        else:
            basis = "type+message+task"
            parts = [f"{t}||{m}" for t, m in zip(type_keys, messages)] + _identity(record)
        normalized = messages[-1]
    else:
        lines = error_lines(record)
        texts.extend(lines)
        features.add(f"state:{_state(record)}")
        if lines:
            basis = "log+state+task"
            parts = [f"state={_state(record)}", *lines, *_identity(record)]
            normalized = lines[-1]
        else:
            basis = "state+task"
            parts = [f"state={_state(record)}", *_identity(record)]
            normalized = ""

    if chain:
        # Error lines of the log help similarity (not the key): a wrapper exception with the
        # real error only in the log still looks like its siblings.
        texts.extend(error_lines(record))
    features |= shingles(texts)
    return Fingerprint(
        key=_digest(parts),
        basis=basis,
        signature=minhash(features),
        normalized_message=normalized,
    )
