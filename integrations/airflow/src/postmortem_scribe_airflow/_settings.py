"""Where the adapter's configuration and secrets come from inside Airflow.

- The core's settings: ``SCRIBE_*`` environment variables (and ``SCRIBE_CONFIG``, a TOML file), or
  an Airflow Variable holding JSON (``postmortem_scribe_config`` by default).  When both are set,
  the Variable is the base and each ``SCRIBE_*`` variable that is set wins over it, so one
  worker can be pointed elsewhere without editing the shared Variable.
- The GitHub token: the password of the Airflow connection ``github_default`` (conn type
  ``github``; its host, if set, is the API URL of a GitHub Enterprise Server), else
  ``SCRIBE_GITHUB_TOKEN``.
- The adapter's own knobs: the ``[postmortem_scribe]`` section of airflow.cfg, i.e.
  ``AIRFLOW__POSTMORTEM_SCRIBE__<KEY>``; see :data:`ADAPTER_DEFAULTS`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from postmortem_scribe.config import ENVIRONMENT_VARIABLES

from . import version_compat as compat

log = logging.getLogger("postmortem_scribe.airflow")

SECTION = "postmortem_scribe"
ADAPTER_DEFAULTS: dict[str, str] = {
    "enabled": "True",
    "config_variable": "postmortem_scribe_config",
    "github_conn_id": "github_default",
    # How long the DAG-run-failed path waits for the task's own (richer) report before drafting
    # from the log file; a hard-killed task never sends one, so its draft comes after this.
    "dag_run_grace_seconds": "20",
    "max_drafts_per_run": "10",
    # Extra seconds on top of the core's budget before a hook stops waiting for it.
    "timeout_margin_seconds": "5",
    "record_successes": "True",
}

def option(key: str) -> str:
    """An adapter setting from ``[postmortem_scribe]`` / ``AIRFLOW__POSTMORTEM_SCRIBE__*``."""
    default = ADAPTER_DEFAULTS.get(key, "")
    env = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{key.upper()}")
    if env is not None:
        return env
    return compat.conf_get(SECTION, key, fallback=default) or default


def option_float(key: str) -> float:
    try:
        return float(option(key))
    except ValueError:
        return float(ADAPTER_DEFAULTS[key])


def option_bool(key: str) -> bool:
    return option(key).strip().lower() in ("1", "true", "yes", "on")


def enabled() -> bool:
    """``AIRFLOW__POSTMORTEM_SCRIBE__ENABLED=False`` turns every hook into a no-op."""
    return option_bool("enabled")


@dataclass
class Settings:
    """A resolved core :class:`~postmortem_scribe.config.Config` plus what the adapter adds."""

    config: Any
    secrets: list[str] = field(default_factory=list)
    """Secret values to scrub (the token, everything Airflow's masker knows)."""
    sources: list[str] = field(default_factory=list)
    """Where settings came from, for logs: "environment", "Airflow Variable x", "connection y"."""


def load_settings(*, config: Any = None, overrides: Mapping[str, Any] | None = None,
                  config_variable: str | None = None, github_conn_id: str | None = None,
                  need_token: bool = True) -> Settings:
    """Resolve the configuration for one report.  Never raises: problems land in
    ``config.problems`` (the draft mentions them) and defaults are used instead.

    ``config`` (a Config or a mapping, e.g. from a notifier) replaces the Variable/env lookup.
    """
    from postmortem_scribe.config import Config, config_from_mapping, load_config

    sources: list[str] = []
    if isinstance(config, Config):
        cfg = replace(config, problems=list(config.problems), routes=list(config.routes))
        sources.append("argument")
    elif isinstance(config, Mapping):
        cfg = config_from_mapping(config, source="PostmortemNotifier(config=...)")
        sources.append("argument")
    else:
        env_cfg = load_config()
        cfg = env_cfg
        sources.append("environment")
        name = config_variable or option("config_variable")
        raw = compat.get_variable(name) if name else None
        if raw:
            try:
                data = json.loads(raw)
                if not isinstance(data, Mapping):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                env_cfg.problems.append(
                    f"Airflow Variable {name!r} is not a JSON object ({exc}); it is ignored. "
                    'Expected JSON such as {"github": {"repo": "owner/name"}, "routing": '
                    '{"default_lead": "alice"}}.'
                )
            else:
                cfg = config_from_mapping(data, source=f"Airflow Variable {name}")
                sources.append(f"Airflow Variable {name}")
                # Explicit environment wins over the shared Variable, setting by setting.
                for var, attr in ENVIRONMENT_VARIABLES.items():
                    if os.environ.get(var):
                        setattr(cfg, attr, getattr(env_cfg, attr))
                cfg.problems = [*env_cfg.problems, *cfg.problems]

    for key, value in (overrides or {}).items():
        if value is not None and hasattr(cfg, key):
            setattr(cfg, key, value)

    secrets: list[str] = []
    if need_token and cfg.github_repo:
        conn_id = github_conn_id or option("github_conn_id")
        conn = compat.get_connection(conn_id) if conn_id else None
        password = getattr(conn, "password", None) if conn is not None else None
        if password:
            cfg.github_token = password
            sources.append(f"connection {conn_id}")
            host = (getattr(conn, "host", None) or "").strip()
            if host.startswith(("http://", "https://")):
                cfg.github_api_url = host.rstrip("/")
        if not cfg.github_token:
            cfg.problems.append(
                f"no GitHub token: the Airflow connection {conn_id!r} has no password and "
                "SCRIBE_GITHUB_TOKEN is not set; drafts wait in the outbox. Create the connection "
                "(conn type github, token in the password field) or set SCRIBE_GITHUB_TOKEN."
            )
    if cfg.github_token:
        secrets.append(cfg.github_token)
        _register_with_core(cfg.github_token, "github-token")
    secrets.extend(v for v in compat.masked_values() if v not in secrets)
    return Settings(config=cfg, secrets=secrets, sources=sources)


def _register_with_core(value: str, kind: str) -> None:
    try:
        from postmortem_scribe import scrub

        register = getattr(scrub, "register_secret", None)
        if register is not None:
            register(value, kind)
    except Exception:  # noqa: BLE001 - the value is still passed in FailureContext.secrets
        log.debug("postmortem-scribe: register_secret unavailable", exc_info=True)
