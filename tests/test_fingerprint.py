"""Fingerprints: the same failure groups together, different failures stay apart."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from postmortem_scribe.classify import record_from_text
from postmortem_scribe.fingerprint import bands, fingerprint, normalize_message, similarity
from postmortem_scribe.records import ExceptionInfo, FailureRecord, Frame


def _record(exceptions=(), **kw) -> FailureRecord:
    base = dict(pipeline="etl", task="load", orchestrator="airflow", occurrence_key="k")
    base.update(kw)
    return FailureRecord(exceptions=list(exceptions), **base)


def _tb(root: str, line: int, func: str = "load", py: str = "3.11", msg_line: int = 5) -> str:
    return (
        "Traceback (most recent call last):\n"
        f'  File "{root}/dags/etl.py", line {line}, in {func}\n'
        "    df = pd.read_csv(path)\n"
        f'  File "{root}/venv/lib/python{py}/site-packages/pandas/io/parsers/readers.py", line {line * 7}, in read_csv\n'
        "    return _read(filepath_or_buffer, kwds)\n"
        f"pandas.errors.ParserError: Error tokenizing data. C error: Expected 3 fields in line {msg_line}, saw 4\n"
    )


# ---------------------------------------------------------------------------------- normalize


def test_normalize_replaces_variable_parts():
    cases = {
        "Expected 3 fields in line 5, saw 4": "Expected <num> fields in line <num>, saw <num>",
        "KeyError: 'customer_id'": "KeyError: <str>",
        "No such file or directory: /data/in/2024-01-02/orders.csv": "No such file or directory: <path>",
        "object at 0x7f3a2b1c4d50": "object at <hex>",
        "run manual__2024-05-01T10:00:00+00:00 failed": "run manual__<ts> failed",
        "request 123e4567-e89b-12d3-a456-426614174000": "request <uuid>",
        "Unable to allocate 1.5 GiB for an array": "Unable to allocate <size> for an array",
        "GET https://api.example.com/v1/x?y=1 failed": "GET <url> failed",
        "host 10.0.0.12:5432 refused": "host <ip> refused",
        "mail bob@example.com bounced": "mail <email> bounced",
        "Task timed out after 3600.0 seconds": "Task timed out after <num> seconds",
        "open('C:\\\\data\\\\x.csv')": "open(<path>)",
    }
    for raw, expected in cases.items():
        assert normalize_message(raw) == expected, raw


def test_normalize_keeps_type_names_and_drops_version_specific_suggestions():
    assert normalize_message("dtype int64 utf8 s3") == "dtype int64 utf8 s3"
    assert normalize_message("name 'fo' is not defined. Did you mean: 'for'?") == "name <str> is not defined"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalize_never_raises_and_is_idempotent(text):
    once = normalize_message(text)
    assert isinstance(once, str)
    assert normalize_message(once) == once


# ---------------------------------------------------------------------------------- key


def test_same_failure_on_another_host_line_and_python_patch_gives_same_key():
    a = fingerprint(record_from_text(_tb("/opt/airflow", 12, py="3.11")))
    b = fingerprint(record_from_text(_tb("/home/ci/work", 40, py="3.12", msg_line=991)))
    assert a.basis == "type+frames+message"
    assert a.key == b.key
    assert len(a.key) == 32 and int(a.key, 16) >= 0
    assert a.normalized_message == "Error tokenizing data. C error: Expected <num> fields in line <num>, saw <num>"


def test_different_in_app_function_or_type_gives_different_key():
    a = fingerprint(record_from_text(_tb("/opt/airflow", 12, func="load")))
    b = fingerprint(record_from_text(_tb("/opt/airflow", 12, func="load_customers")))
    c = fingerprint(record_from_text(_tb("/opt/airflow", 12).replace("ParserError", "EmptyDataError")))
    assert len({a.key, b.key, c.key}) == 3


def test_comprehension_frames_and_recursion_do_not_change_the_key():
    frames = [Frame("/app/etl.py", 3, "run"), Frame("/app/etl.py", 4, "walk"), Frame("/app/etl.py", 4, "walk")]
    more = [Frame("/app/etl.py", 9, "run"), Frame("/app/etl.py", 10, "<listcomp>"),
            Frame("/app/etl.py", 11, "walk"), Frame("/app/etl.py", 11, "walk"), Frame("/app/etl.py", 11, "walk")]
    a = fingerprint(_record([ExceptionInfo("KeyError", "'id'", frames)]))
    b = fingerprint(_record([ExceptionInfo("KeyError", "'id'", more)]))
    assert a.key == b.key


def test_no_in_app_frames_uses_innermost_library_frames():
    lib = [Frame(f"/usr/lib/python3.11/site-packages/airflow/m{i}.py", i, f"f{i}", in_app=False)
           for i in range(8)]
    a = fingerprint(_record([ExceptionInfo("sqlalchemy.exc.OperationalError", "database is locked", lib)]))
    b = fingerprint(_record([ExceptionInfo("sqlalchemy.exc.OperationalError", "database is locked",
                                           [Frame("/x/site-packages/airflow/other.py", 1, "entry", in_app=False), *lib[4:]])]))
    assert a.basis == b.basis == "type+library-frames+message+task"
    assert a.key == b.key  # the outer frames (how deep the caller was) do not matter


def test_frameless_exception_key_includes_the_task():
    exc = [ExceptionInfo("ValueError", "bad row 17")]
    a = fingerprint(_record(exc, pipeline="etl", task="load"))
    b = fingerprint(_record([ExceptionInfo("ValueError", "bad row 93")], pipeline="etl", task="load"))
    c = fingerprint(_record(exc, pipeline="billing", task="load"))
    assert a.basis == "type+message+task"
    assert a.key == b.key and a.key != c.key


def test_killed_without_traceback_groups_per_task_not_across_pipelines():
    def killed(pipeline, ts):
        return _record(pipeline=pipeline, state="failed", error_text=None,
                       notes=["the task process exited with signal 9"],
                       log=None, started_at=ts)
    a = fingerprint(killed("etl", "2024-01-01T00:00:00Z"))
    b = fingerprint(killed("etl", "2024-01-02T00:00:00Z"))
    c = fingerprint(killed("billing", "2024-01-01T00:00:00Z"))
    assert a.basis == "log+state+task"
    assert a.key == b.key != c.key


def test_log_only_text_groups_on_error_lines_without_timestamps():
    a = fingerprint(record_from_text("[2024-01-01T10:00:00Z] {local_task_job.py:211} INFO - Task exited with return code Negsignal.SIGKILL"))
    b = fingerprint(record_from_text("[2024-03-09T22:13:07Z] {local_task_job_runner.py:240} INFO - Task exited with return code Negsignal.SIGKILL"))
    c = fingerprint(record_from_text("[2024-03-09T22:13:07Z] {local_task_job_runner.py:240} INFO - Task exited with return code 1"))
    assert a.key == b.key != c.key


def test_nothing_known_still_gives_a_key():
    fp = fingerprint(_record(state="crashed"))
    assert fp.basis == "state+task" and len(fp.key) == 32
    broken = fingerprint(None)  # type: ignore[arg-type]
    assert broken.key and "fingerprint failed" in broken.basis


# ---------------------------------------------------------------------------------- similarity


def test_signatures_estimate_similarity_and_band():
    a = fingerprint(record_from_text(_tb("/opt/airflow", 12))).signature
    b = fingerprint(record_from_text(_tb("/opt/airflow", 12, func="load_customers"))).signature
    c = fingerprint(record_from_text(
        "Traceback (most recent call last):\n"
        '  File "/srv/app/push.py", line 8, in push\n'
        "    r.raise_for_status()\n"
        "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://x.example/api\n"
    )).signature
    assert len(a) == 128
    assert similarity(a, a) == 1.0
    assert similarity(a, b) > 0.6 > similarity(a, c)
    assert similarity([], a) == 0.0
    band_a, band_b = bands(a), bands(b)
    assert len(band_a) == 32 and len(set(band_a)) == 32
    assert set(band_a) & set(band_b)  # near repeats share a band and are found by the index
    assert not set(band_a) & set(bands(c))
    assert bands([]) == []


def test_live_and_printed_frames_of_the_same_code_agree():
    # Airflow imports a DAG file as "unusual_prefix_<sha1 of its path>_etl"; a printed traceback
    # only has the file name.  Both, on any host, must give one key.
    live = [Frame("/opt/airflow/dags/etl.py", 12, "load", module="unusual_prefix_3f2a9c_etl")]
    other_host = [Frame("/usr/local/airflow/dags/etl.py", 14, "load", module="unusual_prefix_77b1e0_etl")]
    printed = [Frame("/home/ci/dags/etl.py", 12, "load", module="etl")]
    keys = {fingerprint(_record([ExceptionInfo("KeyError", "'id'", f)])).key for f in (live, other_host, printed)}
    assert len(keys) == 1
