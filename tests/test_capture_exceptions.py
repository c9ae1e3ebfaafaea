"""Live exceptions captured with their chain and frames, as a post-mortem will show them."""

from __future__ import annotations

import io
import sys

import pandas as pd
import psycopg
import pytest

from postmortem_scribe.capture import exception_chain
from postmortem_scribe.capture.exceptions import MAX_CHAIN, MAX_GROUP_MEMBERS, SYNTAX_ERROR_FUNCTION
from postmortem_scribe.capture.frames import MAX_FRAMES, PLACEHOLDER_FILENAME
from postmortem_scribe.records import ExceptionInfo, from_json, to_json


def raised(fn):
    """The exception ``fn`` raises."""
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def load_orders(path: str) -> None:
    try:
        open(path, encoding="utf-8").close()
    except FileNotFoundError as exc:
        raise RuntimeError(f"cannot load orders from {path}") from exc


def test_explicit_cause_is_listed_root_cause_first() -> None:
    chain = exception_chain(raised(lambda: load_orders("/nonexistent/orders.csv")))

    assert [e.type for e in chain] == ["FileNotFoundError", "RuntimeError"]
    assert [e.relation for e in chain] == ["cause", "root"]
    assert "No such file or directory" in chain[0].message
    assert chain[1].message == "cannot load orders from /nonexistent/orders.csv"
    # The frame that raised the RuntimeError is ours, with its source line.
    top = chain[1].frames[-1]
    assert top.function == "load_orders"
    assert top.in_app is True
    assert top.line == 'raise RuntimeError(f"cannot load orders from {path}") from exc'
    assert top.module == __name__
    assert top.filename == __file__
    assert isinstance(top.lineno, int)


def test_implicit_context_is_listed_with_relation_context() -> None:
    def handler() -> None:
        try:
            {}["customer_id"]
        except KeyError:
            raise ValueError("row 3 has no customer")  # noqa: B904 - the implicit context is the point

    chain = exception_chain(raised(handler))

    assert [(e.type, e.relation) for e in chain] == [("KeyError", "context"), ("ValueError", "root")]
    assert chain[0].message == "'customer_id'"


def test_suppressed_context_is_left_out() -> None:
    def handler() -> None:
        try:
            int("x")
        except ValueError:
            raise LookupError("no such customer") from None

    chain = exception_chain(raised(handler))

    assert [(e.type, e.relation, e.message) for e in chain] == [("LookupError", "root", "no such customer")]


def test_an_exception_whose_str_raises_still_gives_type_and_frames() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    class NotAString(Exception):
        def __str__(self):  # type: ignore[override]
            return 42

    for cls in (Unprintable, NotAString):
        def boom(cls: type[Exception] = cls) -> None:
            raise cls()

        (info,) = exception_chain(raised(boom))
        assert info.type.endswith(cls.__qualname__)
        assert info.message == "<exception str() failed>"  # what CPython prints
        assert info.frames[-1].function == "boom"


def test_notes_follow_the_message() -> None:
    def boom() -> None:
        exc = ValueError("bad row")
        exc.add_note("while reading orders.csv")
        raise exc

    (info,) = exception_chain(raised(boom))
    assert info.message == "bad row\nwhile reading orders.csv"


def test_types_are_qualified_except_builtins() -> None:
    class LocalError(Exception):
        pass

    def boom() -> None:
        raise LocalError("x")

    (info,) = exception_chain(raised(boom))
    assert info.type == f"{__name__}.{LocalError.__qualname__}"
    assert ".<locals>." in info.type
    (builtin,) = exception_chain(raised(lambda: int("x")))
    assert builtin.type == "ValueError"


def test_recursion_is_cut_like_cpython_prints_it() -> None:
    def recurse(n: int) -> int:
        return recurse(n + 1)

    (info,) = exception_chain(raised(lambda: recurse(0)))

    assert info.type == "RecursionError"
    assert len(info.frames) <= MAX_FRAMES + 1
    recursive = [f for f in info.frames if f.function == "recurse"]
    assert len(recursive) == 3
    placeholder = info.frames[-1]
    assert placeholder.filename == PLACEHOLDER_FILENAME
    assert placeholder.in_app is False
    assert placeholder.line is not None
    assert placeholder.line.startswith("[Previous line repeated ")
    assert placeholder.line.endswith(" more times]")


def test_a_deep_stack_keeps_its_outer_and_inner_frames() -> None:
    depth = 150
    source = "\n".join(
        [f"def f{i}():\n    return f{i + 1}()" for i in range(depth)]
        + [f"def f{depth}():\n    raise ValueError('deep')"]
    )
    namespace: dict[str, object] = {"__name__": "deep_module"}
    exec(compile(source, "/srv/pipelines/deep_module.py", "exec"), namespace)

    (info,) = exception_chain(raised(namespace["f0"]))  # type: ignore[arg-type]

    assert len(info.frames) == MAX_FRAMES + 1
    functions = [f.function for f in info.frames]
    assert functions[0] == "raised"
    assert functions[-1] == f"f{depth}"
    omitted = [f for f in info.frames if f.filename == PLACEHOLDER_FILENAME]
    assert len(omitted) == 1
    assert omitted[0].line == f"[{depth + 2 - MAX_FRAMES} frames omitted]"


def test_a_long_chain_keeps_both_ends() -> None:
    def chained(n: int) -> None:
        if n == 0:
            raise KeyError("the root cause")
        try:
            chained(n - 1)
        except Exception as exc:
            raise RuntimeError(f"level {n}") from exc

    chain = exception_chain(raised(lambda: chained(25)))

    assert len(chain) == MAX_CHAIN
    assert chain[0].type == "KeyError"
    assert chain[-1].message == "level 25"
    assert chain[-1].relation == "root"


