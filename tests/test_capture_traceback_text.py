"""Tracebacks read back from text: what a watcher that only has the log will report."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import traceback

import pandas as pd
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmortem_scribe.capture import exception_chain, exceptions_from_text, parse_traceback
from postmortem_scribe.capture.exceptions import MAX_GROUP_MEMBERS, SYNTAX_ERROR_FUNCTION
from postmortem_scribe.capture.frames import PLACEHOLDER_FILENAME
from postmortem_scribe.capture.traceback_text import TRUNCATED_TYPE


def raised(fn):
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def summary(chain):
    """What a person compares: types, links, messages and frames."""
    return [
        (e.type, e.relation, e.message,
         [(f.function, f.lineno, f.module, f.in_app, f.line) for f in e.frames])
        for e in chain
    ]


def assert_text_matches_live(exc: BaseException) -> None:
    printed = "".join(traceback.format_exception(exc))
    assert summary(parse_traceback(printed)) == summary(exception_chain(exc))


# ---------------------------------------------------------------------------------------------
# The printed form of a failure gives the same records as the live exception
# ---------------------------------------------------------------------------------------------


def test_pandas_parser_error_text_matches_live_capture() -> None:
    assert_text_matches_live(raised(lambda: pd.read_csv(io.StringIO("id,amount\n1,10\n2,20,oops\n"))))


def test_psycopg_connection_error_text_matches_live_capture() -> None:
    assert_text_matches_live(raised(lambda: psycopg.connect("host=127.0.0.1 port=1 connect_timeout=3")))


def test_chained_text_matches_live_capture() -> None:
    def load() -> None:
        try:
            try:
                {}["orders"]
            except KeyError as exc:
                raise FileNotFoundError("orders.csv") from exc
        except FileNotFoundError:
            raise RuntimeError("load failed\nsee the input report")  # noqa: B904

    exc = raised(load)
    exc.add_note("task: load_orders")
    assert_text_matches_live(exc)
    chain = parse_traceback("".join(traceback.format_exception(exc)))
    assert [(e.type, e.relation) for e in chain] == [
        ("KeyError", "cause"), ("FileNotFoundError", "context"), ("RuntimeError", "root")]
    assert chain[-1].message == "load failed\nsee the input report\ntask: load_orders"


def test_recursion_text_matches_live_capture() -> None:
    def recurse(n: int) -> int:
        return recurse(n + 1)

    exc = raised(lambda: recurse(0))
    assert_text_matches_live(exc)
    frames = parse_traceback("".join(traceback.format_exception(exc)))[0].frames
    assert frames[-1].filename == PLACEHOLDER_FILENAME
    assert frames[-1].line is not None and "more times]" in frames[-1].line


GROUP_PROGRAM = textwrap.dedent("""
    def fetch(n):
        try:
            raise ConnectionResetError(f"peer {n} reset")
        except ConnectionResetError as exc:
            raise TimeoutError(f"fetch {n} timed out") from exc

    def gather():
        errors = []
        for n in range(20):
            try:
                fetch(n)
            except TimeoutError as exc:
                errors.append(exc)
        nested = ExceptionGroup("inner", [ValueError("bad row"), KeyError("id")])
        try:
            raise nested
        except ExceptionGroup as exc:
            errors.insert(1, exc)
        raise ExceptionGroup("gather failed", errors)

    try:
        gather()
    except* TimeoutError:
        raise RuntimeError("handler gave up")
