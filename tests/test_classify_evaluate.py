"""The figures of the evaluation module, on examples small enough to check by hand."""

from __future__ import annotations

from postmortem_scribe.classify.evaluate import (
    baseline_category,
    confusion_matrix,
    format_confusion,
    macro_f1,
    near_miss_separation,
    pairwise_grouping_scores,
    per_label_scores,
)
from postmortem_scribe.records import ExceptionInfo, FailureRecord


def test_macro_f1_and_per_label_scores():
    pairs = [("auth", "auth"), ("auth", "timeout"), ("timeout", "timeout"), ("code_bug", "code_bug")]
    scores = per_label_scores(pairs)
    assert scores["auth"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert scores["timeout"]["precision"] == 0.5
    assert round(macro_f1(pairs), 4) == round((2 / 3 + 2 / 3 + 1.0) / 3, 4)
    assert macro_f1([]) == 0.0
    # a label only ever predicted counts with F1 0
    assert macro_f1([("auth", "auth"), ("auth", "upstream")]) == (2 / 3 + 0) / 2


def test_confusion_matrix_rows_are_gold_columns_predicted():
    labels, matrix = confusion_matrix([("auth", "auth"), ("auth", "timeout"), ("timeout", "timeout")])
    assert labels == ["auth", "timeout"]
    assert matrix == [[1, 1], [0, 1]]
    text = format_confusion(labels, matrix)
    assert "auth" in text and "tout" in text and "predicted" in text


def test_pairwise_grouping_scores():
    groups = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c": None}
    perfect = {"a1": 1, "a2": 1, "a3": 1, "b1": 2, "b2": 2, "c": 3}
    assert pairwise_grouping_scores(perfect, groups) == (1.0, 1.0)
    # a3 split off: 2 of the 4 gold pairs lost; c wrongly joined to B: 2 false pairs of 4
    imperfect = {"a1": 1, "a2": 1, "a3": 9, "b1": 2, "b2": 2, "c": 2}
    precision, recall = pairwise_grouping_scores(imperfect, groups)
    assert (precision, recall) == (2 / 4, 2 / 4)
    everything_apart = {k: i for i, k in enumerate(groups)}
    assert pairwise_grouping_scores(everything_apart, groups) == (1.0, 0.0)


def test_near_miss_separation_counts_pairs_kept_apart():
    assign = {"x": "k1", "y": "k2", "z": "k1"}
    assert near_miss_separation(assign, [("x", "y"), ("x", "z"), ("x", "missing")]) == (1, 2)


def test_baseline_looks_at_the_final_exception_type_only():
    def record(*types: str) -> FailureRecord:
        return FailureRecord(pipeline="p", task=None, orchestrator="cli", occurrence_key="k",
                             exceptions=[ExceptionInfo(type=t, message="") for t in types])

    assert baseline_category(record("pandas.errors.ParserError")) == "data_format"
    assert baseline_category(record("pandas.errors.ParserError", "airflow.exceptions.AirflowException")) == "code_bug"
    assert baseline_category(record()) == "code_bug"
