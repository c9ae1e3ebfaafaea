"""Measuring classification and grouping on a labelled corpus, and classifying plain text.

``scribe classify --jsonl`` and ``scribe group --jsonl`` feed corpus lines through
:func:`classify_text`; the functions here turn their output into the figures issue 8 asks
for: macro-F1 with a confusion matrix next to a baseline that looks at the exception type
alone, and pairwise precision / recall of the grouping.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

from ..records import CATEGORIES, Classification, ExceptionInfo, FailureRecord, Fingerprint, Frame, LogExcerpt
from .classifier import RuleSet, classify

__all__ = [
    "BASELINE_TYPES",
    "baseline_category",
    "classify_text",
    "confusion_matrix",
    "format_confusion",
    "macro_f1",
    "near_miss_separation",
    "pairwise_grouping_scores",
    "per_label_scores",
    "record_from_text",
]

MAX_TEXT_LINES = 2000
"""Lines of a text kept as its log excerpt: the end of a long text is where the failure is."""


# --------------------------------------------------------------------------------------------
# Text -> record
# --------------------------------------------------------------------------------------------


def _exceptions_from_text(text: str) -> list[ExceptionInfo]:
    """Parse tracebacks with capture's parser; a minimal built-in one if capture is absent."""
    try:
        from ..capture import exceptions_from_text  # type: ignore[attr-defined]
    except Exception:
        exceptions_from_text = _fallback_exceptions_from_text
    try:
        return list(exceptions_from_text(text) or [])
    except Exception:
        return []


_TB_HEAD = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout|"
                       r"Fault|Failure|Warning|Exited|Killed|Error\w*))(?::\s?(?P<msg>.*))?$")
_CAUSE = "The above exception was the direct cause of the following exception"
_CONTEXT = "During handling of the above exception, another exception occurred"


def _fallback_in_app(path: str) -> bool:
    p = path.replace("\\", "/")
    return not (
        "site-packages/" in p or "dist-packages/" in p or p.startswith("<")
        or re.search(r"/lib(?:64)?/python\d", p) is not None or ".zip/" in p or ".egg/" in p
    )


def _fallback_exceptions_from_text(text: str) -> list[ExceptionInfo]:
    # Only used until postmortem_scribe.capture provides exceptions_from_text: Python
    # tracebacks (chained), frames, the final "Type: message" line of each block.
    lines = [re.sub(r"^.*?(?=Traceback \(most recent call last\):)", "", ln) for ln in text.splitlines()]
    out: list[ExceptionInfo] = []
    relation = "root"
    i = 0
    while i < len(lines):
        line = lines[i]
        if _CAUSE in line:
            relation = "cause"
        elif _CONTEXT in line:
            relation = "context"
        if line.strip() != _TB_HEAD:
            i += 1
            continue
        frames: list[Frame] = []
        i += 1
        while i < len(lines):
            m = _FRAME.match(lines[i])
            if m:
                src = None
                if i + 1 < len(lines) and not _FRAME.match(lines[i + 1]) and lines[i + 1].startswith("    "):
                    src = lines[i + 1].strip()
                frames.append(Frame(filename=m["file"], lineno=int(m["line"]), function=(m["func"] or "?").strip(),
                                    line=src, in_app=_fallback_in_app(m["file"])))
                i += 2 if src is not None else 1
                continue
            if lines[i].startswith((" ", "\t")) or not lines[i].strip():
                i += 1
                continue
            break
        if i >= len(lines):
            break
        m = _EXC_LINE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        msg = [m["msg"] or ""]
        i += 1
        while i < len(lines) and lines[i].strip() and lines[i].strip() != _TB_HEAD \
                and _CAUSE not in lines[i] and _CONTEXT not in lines[i] and len(msg) < 50:
            msg.append(lines[i].rstrip())
            i += 1
        etype = m["type"]
        if out:
            out[-1].relation = relation  # type: ignore[assignment]
        out.append(ExceptionInfo(type=etype, message="\n".join(msg).strip(), frames=frames))
        relation = "root"
    if out:
        out[-1].relation = "root"
    if not out:
        for line in reversed(text.splitlines()):
            m = _EXC_LINE.match(line.strip())
            if m and "." in m["type"] or (m and m["msg"]):
                out.append(ExceptionInfo(type=m["type"], message=(m["msg"] or "").strip()))
                break
    return out