def test_cycles_in_the_chain_terminate() -> None:
    first, second = ValueError("first"), KeyError("second")
    first.__context__ = second
    second.__context__ = first

    chain = exception_chain(first)

    assert [(e.type, e.relation) for e in chain] == [("KeyError", "context"), ("ValueError", "root")]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are Python 3.11+")
def test_exception_group_members_come_before_the_group() -> None:
    def load(n: int) -> None:
        try:
            raise ConnectionRefusedError(f"db{n} refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError(f"load {n} failed") from exc

    def run_all() -> None:
        errors = [raised(lambda n=n: load(n)) for n in range(5)]
        raise ExceptionGroup("5 loads failed", errors)  # noqa: F821 - builtin on 3.11+

    chain = exception_chain(raised(run_all))

    assert chain[-1].type == "ExceptionGroup"
    assert chain[-1].message == "5 loads failed (5 sub-exceptions)"
    assert chain[-1].relation == "root"
    members = chain[:-1]
    assert [e.type for e in members] == ["ConnectionRefusedError", "RuntimeError"] * MAX_GROUP_MEMBERS
    assert [e.relation for e in members] == ["cause", "cause"] * MAX_GROUP_MEMBERS
    assert [e.message for e in members if e.type == "RuntimeError"] == [
        "load 0 failed", "load 1 failed", "load 2 failed"]


def test_syntax_error_points_at_the_file_that_failed_to_compile() -> None:
    def compile_dag() -> None:
        compile("def broken(:\n    pass\n", "/opt/airflow/dags/orders/broken.py", "exec")

    (info,) = exception_chain(raised(compile_dag))

    assert info.type == "SyntaxError"
    located = info.frames[-1]
    assert located.function == SYNTAX_ERROR_FUNCTION
    assert located.filename == "/opt/airflow/dags/orders/broken.py"
    assert located.lineno == 1
    assert located.line == "def broken(:"
    assert located.module == "orders.broken"
    assert located.in_app is True


def test_a_real_pandas_parser_error() -> None:
    def read_orders() -> None:
        pd.read_csv(io.StringIO("id,amount\n1,10\n2,20,oops\n"))

    (info,) = exception_chain(raised(read_orders))

    assert info.type == "pandas.errors.ParserError"
    assert info.message == "Error tokenizing data. C error: Expected 2 fields in line 3, saw 3"
    in_app = [f.function for f in info.frames if f.in_app]
    assert in_app == ["raised", "read_orders"]
    library = [f for f in info.frames if not f.in_app]
    assert library and all(f.module and f.module.startswith("pandas") for f in library)


def test_a_real_psycopg_connection_error() -> None:
    def connect() -> None:
        psycopg.connect("host=127.0.0.1 port=1 dbname=orders connect_timeout=3")

    chain = exception_chain(raised(connect))

    assert chain[-1].type == "psycopg.OperationalError"
    assert "127.0.0.1" in chain[-1].message and "port 1" in chain[-1].message
    assert any(f.function == "connect" and f.in_app for f in chain[-1].frames)
    assert any(f.module and f.module.startswith("psycopg") and not f.in_app for f in chain[-1].frames)


def test_app_roots_claim_library_frames_as_the_pipelines_own() -> None:
    def read_orders() -> None:
        pd.read_csv(io.StringIO("id,amount\n1,10\n2,20,oops\n"))

    exc = raised(read_orders)
    by_module = exception_chain(exc, app_roots=["pandas"])
    by_path = exception_chain(exc, app_roots=[pd.__file__.rsplit("/", 1)[0]])

    for chain in (by_module, by_path):
        assert any(f.in_app and (f.module or "").startswith("pandas") for f in chain[-1].frames)


def test_an_airflow_dag_module_gets_the_name_a_printed_traceback_gives() -> None:
    # Airflow 2 imports DAG files as "unusual_prefix_<sha1>_<stem>".
    namespace: dict[str, object] = {"__name__": "unusual_prefix_" + "ab" * 20 + "_load"}
    exec(compile("def load():\n    raise ValueError('bad')\n", "/opt/airflow/dags/etl/load.py", "exec"),
         namespace)

    (info,) = exception_chain(raised(namespace["load"]))  # type: ignore[arg-type]

    frame = info.frames[-1]
    assert frame.module == "etl.load"
    assert frame.in_app is True
    assert frame.line is None  # the file does not exist here


def test_bad_input_gives_an_empty_chain() -> None:
    assert exception_chain(None) == []  # type: ignore[arg-type]
    assert exception_chain("ValueError: x") == []  # type: ignore[arg-type]

    class HostileNotes(Exception):
        @property
        def __notes__(self):  # type: ignore[override]
            raise RuntimeError("no notes")

    (info,) = exception_chain(raised(lambda: (_ for _ in ()).throw(HostileNotes("still here"))))
    assert info.message == "still here"


def test_an_unraised_exception_has_no_frames() -> None:
    (info,) = exception_chain(ValueError("never raised"))
    assert info == ExceptionInfo(type="ValueError", message="never raised", frames=[], relation="root")


def test_the_chain_round_trips_through_json() -> None:
    chain = exception_chain(raised(lambda: load_orders("/nonexistent/orders.csv")))
    restored = [from_json(ExceptionInfo, to_json(e)) for e in chain]
    assert restored == chain