""")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are Python 3.11+")
def test_nested_exception_groups_printed_by_python_match_live_capture() -> None:
    # CPython prints 15 of the 20 members and "and 5 more exceptions"; the except* handler's
    # RuntimeError ends up inside a new group with the unhandled rest.
    exc = raised(lambda: exec(compile(GROUP_PROGRAM, "/srv/flows/gather.py", "exec"), {"__name__": "gather"}))
    printed = "".join(traceback.format_exception(exc))
    assert "and 5 more exceptions" in printed

    chain = parse_traceback(printed)

    assert summary(chain) == summary(exception_chain(exc))
    assert chain[-1].type == "ExceptionGroup"
    assert any(e.type == "RuntimeError" and e.message == "handler gave up" for e in chain)
    assert any(e.message == "gather failed (20 sub-exceptions)" for e in chain)
    timeouts = [e for e in chain if e.type == "TimeoutError"]
    assert 1 <= len(timeouts) <= MAX_GROUP_MEMBERS
    assert all(e.frames[-1].function == "fetch" for e in timeouts)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are Python 3.11+")
def test_exception_group_printed_by_another_process() -> None:
    done = subprocess.run([sys.executable, "-c", GROUP_PROGRAM], capture_output=True, text=True,
                          timeout=60)
    chain = parse_traceback(done.stderr)
    assert chain, done.stderr
    assert chain[-1].type == "ExceptionGroup"
    assert {"RuntimeError", "TimeoutError", "ConnectionResetError"} <= {e.type for e in chain}


def test_exception_group_formatted_in_process_matches_live_capture() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("exception groups are Python 3.11+")

    def run() -> None:
        errors = [raised(lambda: int("x")), raised(lambda: [][1])]
        raise ExceptionGroup("two failed", errors)  # noqa: F821

    assert_text_matches_live(raised(run))


# ---------------------------------------------------------------------------------------------
# Shapes of traceback text
# ---------------------------------------------------------------------------------------------


def test_python_311_position_markers_are_not_source_lines() -> None:
    text = textwrap.dedent("""\
        Traceback (most recent call last):
          File "/opt/airflow/dags/etl/transform.py", line 10, in ratio
            return row["amount"] / row["count"]
                   ~~~~~~~~~~~~~~^~~~~~~~~~~~~~
          File "/opt/airflow/dags/etl/transform.py", line 4, in <module>
            ratio(rows[0])
            ^^^^^^^^^^^^^^
        ZeroDivisionError: division by zero
    """)
    (info,) = parse_traceback(text)
    assert info.type == "ZeroDivisionError"
    assert [f.line for f in info.frames] == ['return row["amount"] / row["count"]', "ratio(rows[0])"]
    assert [f.module for f in info.frames] == ["etl.transform", "etl.transform"]


def test_exception_without_message_and_qualified_types() -> None:
    text = 'Traceback (most recent call last):\n  File "/app/run.py", line 3, in main\n    wait()\nKeyboardInterrupt\n'
    (info,) = parse_traceback(text)
    assert (info.type, info.message) == ("KeyboardInterrupt", "")

    text = ('Traceback (most recent call last):\n  File "/app/run.py", line 3, in main\n'
            '    load()\nsqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection '
            'failed\n[SQL: SELECT 1]\n(Background on this error at: https://sqlalche.me/e/20/e3q8)\n')
    (info,) = parse_traceback(text)
    assert info.type == "sqlalchemy.exc.OperationalError"
    assert info.message.splitlines() == [
        "(psycopg.OperationalError) connection failed", "[SQL: SELECT 1]",
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"]


def test_psycopg_server_error_keeps_its_caret_in_the_message() -> None:
    text = textwrap.dedent("""\
        Traceback (most recent call last):
          File "/opt/airflow/dags/report.py", line 22, in build
            cur.execute("select * from orderz")
          File "/usr/local/lib/python3.11/site-packages/psycopg/cursor.py", line 97, in execute
            raise ex.with_traceback(None)
        psycopg.errors.UndefinedTable: relation "orderz" does not exist
        LINE 1: select * from orderz
                              ^
    """)
    (info,) = parse_traceback(text)
    assert info.type == "psycopg.errors.UndefinedTable"
    assert info.message.splitlines()[1:] == ["LINE 1: select * from orderz", "                      ^"]
    assert [f.in_app for f in info.frames] == [True, False]
    assert info.frames[1].module == "psycopg.cursor"


def test_psycopg2_message_continues_on_a_tab_indented_line() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/etl/jobs/sync.py", line 8, in <module>\n'
        "    conn = psycopg2.connect(dsn)\n"
        "psycopg2.OperationalError: connection to server at \"db\" (10.0.0.5), port 5432 failed: "
        "Connection refused\n"
        "\tIs the server running on that host and accepting TCP/IP connections?\n"
        "\n"
        "Done.\n"
    )
    (info,) = parse_traceback(text)
    assert info.message.endswith("\n\tIs the server running on that host and accepting TCP/IP connections?")
    assert info.frames[0].module == "sync"


def test_cython_frames_are_library_frames_with_their_module() -> None:
    text = textwrap.dedent("""\
        Traceback (most recent call last):
          File "/opt/airflow/dags/orders/load.py", line 37, in load_orders
            frame = pd.read_csv(path)
          File "parsers.pyx", line 890, in pandas._libs.parsers.TextReader._tokenize_rows
          File "parsers.pyx", line 2058, in pandas._libs.parsers.raise_parser_error
        pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8
    """)
    (info,) = parse_traceback(text)
    assert [(f.module, f.in_app) for f in info.frames] == [
        ("orders.load", True), ("pandas._libs.parsers", False), ("pandas._libs.parsers", False)]


def test_syntax_error_location_becomes_a_frame() -> None:
    text = textwrap.dedent("""\
        Traceback (most recent call last):
          File "/usr/local/lib/python3.11/importlib/__init__.py", line 126, in import_module
            return _bootstrap._gcd_import(name[level:], package, level)
          File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
          File "/opt/airflow/dags/orders/broken.py", line 1
            def broken(:
                       ^
        SyntaxError: invalid syntax
    """)
    (info,) = parse_traceback(text)
    assert info.type == "SyntaxError"
    located = info.frames[-1]
    assert (located.function, located.lineno, located.line, located.in_app) == (
        SYNTAX_ERROR_FUNCTION, 1, "def broken(:", True)
    assert [f.in_app for f in info.frames[:2]] == [False, False]
    assert info.frames[1].module == "importlib._bootstrap"


def test_airflow2_log_prefix_on_the_first_line_only() -> None:
    log = textwrap.dedent("""\
        [2024-03-01, 02:00:05 UTC] {taskinstance.py:441} INFO - Dependencies all met
        [2024-03-01, 02:00:06 UTC] {taskinstance.py:2905} ERROR - Traceback (most recent call last):
          File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 465, in _execute_task
            result = _execute_callable(context=context, **execute_callable_kwargs)
          File "/opt/airflow/dags/etl/load.py", line 37, in load_orders
            df = pd.read_csv(path)
        ValueError: bad
        row
        [2024-03-01, 02:00:06 UTC] {taskinstance.py:2905} ERROR - Marking task as FAILED.
    """)
    (info,) = parse_traceback(log)
    assert (info.type, info.message) == ("ValueError", "bad\nrow")
    assert [(f.module, f.in_app) for f in info.frames] == [
        ("airflow.models.taskinstance", False), ("etl.load", True)]


def test_prefect_log_prefix_on_every_line() -> None:
    log = "".join(f"12:00:01.{i:03d} | ERROR   | Task run 'load-0' - {line}\n" for i, line in enumerate([
        "Traceback (most recent call last):",
        '  File "/app/flows/etl.py", line 12, in load',
        "    conn = psycopg.connect(DSN)",
        '  File "/usr/local/lib/python3.12/site-packages/psycopg/connection.py", line 119, in connect',
        "    raise last_ex.with_traceback(None)",
        "psycopg.OperationalError: connection failed: Connection refused",
        "\tIs the server running on that host and accepting TCP/IP connections?",
    ])) + "12:00:01.300 | INFO    | Flow run 'gentle-fox' - Finished in state Failed('x')\n"

    (info,) = parse_traceback(log)
    assert info.type == "psycopg.OperationalError"
    assert info.message == ("connection failed: Connection refused\n"
                            "\tIs the server running on that host and accepting TCP/IP connections?")
    assert [(f.function, f.line, f.in_app) for f in info.frames] == [
        ("load", "conn = psycopg.connect(DSN)", True),
        ("connect", "raise last_ex.with_traceback(None)", False)]


def test_ansi_colours_are_ignored() -> None:
    text = ("\x1b[35mTraceback (most recent call last):\x1b[0m\n"
            '  File \x1b[35m"/app/x.py"\x1b[0m, line \x1b[35m3\x1b[0m, in \x1b[35mrun\x1b[0m\r\n'
            "    \x1b[31mboom()\x1b[0m\n"
            "\x1b[1;35mRuntimeError\x1b[0m: \x1b[35mno\x1b[0m\n")
    (info,) = parse_traceback(text)
    assert (info.type, info.message) == ("RuntimeError", "no")
    assert [(f.filename, f.lineno, f.function, f.line) for f in info.frames] == [
        ("/app/x.py", 3, "run", "boom()")]


def test_the_last_traceback_of_a_log_is_the_failure() -> None:
    log = (
        "WARNING - retrying\nTraceback (most recent call last):\n"
        '  File "/app/a.py", line 1, in first\nTimeoutError: first try\n'
        "INFO - retry 2\nTraceback (most recent call last):\n"
        '  File "/app/a.py", line 9, in second\nConnectionError: second try\n'
        "INFO - giving up\n"
    )
    chain = parse_traceback(log)
    assert [(e.type, e.message) for e in chain] == [("ConnectionError", "second try")]


def test_a_traceback_cut_before_its_exception_line_keeps_its_frames() -> None:
    text = 'Traceback (most recent call last):\n  File "/app/a.py", line 1, in first\n    go()\n'
    (info,) = parse_traceback(text)
    assert info.type == TRUNCATED_TYPE
    assert [f.function for f in info.frames] == ["first"]


def test_a_gap_from_a_log_excerpt_becomes_a_placeholder_frame() -> None:
    text = ('Traceback (most recent call last):\n  File "/app/a.py", line 1, in first\n    go()\n'
            "...\n"
            '  File "/app/b.py", line 5, in last\n    fail()\nValueError: x\n')
    (info,) = parse_traceback(text)
    assert [f.function for f in info.frames] == ["first", PLACEHOLDER_FILENAME, "last"]


def test_windows_paths() -> None:
    text = ('Traceback (most recent call last):\n'
            '  File "C:\\pipelines\\jobs\\load.py", line 3, in main\n    x()\n'
            '  File "C:\\Python311\\Lib\\json\\decoder.py", line 353, in raw_decode\n    y()\n'
            'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n')
    (info,) = parse_traceback(text)
    assert [(f.module, f.in_app) for f in info.frames] == [("load", True), ("json.decoder", False)]


def test_text_without_a_traceback_gives_nothing() -> None:
    assert parse_traceback("") == []
    assert parse_traceback("all good\nnothing failed\n") == []
    assert parse_traceback("Traceback (most recent call last): but nothing follows") == []
    assert parse_traceback(None) == []  # type: ignore[arg-type]
    assert parse_traceback(b"Traceback (most recent call last):\n") == []  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "Traceback (most recent call last):", '  File "/app/a.py", line 3, in f', "    f()",
    "    ^^^^", "ValueError: x", "", "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
    "  + Exception Group Traceback (most recent call last):", "  | ValueError: y",
    "  +-+---------------- 1 ----------------", "    | KeyError: 'k'", "    +------------------------------------",
    "  [Previous line repeated 5 more times]", "[2024-01-01 00:00:00] ERROR - Traceback (most recent call last):",
    "...", "\x1b[31mX\x1b[0m", "\t\x00\ufffd",
]), max_size=40), st.text(max_size=50))
def test_no_text_makes_the_parser_raise(lines: list[str], noise: str) -> None:
    text = "\n".join(lines) + noise
    for chain in (parse_traceback(text), exceptions_from_text(text)):
        assert isinstance(chain, list)
        assert all(isinstance(e.type, str) and isinstance(e.message, str) for e in chain)
