"""Log excerpts: the tail and the lines around errors, bounded, from files of any size and shape."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postmortem_scribe.capture import excerpt_from_file, excerpt_from_lines, read_tail_text
from postmortem_scribe.capture.logs import GAP

MB = 1024 * 1024


def info(n: int) -> str:
    return (f"[2026-03-01T02:{n // 60 % 60:02d}:{n % 60:02d}.000+0000] {{processor.py:88}} INFO - "
            f"Processed batch {n} of orders (5000 rows)\n")


FAILURE = """\
[2026-03-01T02:59:58.101+0000] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/opt/airflow/dags/orders/load.py", line 37, in load_orders
    frame = pd.read_csv(path)
pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8
[2026-03-01T02:59:58.140+0000] {taskinstance.py:1206} INFO - Marking task as FAILED.
"""


def write(path: Path, text: str | bytes) -> str:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


def payload_bytes(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def test_a_short_log_is_shown_whole(tmp_path: Path) -> None:
    text = "".join(info(n) for n in range(5)) + FAILURE
    excerpt = excerpt_from_file(write(tmp_path / "task.log", text))

    assert excerpt.problem is None
    assert excerpt.lines == text.splitlines()
    assert excerpt.truncated is False
    assert excerpt.total_bytes == len(text)
    assert excerpt.source == str(tmp_path / "task.log")
    flagged = [excerpt.lines[i] for i in excerpt.error_lines]
    assert flagged == [
        "[2026-03-01T02:59:58.101+0000] {taskinstance.py:2905} ERROR - Task failed with exception",
        "Traceback (most recent call last):",
        "pandas.errors.ParserError: Error tokenizing data. C error: Expected 7 fields in line 5120, saw 8",
    ]


def test_a_200_mb_log_is_read_from_its_end_only(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    block = "".join(info(n) for n in range(8000)).encode()  # about 0.7 MB of ordinary lines
    with open(path, "wb") as handle:
        # An early failure that is not the one that ended the task; finding it would mean the
        # whole file was read.  The middle is a hole (sparse, so the test stays fast); the last
        # 6 MB or so are ordinary lines and the failure.
        handle.write(b"[2026-03-01T00:00:00.000+0000] {x.py:1} ERROR - EARLY problem\n")
        handle.truncate(195 * MB)
        handle.seek(195 * MB)
        handle.write(b"\n")
        while handle.tell() < 200 * MB:
            handle.write(block)
        handle.write(FAILURE.encode() + "".join(info(n) for n in range(3)).encode())
    size = path.stat().st_size
    assert size > 200 * MB

    excerpt = excerpt_from_file(str(path))

    assert excerpt.total_bytes == size
    assert excerpt.truncated is True
    assert excerpt.lines[0] == GAP
    assert not any("EARLY" in line for line in excerpt.lines)
    assert len(excerpt.lines) <= 400
    assert payload_bytes(excerpt.lines) <= 65536
    tail = excerpt.lines[-9:]
    assert tail[0] == "[2026-03-01T02:59:58.101+0000] {taskinstance.py:2905} ERROR - Task failed with exception"
    assert tail[-1] == info(2).rstrip("\n")
    assert any(excerpt.lines[i].startswith("pandas.errors.ParserError") for i in excerpt.error_lines)


def test_an_error_far_above_the_tail_is_found_with_its_context(tmp_path: Path) -> None:
    frames = "".join(f'  File "/opt/airflow/dags/orders/step{n}.py", line {n}, in step{n}\n    step{n + 1}()\n'
                     for n in range(80))
    traceback_text = ("[2026-03-01T02:00:00.000+0000] {taskinstance.py:2905} ERROR - Task failed with "
                      "exception\nTraceback (most recent call last):\n" + frames +
                      "ValueError: row 17 has no customer\n")
    text = ("".join(info(n) for n in range(50)) + traceback_text
            + "".join(info(n) for n in range(1000, 1500)))
    excerpt = excerpt_from_file(write(tmp_path / "task.log", text))

    lines = excerpt.lines
    assert "Traceback (most recent call last):" in lines
    assert "ValueError: row 17 has no customer" in lines
    # Context before the error, a gap between the error and the tail, the tail itself.
    header = lines.index("Traceback (most recent call last):")
    assert lines[header - 1].endswith("ERROR - Task failed with exception")
    assert lines[header - 6] == GAP
    assert lines[-1] == info(1499).rstrip("\n")
    assert len([line for line in lines if line.startswith("[2026") and "INFO" in line]) >= 60
    assert lines.count(GAP) >= 3


def test_a_log_with_no_newline_at_all_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "one-line.log"
    suffix = b" ERROR: out of disk"
    with open(path, "wb") as handle:
        handle.write(b"x" * MB)
        handle.truncate(49 * MB)  # a hole of NULs: still no newline, and quick to make
        handle.seek(49 * MB)
        handle.write(b"y" * (MB - len(suffix)) + suffix)

    excerpt = excerpt_from_file(str(path), max_bytes=4096)

    assert excerpt.problem is None
    assert excerpt.total_bytes == 50 * MB
    assert excerpt.truncated is True
    assert payload_bytes(excerpt.lines) <= 4096
    (line,) = [line for line in excerpt.lines if line != GAP]
    assert line.startswith("…") and line.endswith("yyy ERROR: out of disk")
    assert excerpt.error_lines == [excerpt.lines.index(line)]


def test_a_sparse_file_with_a_hole_before_its_last_lines(tmp_path: Path) -> None:
    path = tmp_path / "sparse.log"
    with open(path, "wb") as handle:
        handle.truncate(200 * MB)  # reads as NUL bytes, costs no disk
        handle.seek(200 * MB)
        handle.write(b"\n" + FAILURE.encode())

    excerpt = excerpt_from_file(str(path))

    assert excerpt.total_bytes == 200 * MB + 1 + len(FAILURE)
    assert excerpt.lines[-6:] == FAILURE.splitlines()
    assert excerpt.lines[:2] == [GAP, "…"]  # the end of the hole, whose start was never read
    assert all("\x00" not in line for line in excerpt.lines)
    assert payload_bytes(excerpt.lines) <= 65536


def test_ansi_colours_and_control_characters_are_removed(tmp_path: Path) -> None:
    text = ("\x1b[32m12:00:00.000 | INFO    | Flow run 'gentle-fox' - Beginning flow run\x1b[0m\n"
            "\x1b[31m12:00:01.000 | ERROR   | Task run 'load-0' - Finished in state Failed()\x1b[0m\r\n"
            "downloading 10%\r downloading 100%\n"
            "\x1b]8;;https://example.com\x07link\x1b]8;;\x07 and a bell\x07\n")
    excerpt = excerpt_from_file(write(tmp_path / "flow.log", text))

    assert excerpt.lines == [
        "12:00:00.000 | INFO    | Flow run 'gentle-fox' - Beginning flow run",
        "12:00:01.000 | ERROR   | Task run 'load-0' - Finished in state Failed()",
        " downloading 100%",
        "link and a bell",
    ]
    assert excerpt.error_lines == [1]


def test_invalid_utf8_is_replaced_not_an_error(tmp_path: Path) -> None:
    data = b"INFO - caf\xc3\xa9 ok\nERROR - bad byte \xff\xfe here\n\xe2\x82 cut char\n"
    excerpt = excerpt_from_file(write(tmp_path / "latin.log", data))

    assert excerpt.problem is None
    assert excerpt.lines[0] == "INFO - café ok"
    assert excerpt.lines[1] == "ERROR - bad byte \ufffd\ufffd here"
    assert excerpt.lines[2].endswith(" cut char") and "\ufffd" in excerpt.lines[2]
    assert excerpt.error_lines == [1]


def test_crlf_line_endings(tmp_path: Path) -> None:
    excerpt = excerpt_from_file(write(tmp_path / "win.log", "INFO - a\r\nERROR - b\r\n"))
    assert excerpt.lines == ["INFO - a", "ERROR - b"]


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "dag_id=orders" / "attempt=1.log"
    excerpt = excerpt_from_file(str(missing))
    assert excerpt.problem == f"log file {missing} does not exist; expected the task's log file"
    assert excerpt.lines == [] and excerpt.source == str(missing)

    through_a_file = tmp_path / "plain.txt"
    through_a_file.write_text("x")
    assert "does not exist" in (excerpt_from_file(str(through_a_file / "attempt=1.log")).problem or "")


def test_a_directory_says_so(tmp_path: Path) -> None:
    excerpt = excerpt_from_file(str(tmp_path))
    assert excerpt.problem is not None
    assert excerpt.problem.startswith(f"log file {tmp_path} is a directory; expected the task's log file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    excerpt = excerpt_from_file(str(fifo))  # opening it would block forever
    assert excerpt.problem == f"log file {fifo} is not a regular file; expected the task's log file"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root may read anything")
def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "secret.log"
    path.write_text("ERROR - x\n")
    path.chmod(0)
    try:
        assert "permission denied" in (excerpt_from_file(str(path)).problem or "")
    finally:
        path.chmod(0o644)


def test_an_empty_file_and_no_path(tmp_path: Path) -> None:
    empty = excerpt_from_file(write(tmp_path / "empty.log", b""))
    assert (empty.lines, empty.error_lines, empty.total_bytes, empty.truncated, empty.problem) == (
        [], [], 0, False, None)

    for nothing in (None, "", 42):
        excerpt = excerpt_from_file(nothing)  # type: ignore[arg-type]
        assert excerpt.problem == "no log file was given; expected the path of the task's log file"


def test_budgets_are_respected(tmp_path: Path) -> None:
    noisy = "".join(info(n) if n % 7 else f"ERROR - failure number {n} " + "z" * 300 + "\n" for n in range(5000))
    path = write(tmp_path / "noisy.log", noisy)

    for max_bytes, max_lines in ((65536, 400), (2000, 400), (65536, 30), (300, 3)):
        excerpt = excerpt_from_file(path, max_bytes=max_bytes, max_lines=max_lines)
        assert len(excerpt.lines) <= max_lines
        assert payload_bytes(excerpt.lines) <= max_bytes
        assert excerpt.truncated is True
        # Whatever fits, the last line of the log is there.
        assert excerpt.lines[-1] == info(4999).rstrip("\n")
        assert all(0 <= i < len(excerpt.lines) and excerpt.lines[i] != GAP for i in excerpt.error_lines)


def test_nonsense_limits_fall_back_to_sane_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "task.log", FAILURE)
    excerpt = excerpt_from_file(path, max_bytes="lots", tail_lines=-5, context_lines=None,  # type: ignore[arg-type]
                                max_lines=0)
    assert excerpt.problem is None
    assert excerpt.lines[-1] == FAILURE.splitlines()[-1]


def test_read_tail_text(tmp_path: Path) -> None:
    path = write(tmp_path / "task.log", "".join(info(n) for n in range(1000)) + "\x1b[31mERROR - end\x1b[0m\n")
    tail = read_tail_text(path, 500)
    assert tail.endswith("ERROR - end\n")
    assert len(tail) <= 500
    assert tail.startswith("[2026")  # the cut first line is dropped
    assert read_tail_text(str(tmp_path / "missing.log")) == ""
    assert read_tail_text(str(tmp_path)) == ""


# ---------------------------------------------------------------------------------------------
# Lines already in memory
# ---------------------------------------------------------------------------------------------


def test_lines_in_memory_get_the_same_excerpt_as_the_file(tmp_path: Path) -> None:
    text = "".join(info(n) for n in range(300)) + FAILURE + "".join(info(n) for n in range(400, 700))
    from_file = excerpt_from_file(write(tmp_path / "task.log", text))
    from_lines = excerpt_from_lines(text.splitlines())

    assert from_lines.lines == from_file.lines
    assert from_lines.error_lines == from_file.error_lines
    assert from_lines.source == "lines"
    assert from_lines.truncated is True


def test_records_holding_newlines_count_as_several_lines() -> None:
    records = ["INFO - start", FAILURE.rstrip("\n"), b"INFO - bytes \xff", 42, None]
    excerpt = excerpt_from_lines(records)  # type: ignore[list-item]

    assert excerpt.lines == ["INFO - start", *FAILURE.rstrip("\n").split("\n"), "INFO - bytes \ufffd", "42", ""]
    assert excerpt.problem is None


def test_lines_input_that_is_not_a_list() -> None:
    assert excerpt_from_lines("ERROR - one string\nINFO - two").lines == ["ERROR - one string", "INFO - two"]
    assert excerpt_from_lines(iter(["ERROR - x"])).lines == ["ERROR - x"]  # type: ignore[arg-type]
    assert excerpt_from_lines([]).lines == []
    assert excerpt_from_lines(None).problem is None  # type: ignore[arg-type]


_LINE = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["ERROR - boom", "Traceback (most recent call last):", '  File "/a.py", line 1, in f',
                     "ValueError: x", GAP, "", '{"level": "error", "event": "x", "error_detail": [{"exc_type": "E"}]}',
                     "\x1b[31mred\x1b[0m", "a\rb", "\x00\x00"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINE, max_size=120), st.integers(min_value=-5, max_value=5000),
       st.integers(min_value=-5, max_value=500))
def test_any_lines_give_a_bounded_excerpt(lines: list[str], max_bytes: int, max_lines: int) -> None:
    excerpt = excerpt_from_lines(lines, max_bytes=max_bytes, max_lines=max_lines, tail_lines=20)

    assert excerpt.problem is None
    assert len(excerpt.lines) <= max(3, max_lines)
    assert payload_bytes(excerpt.lines) <= max(256, max_bytes)
    assert all(0 <= i < len(excerpt.lines) for i in excerpt.error_lines)
    assert all("\x1b" not in line and "\x00" not in line for line in excerpt.lines)
