"""Classification: what category, confidence and evidence a person sees in the draft."""

from __future__ import annotations

from postmortem_scribe.classify import LOW_CONFIDENCE, classify, classify_text, load_rules
from postmortem_scribe.records import (
    CATEGORIES,
    ExceptionInfo,
    FailureRecord,
    Frame,
    InputReport,
    LogExcerpt,
    Problem,
)


def _record(**kw) -> FailureRecord:
    base = dict(pipeline="etl", task="load", orchestrator="airflow", occurrence_key="k")
    base.update(kw)
    return FailureRecord(**base)


def _app_frame(func: str = "load", line: int = 12) -> Frame:
    return Frame(filename="/opt/airflow/dags/etl.py", lineno=line, function=func, module=None, in_app=True)


def _lib_frame(path: str, func: str) -> Frame:
    return Frame(filename=f"/usr/lib/python3.11/site-packages/{path}", lineno=99, function=func, in_app=False)


def test_shipped_rules_load_without_problems():
    rules = load_rules()
    assert rules.problems == []
    assert len(rules.rules) > 40
    assert {r.category for r in rules.rules} == set(CATEGORIES)
    assert len({r.id for r in rules.rules}) == len(rules.rules)


def test_root_cause_wrapped_in_airflow_exception_is_data_format():
    record = _record(exceptions=[
        ExceptionInfo(
            type="pandas.errors.ParserError",
            message="Error tokenizing data. C error: Expected 3 fields in line 5, saw 4",
            frames=[_app_frame(), _lib_frame("pandas/io/parsers/readers.py", "read_csv")],
            relation="cause",
        ),
        ExceptionInfo(type="airflow.exceptions.AirflowException", message="Task failed",
                      frames=[_lib_frame("airflow/models/taskinstance.py", "_execute_task")]),
    ])
    result = classify(record)
    assert result.category == "data_format"
    assert result.confidence >= 0.9 and not result.low_confidence
    assert result.evidence[0].rule == "parser-error"
    assert result.evidence[0].source == "exception"
    assert "Expected 3 fields in line 5" in result.evidence[0].text


def test_killed_by_signal_9_note_is_resources():
    record = _record(state="failed", notes=["the task process exited with signal 9"])
    result = classify(record)
    assert result.category == "resources"
    assert any(e.source == "state" and "signal 9" in e.text for e in result.evidence)


def test_timed_out_state_is_timeout_even_without_exception():
    result = classify(_record(state="TimedOut"))
    assert result.category == "timeout"
    assert result.evidence[0].rule == "state-timed-out"


def test_airflow_task_timeout_beats_generic_timeout_words():
    result = classify_text(
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/x.py", line 3, in run\n'
        "    time.sleep(100)\n"
        "airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 4242\n"
    )[0]
    assert result.category == "timeout"


def test_missing_input_is_data_missing():
    record = _record(
        exceptions=[ExceptionInfo(type="FileNotFoundError",
                                  message="[Errno 2] No such file or directory: '/data/in/orders.csv'",
                                  frames=[_app_frame()])],
        inputs=[InputReport(path="/data/in/orders.csv", exists=False)],
    )
    result = classify(record)
    assert result.category == "data_missing"
    assert any(e.source == "input" and "does not exist" in e.text for e in result.evidence)


def test_input_problems_with_parse_error_is_data_format_with_input_evidence():
    record = _record(
        exceptions=[ExceptionInfo(type="ValueError", message="could not convert string to float: 'n/a'",
                                  frames=[_app_frame()])],
        inputs=[InputReport(path="/data/in/orders.csv", format="csv", problems=[
            Problem(message="row has 4 fields, header has 3", line=5, code="ragged_row")])],
    )
    result = classify(record)
    assert result.category == "data_format"
    assert any(e.source == "input" and "line 5" in e.text for e in result.evidence)


def test_log_only_lines_are_used():
    record = _record(log=LogExcerpt(source="x.log", lines=[
        "[2024-05-01T10:00:00] INFO - starting",
        "[2024-05-01T10:00:03] ERROR - psycopg2.OperationalError: connection to server at "
        "\"db.internal\" (10.1.2.3), port 5432 failed: Connection refused",
    ]))
    result = classify(record)
    assert result.category == "connectivity"
    assert result.evidence[0].source == "log"
    assert "Connection refused" in result.evidence[0].text


