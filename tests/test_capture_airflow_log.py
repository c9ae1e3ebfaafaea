"""Airflow 3 task logs (JSON lines with a structured ``error_detail``) read as a person would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmortem_scribe.capture import (
    excerpt_from_file,
    exceptions_from_text,
    json_line_to_text,
    parse_error_detail,
)
from postmortem_scribe.capture.exceptions import SYNTAX_ERROR_FUNCTION
from postmortem_scribe.capture.frames import PLACEHOLDER_FILENAME

SITE = "/home/airflow/.local/lib/python3.12/site-packages"


def stack(exc_type: str, exc_value: str, frames=(), **extra) -> dict:
    """One entry of structlog's ExceptionDictTransformer output, as Airflow 3 logs it."""
    return {
        "exc_type": exc_type,
        "exc_value": exc_value,
        "exc_notes": [],
        "syntax_error": None,
        "is_cause": False,
        "frames": [{"filename": f, "lineno": n, "name": name} for f, n, name in frames],
        "is_group": False,
        "exceptions": [],
        **extra,
    }


def record(event: str, level: str = "info", logger: str = "task", **extra) -> str:
    return json.dumps({"timestamp": "2026-03-01T02:59:58.101234Z", "level": level, "event": event,
                       "logger": logger, **extra})


PARSER_ERROR = stack(
    "ParserError",
    "Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8\n",
    [("/opt/airflow/dags/orders/load.py", 37, "load_orders"),
     (f"{SITE}/pandas/io/parsers/readers.py", 1026, "read_csv"),
     ("parsers.pyx", 2058, "pandas._libs.parsers.raise_parser_error")],
    is_cause=True,
)
LOAD_FAILED = stack(
    "RuntimeError",
    "loading orders failed",
    [(f"{SITE}/airflow/sdk/execution_time/task_runner.py", 920, "run"),
     (f"{SITE}/airflow/sdk/bases/operator.py", 417, "wrapper"),
     ("/opt/airflow/dags/orders/load.py", 41, "load_orders")],
)

TASK_LOG = [
    record("DAG bundles loaded: dags-folder", logger="airflow.dag_processing.bundles.manager.DagBundlesManager"),
    record("Filling up the DagBag from /opt/airflow/dags/orders/load.py", logger="airflow.models.dagbag.DagBag"),
    record("reading /data/orders/2026-03-01.csv", logger="task.stdout", chan="stdout"),
    record("Task failed with exception", level="error", error_detail=[LOAD_FAILED, PARSER_ERROR],
           filename="task_runner.py", lineno=1066),
    record("Task instance in failure state", logger="task.lifecycle"),
    record("Task operator:<Task(PythonOperator): load_orders>", logger="task.lifecycle"),
]


def test_the_failure_record_gives_the_chain_root_cause_first() -> None:
    chain = parse_error_detail(TASK_LOG)

    assert [(e.type, e.relation) for e in chain] == [("ParserError", "cause"), ("RuntimeError", "root")]
    assert chain[0].message == "Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8"
    assert [(f.function, f.module, f.in_app) for f in chain[0].frames] == [
        ("load_orders", "orders.load", True),
        ("read_csv", "pandas.io.parsers.readers", False),
        ("pandas._libs.parsers.raise_parser_error", "parsers", False),
    ]
    assert [f.in_app for f in chain[1].frames] == [False, False, True]
    assert chain[1].frames[0].module == "airflow.sdk.execution_time.task_runner"


def test_exceptions_from_text_prefers_the_structured_detail() -> None:
    chain = exceptions_from_text("\n".join(TASK_LOG))
    assert [e.type for e in chain] == ["ParserError", "RuntimeError"]