def record_from_text(
    text: str,
    *,
    pipeline: str = "text",
    task: str | None = None,
    state: str = "failed",
) -> FailureRecord:
    """A :class:`FailureRecord` built from a traceback or log excerpt given as text.

    The exception chain comes from ``postmortem_scribe.capture.exceptions_from_text``; the
    text's last :data:`MAX_TEXT_LINES` lines become the log excerpt, and when no exception can be
    parsed the text is kept as ``error_text``.  Never raises.
    """
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    exceptions = _exceptions_from_text(text)
    lines = text.splitlines()[-MAX_TEXT_LINES:]
    return FailureRecord(
        pipeline=pipeline,
        task=task,
        orchestrator="cli",
        occurrence_key=f"cli|{pipeline}||{task or ''}||",
        state=state,
        detected_by="cli",
        exceptions=exceptions,
        error_text=None if exceptions else text,
        log=LogExcerpt(source="text", lines=lines),
    )


def classify_text(
    text: str,
    *,
    rules: RuleSet | None = None,
    pipeline: str = "text",
    task: str | None = None,
) -> tuple[Classification, Fingerprint]:
    """Classify and fingerprint a traceback or log excerpt given as text.  Never raises."""
    from ..fingerprint import fingerprint

    record = record_from_text(text, pipeline=pipeline, task=task)
    return classify(record, rules), fingerprint(record)


# --------------------------------------------------------------------------------------------
# Baseline: the exception type alone
# --------------------------------------------------------------------------------------------

BASELINE_TYPES: dict[str, str] = {
    # What a tool that looks only at the final exception's class name would say.
    "MemoryError": "resources",
    "OutOfMemoryError": "resources",
    "AirflowTaskTimeout": "timeout",
    "FlowRunTimeoutError": "timeout",
    "TaskRunTimeoutError": "timeout",
    "AirflowSensorTimeout": "timeout",
    "ParserError": "data_format",
    "JSONDecodeError": "data_format",
    "UnicodeDecodeError": "data_format",
    "ArrowInvalid": "data_format",
    "ArrowTypeError": "data_format",
    "DataError": "data_format",
    "EmptyDataError": "data_missing",
    "FileNotFoundError": "data_missing",
    "NoSuchKey": "data_missing",
    "NotFound": "data_missing",
    "IntegrityError": "data_quality",
    "UniqueViolation": "data_quality",
    "ValidationError": "data_quality",
    "SchemaError": "data_quality",
    "ConnectionError": "connectivity",
    "ConnectionRefusedError": "connectivity",
    "ConnectionResetError": "connectivity",
    "ConnectTimeout": "connectivity",
    "ReadTimeout": "connectivity",
    "TimeoutError": "connectivity",
    "SSLError": "connectivity",
    "EndpointConnectionError": "connectivity",
    "OperationalError": "connectivity",
    "HTTPError": "external_service",
    "ClientError": "external_service",
    "ApiException": "external_service",
    "InternalServerError": "external_service",
    "ServiceUnavailable": "external_service",
    "PermissionError": "auth",
    "PermissionDenied": "auth",
    "Forbidden": "auth",
    "NoCredentialsError": "auth",
    "DefaultCredentialsError": "auth",
    "ImportError": "config_env",
    "ModuleNotFoundError": "config_env",
    "AirflowNotFoundException": "config_env",
    "UpstreamTaskError": "upstream",
}


def baseline_category(record: FailureRecord) -> str:
    """The category a lookup on the final exception's class name alone gives (the baseline)."""
    exc = record.final_exception
    if exc is None:
        return "code_bug"
    return BASELINE_TYPES.get((exc.type or "").rsplit(".", 1)[-1], "code_bug")


# --------------------------------------------------------------------------------------------
# Classification figures
# --------------------------------------------------------------------------------------------


def _labels(pairs: Sequence[tuple[str, str]]) -> list[str]:
    present = {g for g, _ in pairs} | {p for _, p in pairs}
    ordered = [c for c in CATEGORIES if c in present]
    return ordered + sorted(present - set(ordered))