def test_unmatched_in_app_exception_falls_back_to_low_confidence_code_bug():
    record = _record(exceptions=[ExceptionInfo(type="myproj.errors.WeirdThing", message="it broke",
                                               frames=[_app_frame()])])
    result = classify(record)
    assert result.category == "code_bug"
    assert result.low_confidence and result.confidence < LOW_CONFIDENCE
    assert result.evidence[0].rule == "fallback-in-app-exception"


def test_conflicting_strong_signals_give_low_confidence_and_alternatives():
    result = classify_text("ERROR - No space left on device\nERROR - Connection refused\n")[0]
    assert result.low_confidence
    assert {result.category, *(c for c, _ in result.alternatives)} >= {"resources", "connectivity"}


def test_user_rules_are_tried_first():
    rules = load_rules([{"id": "vendor-flaky", "category": "external_service", "weight": 0.9,
                         "text": r"ACME feed .* unavailable"}])
    assert rules.problems == []
    text = ("Traceback (most recent call last):\n"
            '  File "/opt/airflow/dags/acme.py", line 3, in pull\n'
            "    raise KeyError(name)\n"
            "KeyError: 'ACME feed orders unavailable'\n")
    result = classify_text(text, rules=rules)[0]
    assert result.category == "external_service"
    assert result.evidence[0].rule == "vendor-flaky"
    assert classify_text(text)[0].category == "code_bug"


def test_bad_user_rules_are_skipped_with_clear_problems():
    rules = load_rules([
        {"id": "bad-regex", "category": "auth", "text": "(unclosed"},
        {"id": "bad-cat", "category": "gremlins", "text": "x"},
        {"id": "typo", "category": "auth", "mesage": "x"},
        {"id": "no-matcher", "category": "auth"},
        {"id": "bad-weight", "category": "auth", "weight": 3, "text": "x"},
        {"category": "auth", "text": "x"},
        "not a table",
        {"id": "good", "category": "auth", "text": "vault sealed"},
    ])
    assert [r.id for r in rules.user_rules] == ["good"]
    text = "\n".join(rules.problems)
    assert len(rules.problems) == 7
    assert "'bad-regex'" in text and "not a valid regular expression" in text
    assert "'gremlins'" in text and "data_format" in text  # says what was expected
    assert "unknown keys ['mesage']" in text
    assert "no matcher" in text
    assert "weight 3" in text
    assert "no 'id'" in text


def test_classify_never_raises_on_garbage():
    record = _record(exceptions=[ExceptionInfo(type=None, message=None, frames=[None])])  # type: ignore[arg-type]
    result = classify(record)
    assert result.category in CATEGORIES
    assert 0.0 <= result.confidence <= 1.0
    result = classify(None)  # type: ignore[arg-type]
    assert result.category == "code_bug" and result.low_confidence
    assert "classification failed" in result.evidence[0].text


def test_empty_text_is_a_low_confidence_guess():
    classification, fingerprint = classify_text("")
    assert classification.low_confidence
    assert fingerprint.key


def test_rules_are_package_data():
    from importlib import resources

    assert resources.files("postmortem_scribe.classify").joinpath("rules.toml").is_file()


def test_decisive_rule_outranks_strong_generic_evidence():
    text = ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='https', port=443): "
            "Max retries exceeded with url: //api.example.com/v1 (Caused by NewConnectionError("
            "'Failed to establish a new connection: [Errno -2] Name or service not known'))")
    result = classify_text(text)[0]
    assert result.category == "code_bug"
    assert result.evidence[0].rule == "malformed-url-host"
    assert "connectivity" in dict(result.alternatives)


def test_airflow3_json_log_line_is_classified_from_its_error_detail():
    import json

    line = json.dumps({
        "event": "Task failed with exception", "level": "error", "logger": "task",
        "error_detail": [{"exc_type": "ParserError", "is_cause": False, "syntax_error": None,
                          "exc_value": "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4",
                          "frames": [{"filename": "/opt/airflow/dags/etl.py", "lineno": 12, "name": "load"}]}],
    })
    classification, fingerprint = classify_text(line, pipeline="etl")
    assert classification.category == "data_format"
    assert fingerprint.basis == "type+frames+message"


def test_classify_text_accepts_anything():
    for value in (None, "", "\x00\xff garbage", "x" * 100_000):
        classification, fingerprint = classify_text(value)  # type: ignore[arg-type]
        assert classification.category in CATEGORIES
        assert fingerprint.key


def test_user_rule_with_bad_decisive_flag_is_skipped():
    rules = load_rules([{"id": "d", "category": "auth", "text": "x", "decisive": "yes"}])
    assert rules.user_rules == []
    assert "decisive should be true or false" in rules.problems[0]
