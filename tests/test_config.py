"""Configuration: TOML + environment, and malformed input that never stops a report."""

from __future__ import annotations

from pathlib import Path

from postmortem_scribe.config import load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scribe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_sections_routes_rules_and_inputs(tmp_path: Path) -> None:
    path = write(tmp_path, """
[github]
repo = "acme/data-incidents"
labels = ["postmortem", "data"]

[store]
url = "sqlite:////tmp/x.sqlite"

[report]
budget_seconds = 12
comment_window_seconds = 60
regression_mode = "reopen"

[routing]
default_lead = "@oncall"

[[routes]]
name = "finance"
pipeline = "finance_*"
lead = "alice"
stakeholders = ["bob"]
labels = ["team:finance"]

[[rules]]
id = "my-vendor"
category = "external_service"
message = "VendorDown"

[[inputs]]
path = "/data/orders*.csv"
columns = "order_id, customer, amount"
delimiter = ","
""")
    config = load_config(path, env={})
    assert config.problems == []
    assert config.github_repo == "acme/data-incidents"
    assert config.labels == ["postmortem", "data"]
    assert config.budget_seconds == 12.0
    assert config.regression_mode == "reopen"
    assert config.default_lead == "@oncall"
    assert config.routes[0].pipeline == "finance_*" and config.routes[0].stakeholders == ["bob"]
    assert config.classification_rules[0]["id"] == "my-vendor"
    assert config.inputs[0].columns == ["order_id", "customer", "amount"]


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[github]\nrepo = "a/b"\n')
    config = load_config(env={"SCRIBE_CONFIG": str(path), "SCRIBE_GITHUB_REPO": "c/d",
                               "SCRIBE_LEAD": "carol", "SCRIBE_GITHUB_API_URL": "https://ghe.example/api/v3/"})
    assert config.github_repo == "c/d"
    assert config.default_lead == "carol"
    assert config.github_api_url == "https://ghe.example/api/v3"


def test_malformed_toml_is_a_clear_problem_not_an_exception(tmp_path: Path) -> None:
    path = write(tmp_path, "[github\nrepo = ")
    config = load_config(path, env={})
    assert len(config.problems) == 1
    assert "is not valid TOML" in config.problems[0] and str(path) in config.problems[0]
    assert config.github_repo is None  # defaults still work


def test_missing_file_and_bad_values(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml", env={})
    assert "could not be read" in config.problems[0]
    path = write(tmp_path, 'budget_seconds = "soon"\nregression_mode = "maybe"\nwhat = 1\n'
                           '[github]\nrepo = "not-a-repo"\n')
    config = load_config(path, env={})
    text = "\n".join(config.problems)
    assert "budget_seconds should be a number" in text
    assert "regression_mode 'maybe' is not one of new, reopen, comment" in text
    assert "unknown setting 'what'" in text
    assert "should look like owner/name" in text
    assert config.budget_seconds == 30.0 and config.github_repo is None


def test_token_is_not_in_repr() -> None:
    config = load_config(env={"SCRIBE_GITHUB_TOKEN": "ghp_" + "a" * 36})
    assert "ghp_" not in repr(config)