def test_implicit_context_notes_and_skipped_frames() -> None:
    detail = [
        stack("ValueError", "bad amount", [("/opt/airflow/dags/a.py", 9, "clean")],
              exc_notes=["row 3"]),
        stack("KeyError", "'amount'",
              [("/opt/airflow/dags/a.py", 5, "clean"), ("", -1, "Skipped frames: 12"),
               ("/opt/airflow/dags/a.py", 2, "get")]),
    ]
    chain = parse_error_detail([record("Task failed with exception", "error", error_detail=detail)])

    assert [(e.type, e.relation) for e in chain] == [("KeyError", "context"), ("ValueError", "root")]
    assert chain[1].message == "bad amount\nrow 3"
    skipped = chain[0].frames[1]
    assert (skipped.filename, skipped.line, skipped.in_app) == (
        PLACEHOLDER_FILENAME, "[Skipped frames: 12]", False)


def test_syntax_error_detail_points_at_the_dag_file() -> None:
    detail = [stack("SyntaxError", "invalid syntax (broken.py, line 1)",
                    [(f"{SITE}/airflow/models/dagbag.py", 351, "_load_modules_from_file")],
                    syntax_error={"offset": 12, "filename": "/opt/airflow/dags/broken.py",
                                  "line": "def broken(:\n", "lineno": 1, "msg": "invalid syntax"})]
    (info,) = parse_error_detail([record("Task failed with exception", "error", error_detail=detail)])

    located = info.frames[-1]
    assert (located.function, located.filename, located.lineno, located.line, located.in_app) == (
        SYNTAX_ERROR_FUNCTION, "/opt/airflow/dags/broken.py", 1, "def broken(:", True)


def test_exception_group_members_come_before_the_group() -> None:
    members = [[stack("TimeoutError", f"fetch {n} timed out", [("/opt/airflow/dags/f.py", 3, "fetch")]),
                stack("ConnectionResetError", "reset", is_cause=True)] for n in range(5)]
    detail = [stack("ExceptionGroup", "fetches failed (5 sub-exceptions)",
                    [("/opt/airflow/dags/f.py", 9, "gather")], is_group=True, exceptions=members)]
    chain = parse_error_detail([record("Task failed with exception", "error", error_detail=detail)])

    assert chain[-1].type == "ExceptionGroup"
    assert [e.type for e in chain[:-1]] == ["ConnectionResetError", "TimeoutError"] * 3
    assert [e.relation for e in chain[:-1]] == ["cause"] * 6


def test_older_structlog_payloads_without_notes_or_groups() -> None:
    old = {"exc_type": "ValueError", "exc_value": "x", "syntax_error": None, "is_cause": False,
           "frames": [{"filename": "/opt/airflow/dags/a.py", "lineno": 1, "name": "f"}]}
    (info,) = parse_error_detail([json.dumps({"event": "Task failed with exception", "error_detail": [old]})])
    assert (info.type, info.message, info.frames[0].function) == ("ValueError", "x", "f")


def test_the_failure_record_wins_over_other_errors_with_detail() -> None:
    lines = [
        record("Task failed with exception", "error", error_detail=[stack("ValueError", "the real one")]),
        record("Failed to send email", "error", logger="airflow.utils.email",
               error_detail=[stack("SMTPException", "no mail server")]),
    ]
    assert [e.message for e in parse_error_detail(lines)] == ["the real one"]
    assert [e.message for e in parse_error_detail(lines[1:])] == ["no mail server"]


@pytest.mark.parametrize("payload", [
    None, {}, "boom", 42, [], [None], ["ValueError: boom"], [{"exc_value": "no type"}],
    [{"exc_type": "ValueError", "frames": "not a list"}],
    [{"exc_type": "ValueError", "frames": ["not a frame", None, {"filename": 3, "lineno": "x"}]}],
    [{"exc_type": "ValueError", "syntax_error": "not a dict", "exc_notes": "not a list"}],
    [{"exc_type": "ExceptionGroup", "is_group": True, "exceptions": ["not a chain", [None], 7]}],
    [{"exc_type": ["not", "a", "string"], "exc_value": {"a": 1}}],
])
def test_malformed_payloads_never_raise(payload: object) -> None:
    line = json.dumps({"event": "Task failed with exception", "error_detail": payload})
    chain = parse_error_detail([line, "not json", "{broken json", "[1, 2]"])
    assert isinstance(chain, list)
    assert all(isinstance(e.type, str) and isinstance(e.message, str) for e in chain)
    assert isinstance(json_line_to_text(line), str)


