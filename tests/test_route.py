"""Routing: ordered rules on pipeline/task globs, tags, owner and category."""

from __future__ import annotations

from pathlib import Path

from postmortem_scribe.config import load_config
from postmortem_scribe.records import Classification, FailureRecord
from postmortem_scribe.route import route


def rec(pipeline: str, task: str = "t", tags=(), owner=None, category="code_bug") -> FailureRecord:
    r = FailureRecord(pipeline=pipeline, task=task, orchestrator="airflow", occurrence_key="k",
                      tags=list(tags), owner=owner)
    r.classification = Classification(category=category, confidence=0.9)
    return r


def test_first_matching_rule_wins(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("""
[routing]
default_lead = "oncall"
[[routes]]
name = "auth-problems"
category = "auth"
lead = "@security-lead"
[[routes]]
name = "finance"
pipeline = "finance_*"
tags = ["pii"]
lead = "alice"
stakeholders = ["@bob", "carol"]
labels = ["team:finance"]
[[routes]]
name = "owner"
owner = "analytics*"
lead = "dana"
""")
    config = load_config(path, env={})
    assert route(rec("finance_daily", category="auth"), config).lead == "security-lead"
    finance = route(rec("finance_daily", tags=["pii", "x"]), config)
    assert (finance.lead, finance.stakeholders, finance.labels, finance.rule) == (
        "alice", ["bob", "carol"], ["team:finance"], "finance")
    assert route(rec("finance_daily"), config).lead == "oncall"  # tag missing
    assert route(rec("sales", owner="analytics-team"), config).lead == "dana"
    default = route(rec("sales"), config)
    assert (default.lead, default.rule) == ("oncall", "default")


def test_no_lead_anywhere() -> None:
    assert route(rec("x"), load_config(env={})).lead is None
