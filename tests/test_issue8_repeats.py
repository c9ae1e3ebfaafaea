"""Repeats, storms, near-repeats, flaky tasks and triage, end to end through
``postmortem_scribe.report(...)`` (issue 8).

Each test reports failures the way an adapter or a script would, with a SQLite store and the
local publisher (drafts as Markdown files) in a temporary directory, and asserts on what a
person would see: the incidents in the store, the draft files and what they say.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import postmortem_scribe
from postmortem_scribe.config import load_config
from postmortem_scribe.store import open_store

CORPUS = Path(__file__).parent / "corpus" / "failures.jsonl"


@pytest.fixture
def env(tmp_path):
    """A config with its own store and draft directory; ``env.drafts()`` lists the drafts."""
    class Env:
        url = f"sqlite:///{tmp_path / 's.sqlite'}"
        out = tmp_path / "d"

        def config(self, **overrides):
            return load_config(env={}, overrides={"store_url": self.url, "output_dir": str(self.out),
                                                  **overrides})

        def store(self):
            return open_store(self.url)

        def drafts(self) -> dict[str, str]:
            if not self.out.exists():
                return {}
            return {p.stem: p.read_text(encoding="utf-8") for p in sorted(self.out.glob("*.md"))}

    return Env()


def _ok(outcome) -> None:
    assert outcome.action not in ("failed", "duplicate"), outcome.message


# ------------------------------------------------------------------------------------ storms


def _refused(pipeline: str, task: str, n: int, host: str, ip: str) -> str:
    """A psycopg2 'connection refused' traceback from a task's own code: each task's frames differ."""
    return (
        "Traceback (most recent call last):\n"
        f'  File "/opt/airflow/dags/{pipeline}/{task}.py", line {20 + n}, in {task}\n'
        f"    rows = fetch_{task}(cursor_for('{pipeline}'))\n"
        f'  File "/opt/airflow/dags/{pipeline}/common_{n % 3}.py", line {7 + n}, in cursor_for\n'
        "    conn = psycopg2.connect(dsn)\n"
        '  File "/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect\n'
        "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)\n"
        "psycopg2.OperationalError: could not connect to server: Connection refused\n"
        f'\tIs the server running on host "{host}" ({ip}) and accepting\n'
        "\tTCP/IP connections on port 5432?\n"
    )


def test_a_storm_of_refused_connections_to_one_host_is_one_incident(env):
    config = env.config()
    pipelines = [f"etl_{name}" for name in ("sales", "billing", "crm", "ads", "ops")]
    outcomes = []
    for n in range(20):
        pipeline, task = pipelines[n % 5], f"load_{n}"
        outcomes.append(postmortem_scribe.report(
            _refused(pipeline, task, n, "warehouse.internal", "10.0.3.7"), pipeline=pipeline,
            task=task, run_id=f"scheduled__2026-03-02T04:00:00_{n}", try_number=1, config=config))
    # Meanwhile another database refuses connections too: a different cause, its own incident.
    other = postmortem_scribe.report(
        _refused("etl_finance", "load_ledger", 99, "ledger.internal", "10.0.9.2"),
        pipeline="etl_finance", task="load_ledger", run_id="scheduled__2026-03-02T04:00:00",
        try_number=1, config=config)

    for outcome in [*outcomes, other]:
        _ok(outcome)
        assert outcome.category == "connectivity", outcome
    fingerprints = {o.fingerprint for o in outcomes}
    assert len(fingerprints) == 20, "the tracebacks differ, so the fingerprints must differ"
    storm = {o.incident for o in outcomes}
    assert len(storm) == 1, storm
    (key,) = storm
    assert other.incident != key

    store = env.store()
    incident = store.incident(key)
    assert incident is not None and incident.occurrences == 20
    assert len(store.incident_occurrences(key, limit=100)) == 20
    assert {i.key for i in store.incidents(limit=10)} == {key, other.incident}

    drafts = env.drafts()
    assert set(drafts) == {key, other.incident}, "one draft per incident, not one per task"
    assert "warehouse.internal" in drafts[key]
    assert "ledger.internal" in drafts[other.incident]
    assert "warehouse.internal" not in drafts[other.incident]


# ------------------------------------------------------------------------------------ near misses


def _near_miss_pairs() -> list[tuple[dict, dict]]:
    rows = {r["id"]: r for r in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines()) if r}
    return [(r, rows[r["near_miss_of"]]) for r in rows.values() if r["near_miss_of"]]


@pytest.mark.parametrize(
    "pair", [pytest.param(p, id=f"{p[0]['id']}~{p[1]['id']}") for p in _near_miss_pairs()],
)
def test_near_miss_pairs_from_the_corpus_stay_separate_incidents(env, pair):
    a, b = pair
    config = env.config()
    # Same pipeline and task for both: only the evidence may tell them apart.
    first = postmortem_scribe.report(a["text"], pipeline="near_miss", task="step", run_id="run_a",
                                     config=config)
    second = postmortem_scribe.report(b["text"], pipeline="near_miss", task="step", run_id="run_b",
                                      config=config)
    _ok(first)
    _ok(second)
    assert first.incident != second.incident, (first.message, second.message)
    assert second.action == "opened", second.message
    assert len(env.drafts()) == 2


def test_the_corpus_has_enough_near_miss_pairs():
    assert len(_near_miss_pairs()) >= 5


# ------------------------------------------------------------------------------------ log only


def test_a_killed_task_without_traceback_groups_by_task(env):
    config = env.config()
    text = "Task exited with return code Negsignal.SIGKILL"
    first = postmortem_scribe.report(text, pipeline="nightly", task="aggregate", run_id="r1", config=config)
    again = postmortem_scribe.report(text, pipeline="nightly", task="aggregate", run_id="r2", config=config)
    other = postmortem_scribe.report(text, pipeline="nightly", task="export", run_id="r1", config=config)
    for outcome in (first, again, other):
        _ok(outcome)
        assert outcome.category == "resources", outcome
    assert first.action == "opened"
    assert again.incident == first.incident and again.action in ("commented", "recorded")
    assert other.incident != first.incident and other.action == "opened"
    assert env.store().incident(first.incident).occurrences == 2
    assert set(env.drafts()) == {first.incident, other.incident}


# ------------------------------------------------------------------------------------ near repeats


PARSER_FAILURE = (
    "Traceback (most recent call last):\n"
    '  File "/opt/airflow/dags/sales/load_orders.py", line 41, in load_orders\n'
    '    frame = pd.read_csv(path, sep=";")\n'
    '  File "/usr/local/lib/python3.11/site-packages/pandas/io/parsers/readers.py", line 912, in read_csv\n'
    "    return _read(filepath_or_buffer, kwds)\n"
    '  File "/usr/local/lib/python3.11/site-packages/pandas/io/parsers/readers.py", line 583, in _read\n'
    "    return parser.read(nrows)\n"
    '  File "/usr/local/lib/python3.11/site-packages/pandas/io/parsers/c_parser_wrapper.py", line 234, in read\n'
    "    chunks = self._reader.read_low_memory(nrows)\n"
    '  File "parsers.pyx", line 850, in pandas._libs.parsers.TextReader._read_rows\n'
    "pandas.errors.ParserError: Error tokenizing data. C error: Expected 12 fields in line 5031, saw 14\n"
)


def test_a_near_repeat_is_a_new_draft_that_names_the_earlier_incident(env):
    config = env.config()
    earlier = postmortem_scribe.report(PARSER_FAILURE, pipeline="sales", task="load_orders",
                                       run_id="r1", config=config)
    # The same bad file after the task was refactored: the function is renamed, so the code
    # path (and the fingerprint) changed, but it is very likely the same problem.
    refactored = (PARSER_FAILURE.replace('line 41, in load_orders', 'line 57, in load_orders_incremental')
                  .replace("line 5031, saw 14", "line 88, saw 13"))
    later = postmortem_scribe.report(refactored, pipeline="sales", task="load_orders", run_id="r2",
                                     config=config)
    _ok(earlier)
    _ok(later)
    assert later.fingerprint != earlier.fingerprint
    assert later.incident != earlier.incident and later.action == "opened"
    draft = env.drafts()[later.incident]
    assert "Possible repeat" in draft
    assert earlier.incident in draft
    assert "similarity 0." in draft or "similarity 1.00" in draft
    assert "possible-repeat" in draft  # the label a person edits to confirm or reject
    # The earlier draft, written before the later failure existed, names no possible repeat.
    assert "Possible repeat" not in env.drafts()[earlier.incident]


def test_an_unrelated_failure_is_not_called_a_possible_repeat(env):
    config = env.config()
    first = postmortem_scribe.report(PARSER_FAILURE, pipeline="sales", task="load_orders",
                                     run_id="r1", config=config)
    unrelated = postmortem_scribe.report(
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/crm/sync_contacts.py", line 12, in sync_contacts\n'
        "    total = sum(c['score'] for c in contacts) / len(contacts)\n"
        "ZeroDivisionError: division by zero\n",
        pipeline="crm", task="sync_contacts", run_id="r1", config=config)
    _ok(first)
    _ok(unrelated)
    draft = env.drafts()[unrelated.incident]
    assert "Possible repeat" not in draft
    assert first.incident not in draft


# ------------------------------------------------------------------------------------ flaky


FLAKY_FAILURE = (
    "Traceback (most recent call last):\n"
    '  File "/opt/airflow/dags/ads/pull_spend.py", line 33, in pull_spend\n'
    "    report = client.get_report(day)\n"
    '  File "/opt/airflow/dags/ads/client.py", line 80, in get_report\n'
    "    raise ReportNotReady(f'report for {day} is still being generated')\n"
    "client.ReportNotReady: report for 2026-03-01 is still being generated\n"
)


def test_a_task_that_alternates_between_failing_and_passing_is_flaky_and_does_not_churn(env):
    config = env.config(comment_window_seconds=0)
    pipeline, task = "ads_daily", "pull_spend"

    def fail(run: str):
        outcome = postmortem_scribe.report(FLAKY_FAILURE, pipeline=pipeline, task=task, run_id=run,
                                           try_number=1, config=config)
        _ok(outcome)
        return outcome

    def succeed(run: str) -> None:
        postmortem_scribe.report_success(pipeline, task, run_id=run, try_number=1, config=config)

    first = fail("run_1")
    succeed("run_2")
    fail("run_3")
    store = env.store()
    assert not store.incident(first.incident).flaky, "one recovery after a failure is not flaky yet"
    succeed("run_4")
    assert store.incident(first.incident).flaky, "fail, pass, fail, pass: flaky"

    # Someone closes the issue; the task fails again.  A flaky task is commented on, not
    # re-drafted: no second draft, no new incident, the same issue is used again.
    store.set_status(first.incident, "closed")
    again = fail("run_5")
    assert again.incident == first.incident, again
    incidents = store.incidents(limit=10)
    assert [i.key for i in incidents] == [first.incident]
    assert incidents[0].status == "open" and incidents[0].flaky
    drafts = env.drafts()
    assert list(drafts) == [first.incident], "no new draft for a flaky failure"
    assert drafts[first.incident].count("### Comment") >= 2
    assert "Flaky" in drafts[first.incident].split("### Comment")[-1]


def test_a_closed_failure_that_is_not_flaky_opens_a_regression_draft(env):
    # The contrast to the flaky case: without alternating outcomes, closing then failing again
    # is a regression with its own draft that links the closed incident.
    config = env.config(comment_window_seconds=0)
    first = postmortem_scribe.report(FLAKY_FAILURE, pipeline="ads_daily", task="pull_spend",
                                     run_id="run_1", config=config)
    env.store().set_status(first.incident, "closed")
    again = postmortem_scribe.report(FLAKY_FAILURE, pipeline="ads_daily", task="pull_spend",
                                     run_id="run_2", config=config)
    _ok(first)
    _ok(again)
    assert again.action == "regression" and again.incident != first.incident
    assert first.incident in env.drafts()[again.incident]


# ------------------------------------------------------------------------------------ triage


def test_a_category_set_in_triage_is_used_for_later_drafts_of_that_failure(env):
    config = env.config()
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/airflow/dags/partners/fetch_feed.py", line 18, in fetch_feed\n'
        "    body = download(feed_url)\n"
        '  File "/opt/airflow/dags/partners/http.py", line 44, in download\n'
        "    raise FeedError(f'feed server said: {reply}')\n"
        "http.FeedError: feed server said: token rejected for partner acme\n"
    )
    first = postmortem_scribe.report(text, pipeline="partners", task="fetch_feed", run_id="r1",
                                     config=config)
    _ok(first)
    assert first.category != "auth", "the rules alone should not already say auth"
    store = env.store()
    # A person relabels the issue (what `scribe sync` records) and closes it after the fix.
    store.add_override(first.fingerprint, "category", "auth")
    store.set_status(first.incident, "closed")

    again = postmortem_scribe.report(text, pipeline="partners", task="fetch_feed", run_id="r2",
                                     config=config)
    _ok(again)
    assert again.fingerprint == first.fingerprint
    assert again.category == "auth"
    assert again.action == "regression" and again.incident != first.incident
    draft = env.drafts()[again.incident]
    assert "| **Category** | auth" in draft
    assert "rule triage matched" in draft
    assert "The category is a guess" not in draft
    # The first draft is left as it was written.
    assert "rule triage" not in env.drafts()[first.incident]
