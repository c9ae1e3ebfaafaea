"""The versions a post-mortem should state: Python, platform and the packages that matter.

Versions come from installed distribution metadata (:mod:`importlib.metadata`), never from
importing the packages: importing Airflow or pandas in the failure path would be slow, could
fail, and the core must not import a host framework at all.  The answer is computed once per
process and cached.
"""

from __future__ import annotations

import functools
import platform
import sys
from importlib import metadata

__all__ = ["PACKAGES", "environment_versions"]

PACKAGES: tuple[str, ...] = (
    "postmortem-scribe",
    "apache-airflow",
    "apache-airflow-core",
    "apache-airflow-task-sdk",
    "prefect",
    "pandas",
    "pyarrow",
    "sqlalchemy",
)
"""Distributions reported when installed; a missing one is left out, not reported as missing."""


def environment_versions() -> dict[str, str]:
    """``{"python": "3.11.7", "platform": "Linux-6.1-x86_64-with-glibc2.36", "pandas": "2.3.3",
    ...}`` for this process.  Cheap after the first call (cached); a fresh dict each time, so
    callers may change it.  Never raises."""
    try:
        return dict(_versions())
    except Exception:  # noqa: BLE001
        return {"python": sys.version.split()[0]}


@functools.lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = [("python", platform.python_version())]
    try:
        found.append(("platform", platform.platform()))
    except Exception:  # noqa: BLE001 - some sandboxes hide uname
        found.append(("platform", sys.platform))
    for name in PACKAGES:
        version = _version(name)
        if version is None and name == "postmortem-scribe":
            version = _own_version()
        if version:
            found.append((name, version))
    return tuple(found)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except Exception:  # noqa: BLE001 - not installed, or broken metadata
        return None


def _own_version() -> str | None:
    # Running from a source tree without installed metadata.
    try:
        from .. import __version__
    except Exception:  # noqa: BLE001
        return None
    return str(__version__)
