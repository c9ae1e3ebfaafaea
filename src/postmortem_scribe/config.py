"""Configuration: a TOML file named by ``SCRIBE_CONFIG`` plus ``SCRIBE_*`` environment variables.

Loading never raises.  A malformed file or value becomes a line in :attr:`Config.problems` and
the default is used instead, because a broken config must not stop a failure from being
recorded; ``scribe doctor`` and the CLI show the problems, and the draft mentions them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_GITHUB_API_URL = "https://api.github.com"
REGRESSION_MODES = ("new", "reopen", "comment")


@dataclass
class RouteRule:
    """One ordered routing rule; the first whose conditions all hold decides the lead."""

    name: str
    lead: str | None = None
    stakeholders: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    pipeline: str | None = None
    """Glob on the pipeline id (DAG id, flow name)."""
    task: str | None = None
    """Glob on the task id."""
    tags: list[str] = field(default_factory=list)
    """All of these tags must be present."""
    owner: str | None = None
    """Glob on the pipeline owner."""
    category: str | None = None
    """Exact taxonomy label."""


@dataclass
class InputExpectation:
    """The expected shape of input files whose path matches ``path`` (a glob)."""

    path: str
    columns: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    schema: str | None = None
    """Path to a schema file (JSON) describing the same."""


@dataclass
class Config:
    store_url: str | None = None
    """SQLAlchemy URL; ``None`` means the SQLite file in the user data directory."""
    output_dir: str = "postmortems"
    github_repo: str | None = None
    github_token: str | None = field(default=None, repr=False)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_write_interval_seconds: float = 1.0
    """Pause between write requests; GitHub asks for at least one second."""
    default_lead: str | None = None
    routes: list[RouteRule] = field(default_factory=list)
    classification_rules: list[dict[str, Any]] = field(default_factory=list)
    """Extra user rules, same shape as the shipped ``rules.toml`` entries; tried first."""
    templates_dir: str | None = None
    budget_seconds: float = 30.0
    """Upper bound on the time one ``report()`` spends, delivery included."""
    comment_window_seconds: float = 600.0
    """At most one repeat comment per incident per window."""
    regression_mode: str = "new"
    """``new`` draft linking the closed one, ``reopen`` the issue, or ``comment`` on it."""
    app_roots: list[str] = field(default_factory=list)
    """Path prefixes or module prefixes that count as in-app code, besides the defaults."""
    log_max_bytes: int = 64 * 1024
    log_tail_lines: int = 60
    log_context_lines: int = 5
    input_keys: list[str] = field(
        default_factory=lambda: ["path", "file", "input", "input_path", "input_file", "src", "source"]
    )
    """Parameter / op_kwargs names whose values are taken as input file paths (also ``*_path``)."""
    input_budget_seconds: float = 3.0
    inputs: list[InputExpectation] = field(default_factory=list)
    secret_key_names: list[str] = field(default_factory=list)
    """Extra key names whose values are always redacted."""
    labels: list[str] = field(default_factory=lambda: ["postmortem"])
    similar_threshold: float = 0.6
    storm_window_seconds: float = 900.0
    """Different failures with one cause (same host, same upstream) within this window join
    one incident."""
    source: str | None = None
    """Where the file came from, for ``scribe doctor``."""
    problems: list[str] = field(default_factory=list)


ENVIRONMENT_VARIABLES: dict[str, str] = {
    "SCRIBE_STORE_URL": "store_url",
    "SCRIBE_OUTPUT_DIR": "output_dir",
    "SCRIBE_GITHUB_REPO": "github_repo",
    "SCRIBE_GITHUB_TOKEN": "github_token",
    "SCRIBE_GITHUB_API_URL": "github_api_url",
    "SCRIBE_LEAD": "default_lead",
}

"""The public environment variables (DESIGN.md) and the settings they set."""

_SCALARS: dict[str, type] = {
    "store_url": str,
    "output_dir": str,
    "github_repo": str,
    "github_token": str,
    "github_api_url": str,
    "default_lead": str,
    "templates_dir": str,
    "budget_seconds": float,
    "comment_window_seconds": float,
    "regression_mode": str,
    "log_max_bytes": int,
    "log_tail_lines": int,
    "log_context_lines": int,
    "input_budget_seconds": float,
    "similar_threshold": float,
    "storm_window_seconds": float,
    "github_write_interval_seconds": float,
}
_LISTS = ("app_roots", "input_keys", "secret_key_names", "labels")

# Accepted TOML layout, mapped to flat attributes; a flat layout is accepted as well.
_SECTIONS = {
    "store": {"url": "store_url"},
    "output": {"dir": "output_dir"},
    "github": {"repo": "github_repo", "token": "github_token", "api_url": "github_api_url",
               "labels": "labels",
               "write_interval_seconds": "github_write_interval_seconds"},
    "report": {"budget_seconds": "budget_seconds", "comment_window_seconds": "comment_window_seconds",
               "regression_mode": "regression_mode", "templates_dir": "templates_dir",
               "app_roots": "app_roots", "similar_threshold": "similar_threshold",
               "storm_window_seconds": "storm_window_seconds"},
    "logs": {"max_bytes": "log_max_bytes", "tail_lines": "log_tail_lines",
             "context_lines": "log_context_lines"},
    "capture": {"input_keys": "input_keys", "input_budget_seconds": "input_budget_seconds",
                "secret_key_names": "secret_key_names"},
    "routing": {"default_lead": "default_lead"},
}


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration: defaults, then the TOML file, then environment, then overrides.

    ``path`` defaults to ``$SCRIBE_CONFIG``.  Never raises; see :attr:`Config.problems`.
    """
    env = os.environ if env is None else env
    config = Config()
    file_path = path if path is not None else env.get("SCRIBE_CONFIG")
    if file_path:
        _apply_file(config, Path(file_path))
    for var, attr in ENVIRONMENT_VARIABLES.items():
        value = env.get(var)
        if value:
            _set(config, attr, value, f"environment variable {var}")
    for key, value in (overrides or {}).items():
        if value is not None:
            _set(config, key, value, f"setting {key!r}")
    _validate(config)
    return config