def per_label_scores(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per label, from ``(gold, predicted)`` pairs."""
    pairs = list(pairs)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold, pred in pairs:
        if gold == pred:
            tp[gold] += 1
        else:
            fp[pred] += 1
            fn[gold] += 1
    out = {}
    for label in _labels(pairs):
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[label] = {"precision": p, "recall": r, "f1": f, "support": tp[label] + fn[label]}
    return out


def macro_f1(pairs: Iterable[tuple[str, str]]) -> float:
    """Unweighted mean F1 over every label that occurs as gold or as prediction.

    A label predicted but never gold counts with F1 0 (as in scikit-learn), so inventing a
    category is penalised.
    """
    scores = per_label_scores(pairs)
    if not scores:
        return 0.0
    return sum(s["f1"] for s in scores.values()) / len(scores)


def confusion_matrix(
    pairs: Iterable[tuple[str, str]], labels: Sequence[str] | None = None
) -> tuple[list[str], list[list[int]]]:
    """``(labels, matrix)`` with ``matrix[i][j]`` = items of gold ``labels[i]`` predicted ``labels[j]``."""
    pairs = list(pairs)
    labels = list(labels) if labels is not None else _labels(pairs)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for gold, pred in pairs:
        if gold in index and pred in index:
            matrix[index[gold]][index[pred]] += 1
    return labels, matrix


_ABBREV = {
    "data_format": "fmt", "data_missing": "miss", "data_quality": "qual", "upstream": "upst",
    "connectivity": "conn", "external_service": "ext", "auth": "auth", "resources": "res",
    "timeout": "tout", "infrastructure": "infra", "config_env": "conf", "code_bug": "bug",
}


def format_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """A plain-text confusion matrix: rows are gold labels, columns predictions."""
    heads = [_ABBREV.get(label, label[:5]) for label in labels]
    width = max(len(label) for label in labels) if labels else 4
    out = [" " * (width + 2) + " ".join(f"{h:>5}" for h in heads) + "   <- predicted"]
    for label, row in zip(labels, matrix):
        out.append(f"{label:<{width}}  " + " ".join(f"{v or '.':>5}" for v in row))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Grouping figures
# --------------------------------------------------------------------------------------------


def _same_pairs(assign: Mapping[Hashable, Any], ids: Sequence[Hashable]) -> set[tuple[Hashable, Hashable]]:
    by: dict[Any, list[Hashable]] = defaultdict(list)
    for i in ids:
        value = assign.get(i)
        if value is not None:
            by[value].append(i)
    pairs: set[tuple[Hashable, Hashable]] = set()
    for members in by.values():
        for a, b in combinations(sorted(members, key=str), 2):
            pairs.add((a, b))
    return pairs


def pairwise_grouping_scores(
    assignments: Mapping[Hashable, Any], groups: Mapping[Hashable, Any]
) -> tuple[float, float]:
    """Pairwise ``(precision, recall)`` of a grouping against gold duplicate groups.

    ``assignments`` maps item id to the predicted cluster (fingerprint key or incident);
    ``groups`` maps item id to its gold duplicate group, ``None`` for an item that is a
    duplicate of nothing.  Only ids present in ``groups`` are scored.  Precision is the share of
    predicted same-cluster pairs that are gold duplicates (1.0 when nothing was merged); recall
    is the share of gold duplicate pairs that were put together (1.0 when there are none).
    """
    ids = list(groups)
    predicted = _same_pairs(assignments, ids)
    gold = _same_pairs(groups, ids)
    tp = len(predicted & gold)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(gold) if gold else 1.0
    return precision, recall


def near_miss_separation(
    assignments: Mapping[Hashable, Any], near_misses: Iterable[tuple[Hashable, Hashable]]
) -> tuple[int, int]:
    """``(kept apart, total)`` over near-miss pairs (same exception type, different cause)."""
    total = apart = 0
    for a, b in near_misses:
        if a not in assignments or b not in assignments:
            continue
        total += 1
        if assignments[a] != assignments[b]:
            apart += 1
    return apart, total