def test_lines_without_detail_give_nothing() -> None:
    assert parse_error_detail([record("hello"), "plain text", ""]) == []
    assert parse_error_detail([]) == []


# ---------------------------------------------------------------------------------------------
# Rendering JSON lines for people
# ---------------------------------------------------------------------------------------------


def test_a_json_line_renders_as_a_plain_log_line() -> None:
    line = record("reading /data/orders/2026-03-01.csv", logger="task.stdout", chan="stdout",
                  rows=5120, path="/data/my orders.csv")
    assert json_line_to_text(line) == (
        '2026-03-01T02:59:58.101234Z INFO task.stdout: reading /data/orders/2026-03-01.csv '
        'chan=stdout rows=5120 path="/data/my orders.csv"')


def test_the_failure_record_renders_with_its_traceback() -> None:
    text = json_line_to_text(TASK_LOG[3])
    lines = text.split("\n")
    assert lines[0] == ("2026-03-01T02:59:58.101234Z ERROR task: Task failed with exception "
                        "filename=task_runner.py lineno=1066")
    assert "Traceback (most recent call last):" in lines
    # structlog records the class name only, so that is what the line says.
    assert "ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8" in lines
    assert "The above exception was the direct cause of the following exception:" in lines
    assert lines[-1] == "RuntimeError: loading orders failed"
    # The rendered traceback reads back as the same chain.
    assert [e.type for e in exceptions_from_text("\n".join(lines[1:]))] == ["ParserError", "RuntimeError"]


def test_a_traceback_logged_as_a_string_value_follows_the_line() -> None:
    line = json.dumps({"time": "12:00", "levelname": "ERROR", "name": "etl", "message": "failed",
                       "exc_info": "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, "
                                   "in f\nValueError: bad"})
    assert json_line_to_text(line).split("\n") == [
        "12:00 ERROR etl: failed", "Traceback (most recent call last):",
        '  File "/app/x.py", line 1, in f', "ValueError: bad"]
    assert [e.type for e in exceptions_from_text(line)] == ["ValueError"]


@pytest.mark.parametrize("line", ["plain text", "", "[1, 2, 3]", '"a string"', "{not json}",
                                  '{"unterminated": ', "  {\"a\": 1} trailing"])
def test_anything_but_a_json_object_is_returned_unchanged(line: str) -> None:
    assert json_line_to_text(line) == line


def test_an_airflow3_log_file_excerpt_reads_as_text(tmp_path: Path) -> None:
    path = tmp_path / "attempt=1.log"
    chatter = [record(f"processed batch {n}", logger="task.stdout") for n in range(200)]
    path.write_text("\n".join(chatter + TASK_LOG) + "\n", encoding="utf-8")

    excerpt = excerpt_from_file(str(path))

    assert excerpt.problem is None
    assert not any(line.startswith("{") for line in excerpt.lines)
    flagged = [excerpt.lines[i] for i in excerpt.error_lines]
    assert any("ERROR task: Task failed with exception" in line for line in flagged)
    assert any(line.startswith("ParserError: Error tokenizing data") for line in flagged)
    assert excerpt.lines[-1].endswith("task.lifecycle: Task operator:<Task(PythonOperator): load_orders>")
    # The excerpt is text a watcher can parse again.
    assert [e.type for e in exceptions_from_text("\n".join(excerpt.lines))] == ["ParserError", "RuntimeError"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["exc_type", "exc_value", "frames", "filename", "lineno", "name", "is_cause",
                         "is_group", "exceptions", "syntax_error", "exc_notes", "stacks", "x"]),
        inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_JSON, st.sampled_from(["error_detail", "exception", "exc_info", "message"]))
def test_any_json_payload_is_handled(payload: object, key: str) -> None:
    line = json.dumps({"timestamp": "t", "level": "error", "event": "Task failed with exception", key: payload})
    chain = parse_error_detail([line])
    assert all(isinstance(e.type, str) and isinstance(e.message, str) for e in chain)
    assert isinstance(json_line_to_text(line), str)
    assert isinstance(exceptions_from_text(line), list)
