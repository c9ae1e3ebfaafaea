"""End to end through the public API: what a user finds in the draft after a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import postmortem_scribe
from postmortem_scribe.store import open_store

JOB_TEMPLATE = '''{padding}
def load_orders(path):
    with open(path) as fh:
        header = fh.readline().split(",")
        for n, line in enumerate(fh, 2):
            if len(line.split(",")) != len(header):
                raise ValueError(f"Expected {{len(header)}} fields in line {{n}}, saw {{len(line.split(','))}}")
'''


def run_job(tmp_path: Path, csv_path: Path, padding_lines: int) -> BaseException:
    """Run a small job from a real source file; a different padding moves every line number."""
    source = JOB_TEMPLATE.format(padding="\n" * padding_lines)
    # The same job file on two hosts / two deploys: only the line numbers differ.
    job_file = tmp_path / f"deploy_{padding_lines}" / "orders_job.py"
    job_file.parent.mkdir(exist_ok=True)
    job_file.write_text(source)
    namespace = {"__name__": "orders_job"}
    exec(compile(source, str(job_file), "exec"), namespace)
    try:
        namespace["load_orders"](str(csv_path))
    except ValueError as exc:
        return exc
    raise AssertionError("the job should have failed")


def write_csv(path: Path, bad_line: int) -> Path:
    rows = ["order_id,customer,amount,currency"]
    for i in range(2, 120):
        rows.append(f"{i},ACME,19.90,EUR,PROMO10" if i == bad_line else f"{i},c{i},10.50,EUR")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def config(make_config, tmp_path):
    return make_config(default_lead="data-oncall")


def seen(path: str | Path) -> str:
    """The draft as a person reads it on GitHub: Markdown rendered, tags and escapes gone."""
    import html
    import re

    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(Path(path).read_text())
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def drafts(config) -> list[Path]:
    return sorted(Path(config.output_dir).glob("*.md"))


def test_same_failure_twice_gives_one_draft_that_records_the_repeat(tmp_path, config) -> None:
    log = tmp_path / "task.log"
    log.write_text("INFO starting\nERROR - load failed\n")
    outcomes = []
    for run, (padding, bad_line) in enumerate([(0, 57), (9, 91)], 1):
        csv_path = write_csv(tmp_path / f"orders{run}.csv", bad_line)
        exc = run_job(tmp_path, csv_path, padding)
        outcomes.append(postmortem_scribe.report(
            exc, pipeline="nightly_orders", task="load_orders", run_id=f"run-{run}",
            try_number=1, max_tries=2, log_file=str(log), inputs=[str(csv_path)],
            config=config))
    assert [o.action for o in outcomes] == ["opened", "commented"], [o.message for o in outcomes]
    assert outcomes[0].incident == outcomes[1].incident
    assert outcomes[0].fingerprint == outcomes[1].fingerprint
    (draft,) = drafts(config)
    text = draft.read_text()
    assert outcomes[0].path == str(draft.resolve())
    assert "<!-- postmortem-scribe incident=" in text
    assert "Seen again" in text
    assert "Seen 2 times" in text  # the recurrence line was refreshed
    assert "run-2" in text


def test_the_draft_names_everything_an_on_call_engineer_collects(tmp_path, config) -> None:
    csv_path = write_csv(tmp_path / "orders.csv", 57)
    log = tmp_path / "attempt=2.log"
    log.write_text("[02:00] INFO - reading orders\n[02:01] ERROR - Task failed with exception\n")
    exc = run_job(tmp_path, csv_path, 0)
    outcome = postmortem_scribe.report(
        exc, pipeline="nightly_orders", task="load_orders", run_id="scheduled__2026-11-27",
        try_number=2, max_tries=2, log_file=str(log), inputs=[str(csv_path)],
        owner="analytics", tags=["orders"], run_url="https://airflow.example/dags/nightly_orders",
        config=config)
    assert outcome.action == "opened", outcome.message
    assert outcome.category == "data_format"
    text = seen(outcome.path)
    for expected in ("nightly_orders", "load_orders", "scheduled__2026-11-27", "try 2 of 2",
                     "ValueError", "Expected 4 fields in line 57, saw 5", "Task failed with exception",
                     str(csv_path), "PROMO10", "Status\nDraft", "@data-oncall",
                     "Action items", "Timeline", "Impact", "Stack trace",
                     "line 57 (record 56) has 5 fields but the header has 4"):
        assert expected in text, f"{expected!r} missing from the draft"
    assert "be more careful" not in text.lower()


def test_bad_inputs_end_in_clear_messages_not_exceptions(tmp_path, make_config) -> None:
    bad_config = tmp_path / "broken.toml"
    bad_config.write_text("[github\n")
    os.environ["SCRIBE_CONFIG"] = str(bad_config)
    try:
        config = postmortem_scribe.load_config(overrides={
            "store_url": f"sqlite:///{tmp_path / 's.sqlite'}", "output_dir": str(tmp_path / "d")})
    finally:
        del os.environ["SCRIBE_CONFIG"]
    latin1_log = tmp_path / "latin1.log"
    latin1_log.write_bytes("ERROR caf\xe9 \xff\xfe broken\n".encode("latin-1"))
    cases = {
        "missing-log": dict(error="ValueError: x", log_file=str(tmp_path / "nope.log")),
        "directory-log": dict(error="ValueError: y", log_file=str(tmp_path)),
        "non-utf8-log": dict(error="ValueError: z", log_file=str(latin1_log)),
        "missing-input": dict(error="KeyError: 'k'", inputs=[str(tmp_path / "missing.csv")]),
        "empty-traceback": dict(error=""),
    }
    for name, kwargs in cases.items():
        error = kwargs.pop("error")
        outcome = postmortem_scribe.report(error, pipeline=f"bad-{name}", task="t", config=config,
                                           **kwargs)
        assert outcome.action == "opened", (name, outcome.message)
        text = Path(outcome.path).read_text()
        assert "is not valid TOML" in text, name  # the malformed config is said in the draft
        if name == "missing-log":
            assert "nope.log" in text and "does not exist" in text
        if name == "missing-input":
            assert "missing.csv" in text and "does not exist" in text.lower()
        if name == "empty-traceback":
            assert "no exception, error text or log was given" in text


def test_secrets_never_reach_the_draft(tmp_path, config) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    log = tmp_path / "t.log"
    log.write_text(f"connecting to postgresql://etl:S3cretPassw0rd@db.internal/sales\n"
                   f"export GITHUB_TOKEN={token}\nERROR boom\n")
    outcome = postmortem_scribe.report(
        f"RuntimeError: auth failed with token {token}", pipeline="p", task="t",
        log_file=str(log), secrets=["hunter2-registered-value"], config=config)
    text = Path(outcome.path).read_text()
    assert token not in text and "S3cretPassw0rd" not in text
    assert "redacted" in text


def test_closed_incident_coming_back_is_a_regression(tmp_path, config) -> None:
    first = postmortem_scribe.report("ValueError: bad row", pipeline="p", task="t", run_id="1",
                                     config=config)
    open_store(config.store_url).set_status(first.incident, "closed")
    second = postmortem_scribe.report("ValueError: bad row", pipeline="p", task="t", run_id="2",
                                      config=config)
    assert second.action == "regression"
    assert second.incident != first.incident
    text = Path(second.path).read_text()
    assert "This is a regression" in text and first.incident in text
    labels = next(line for line in text.splitlines() if line.startswith("<!-- Labels:"))
    assert "regression" in labels


def test_the_same_occurrence_is_reported_once(config) -> None:
    kwargs = dict(pipeline="p", task="t", run_id="r", try_number=1, config=config)
    assert postmortem_scribe.report("ValueError: x", **kwargs).action == "opened"
    assert postmortem_scribe.report("ValueError: x", **kwargs).action == "duplicate"
    assert postmortem_scribe.is_reported("python|p|r|t||1", config=config)


def test_a_log_that_blocks_on_open_does_not_hold_the_task(tmp_path, make_config) -> None:
    fifo = tmp_path / "stuck.log"
    os.mkfifo(fifo)  # opening a FIFO for reading blocks until a writer appears: a stuck mount
    config = make_config(budget_seconds=1.0)
    outcome = postmortem_scribe.report("ValueError: x", pipeline="p", task="t",
                                       log_file=str(fifo), config=config)
    assert outcome.action in ("opened", "failed")
    if outcome.action == "failed":
        assert "budget" in outcome.message


def test_report_without_arguments_inside_except_uses_the_current_exception(config) -> None:
    try:
        {}["missing"]
    except KeyError:
        outcome = postmortem_scribe.report(pipeline="p", task="t", config=config)
    assert outcome.action == "opened"
    assert "KeyError" in Path(outcome.path).read_text()