def config_from_mapping(data: Mapping[str, Any], *, source: str = "mapping") -> Config:
    """Build a config from an already-parsed mapping (e.g. an Airflow Variable holding JSON)."""
    config = Config(source=source)
    _apply_mapping(config, data, source)
    _validate(config)
    return config


def _apply_file(config: Config, path: Path) -> None:
    config.source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        config.problems.append(
            f"config file {path} could not be read ({exc.strerror or exc}); using defaults. "
            "Expected a TOML file named by SCRIBE_CONFIG."
        )
        return
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        config.problems.append(
            f"config file {path} is not valid TOML ({exc}); using defaults. "
            "Expected TOML such as:  [github]\\nrepo = \"owner/name\""
        )
        return
    _apply_mapping(config, data, str(path))


def _apply_mapping(config: Config, data: Mapping[str, Any], where: str) -> None:
    for key, value in data.items():
        if key in _SECTIONS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                attr = _SECTIONS[key].get(sub)
                if attr is None:
                    config.problems.append(f"{where}: unknown setting [{key}] {sub}; ignored.")
                else:
                    _set(config, attr, sub_value, f"{where}: [{key}] {sub}")
        elif key in ("routes", "route"):
            _apply_routes(config, value, where)
        elif key in ("rules", "classify"):
            rules = value.get("rules", []) if isinstance(value, Mapping) else value
            _apply_rules(config, rules, where)
        elif key == "inputs":
            _apply_inputs(config, value, where)
        elif key in _SCALARS or key in _LISTS:
            _set(config, key, value, f"{where}: {key}")
        else:
            config.problems.append(f"{where}: unknown setting {key!r}; ignored.")


def _set(config: Config, attr: str, value: Any, where: str) -> None:
    if attr in _LISTS:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            config.problems.append(f"{where} should be a list of strings; got {value!r}; ignored.")
            return
        setattr(config, attr, value)
        return
    kind = _SCALARS.get(attr)
    if kind is None:
        config.problems.append(f"{where}: unknown setting; ignored.")
        return
    try:
        if kind is str and not isinstance(value, str):
            raise TypeError
        if isinstance(value, bool):
            raise TypeError
        setattr(config, attr, kind(value))
    except (TypeError, ValueError):
        config.problems.append(
            f"{where} should be {'a number' if kind in (int, float) else 'a string'}; "
            f"got {value!r}; the default is used."
        )


def _apply_routes(config: Config, value: Any, where: str) -> None:
    if not isinstance(value, list):
        config.problems.append(f"{where}: [[routes]] should be a list of tables; ignored.")
        return
    known = set(RouteRule.__dataclass_fields__)
    for i, item in enumerate(value, 1):
        if not isinstance(item, Mapping):
            config.problems.append(f"{where}: route #{i} should be a table; ignored.")
            continue
        unknown = sorted(set(item) - known)
        if unknown:
            config.problems.append(f"{where}: route #{i} has unknown keys {unknown}; they are ignored.")
        fields = {k: v for k, v in item.items() if k in known}
        fields.setdefault("name", f"route-{i}")
        for list_key in ("stakeholders", "labels", "tags"):
            if isinstance(fields.get(list_key), str):
                fields[list_key] = [fields[list_key]]
        config.routes.append(RouteRule(**fields))


def _apply_rules(config: Config, value: Any, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        config.problems.append(f"{where}: [[rules]] should be a list of tables; ignored.")
        return
    config.classification_rules.extend(dict(r) for r in value)


def _apply_inputs(config: Config, value: Any, where: str) -> None:
    if not isinstance(value, list):
        config.problems.append(f"{where}: [[inputs]] should be a list of tables; ignored.")
        return
    known = set(InputExpectation.__dataclass_fields__)
    for i, item in enumerate(value, 1):
        if not isinstance(item, Mapping) or "path" not in item:
            config.problems.append(f"{where}: input #{i} needs a 'path' glob; ignored.")
            continue
        if isinstance(item.get("columns"), str):
            item = {**item, "columns": [c.strip() for c in item["columns"].split(",")]}
        config.inputs.append(InputExpectation(**{k: v for k, v in item.items() if k in known}))


def _validate(config: Config) -> None:
    if config.regression_mode not in REGRESSION_MODES:
        config.problems.append(
            f"regression_mode {config.regression_mode!r} is not one of {', '.join(REGRESSION_MODES)}; "
            "using 'new'."
        )
        config.regression_mode = "new"
    if config.github_repo and config.github_repo.count("/") != 1:
        config.problems.append(
            f"GitHub repository {config.github_repo!r} should look like owner/name; "
            "drafts are written locally instead."
        )
        config.github_repo = None
    if config.budget_seconds <= 0:
        config.problems.append("budget_seconds must be positive; using 30.")
        config.budget_seconds = 30.0
    config.github_api_url = config.github_api_url.rstrip("/")
