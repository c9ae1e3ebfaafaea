"""Measuring classification and grouping on a labelled corpus, and classifying plain text.

``scribe classify --jsonl`` and ``scribe group --jsonl`` feed corpus lines through
:func:`classify_text`; the functions here turn their output into the figures issue 8 asks
for: macro-F1 with a confusion matrix next to a baseline that looks at the exception type
alone, and pairwise precision / recall of the grouping.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

from ..records import CATEGORIES, Classification, ExceptionInfo, FailureRecord, Fingerprint, LogExcerpt
from .classifier import RuleSet, classify

__all__ = [
    "BASELINE_TYPES",
    "baseline_category",
    "classify_text",
    "confusion_matrix",
    "corpus_figures",
    "format_confusion",
    "format_figures",
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
    """The exception chain in ``text``, parsed by capture (tracebacks, Airflow 3 JSON lines, error
    lines); ``[]`` if capture cannot be imported, in which case the text still counts as log."""
    try:
        from ..capture import exceptions_from_text
    except Exception:  # a broken install must not stop classification of the log lines
        return []
    try:
        return list(exceptions_from_text(text) or [])
    except Exception:
        return []


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


# --------------------------------------------------------------------------------------------
# Figures from the output of `scribe classify --jsonl` and `scribe group --jsonl`
# --------------------------------------------------------------------------------------------


def corpus_figures(
    rows: Sequence[Mapping[str, Any]],
    classified: Iterable[Mapping[str, Any]],
    grouped: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """Issue 8's figures for labelled ``rows`` from the CLI's JSON-lines output.

    ``rows`` are corpus records (``id``, ``text``, ``category``, ``group``, ``near_miss_of``);
    ``classified`` are the lines ``scribe classify --jsonl`` printed (``id``, ``category``,
    ``confidence``, optionally ``low_confidence``) and ``grouped`` those of ``scribe group
    --jsonl`` (``id``, ``incident``).  A row the CLI printed nothing for counts as
    ``"(missing)"``, so a crash cannot improve the score.  The baseline is computed here from
    each row's text (the exception type alone needs no CLI).
    """
    by_id = {r["id"]: r for r in rows}
    predicted = {c["id"]: c for c in classified if isinstance(c, Mapping) and c.get("id") in by_id}
    incidents = {g["id"]: g.get("incident") for g in grouped
                 if isinstance(g, Mapping) and g.get("id") in by_id}
    pairs = [(r["category"], str(predicted.get(r["id"], {}).get("category", "(missing)")))
             for r in rows]
    base = [(r["category"], baseline_category(record_from_text(r["text"]))) for r in rows]
    groups = {r["id"]: r.get("group") for r in rows}
    near = [(r["id"], r["near_miss_of"]) for r in rows if r.get("near_miss_of")]
    precision, recall = pairwise_grouping_scores(incidents, groups)
    apart, total = near_miss_separation(incidents, near)
    wrong = [r["id"] for r, (gold, pred) in zip(rows, pairs) if gold != pred]
    flagged = [i for i in wrong if predicted.get(i, {}).get("low_confidence")
               or float(predicted.get(i, {}).get("confidence", 0.0)) < _low_confidence()]
    labels, matrix = confusion_matrix(pairs)
    return {
        "n": len(rows), "pairs": pairs, "macro_f1": macro_f1(pairs),
        "baseline_macro_f1": macro_f1(base), "per_label": per_label_scores(pairs),
        "baseline_per_label": per_label_scores(base), "labels": labels, "matrix": matrix,
        "precision": precision, "recall": recall, "near_apart": apart, "near_total": total,
        "groups": len({g for g in groups.values() if g}), "wrong": wrong, "wrong_flagged": flagged,
        "missing": sorted(set(by_id) - set(predicted)),
    }


def _low_confidence() -> float:
    from .classifier import LOW_CONFIDENCE

    return LOW_CONFIDENCE


def format_figures(figures: Mapping[str, Any], *, title: str = "") -> str:
    """The per-label table, macro-F1 against the baseline, grouping figures and the confusion
    matrix of :func:`corpus_figures`, as plain text (for a closing note or a CI log)."""
    f = figures
    lines = [title] if title else []
    lines.append(f"{f['n']} records, {f['groups']} duplicate groups, {f['near_total']} near-miss pairs")
    lines.append(f"{'label':<18}{'support':>8}{'P':>7}{'R':>7}{'F1':>7}{'baseline F1':>13}")
    for label, s in f["per_label"].items():
        b = f["baseline_per_label"].get(label, {"f1": 0.0})
        lines.append(f"{label:<18}{s['support']:>8}{s['precision']:>7.2f}{s['recall']:>7.2f}"
                     f"{s['f1']:>7.2f}{b['f1']:>13.2f}")
    lines.append(f"{'macro-F1':<18}{'':>8}{'':>7}{'':>7}{f['macro_f1']:>7.3f}{f['baseline_macro_f1']:>13.3f}")
    lines.append(f"wrong labels flagged low-confidence: {len(f['wrong_flagged'])}/{len(f['wrong'])}")
    lines.append(f"grouping: pairwise precision {f['precision']:.3f}, recall {f['recall']:.3f}, "
                 f"near-misses kept apart {f['near_apart']}/{f['near_total']}")
    if f["missing"]:
        lines.append(f"no output for: {', '.join(f['missing'])}")
    lines.append("confusion matrix (rows: label, columns: predicted)")
    lines.append(format_confusion(f["labels"], f["matrix"]))
    return "\n".join(lines)
