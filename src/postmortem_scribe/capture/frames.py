"""Which frames are the pipeline's own code, and what module a file name stands for.

A frame is *in-app* when it belongs to the code the pipeline's authors wrote (a DAG file, a flow,
their helper packages).  The standard library, anything installed under ``site-packages`` /
``dist-packages``, frozen modules, compiled extensions (``.pyx``) and the orchestrator's own
machinery (Airflow, Prefect, anyio, postmortem-scribe itself ...) are not.  ``app_roots`` (path
prefixes or dotted module prefixes, from the ``app_roots`` setting) always win, so a company
package installed into ``site-packages`` can still count as the pipeline's code.

The same decision has to be made for live frames (with a module name from the frame's globals)
and for frames parsed from text (file name only, often from another machine), so everything here
works on strings alone; only the standard-library check also uses this interpreter's paths.
"""

from __future__ import annotations

import functools
import os
import re
import sysconfig
from collections.abc import Sequence

from ..records import Frame

__all__ = [
    "ORCHESTRATOR_MODULES",
    "PLACEHOLDER_FILENAME",
    "is_in_app",
    "is_placeholder",
    "module_from_filename",
    "placeholder_frame",
]

ORCHESTRATOR_MODULES: tuple[str, ...] = (
    "airflow",
    "prefect",
    "postmortem_scribe",
    "postmortem_scribe_airflow",
    "postmortem_scribe_prefect",
    "anyio",
    "asyncio",
    "concurrent.futures",
    "structlog",
    "pluggy",
    "celery",
    "billiard",
    "kombu",
    "dask",
    "distributed",
    "uvicorn",
    "starlette",
    "fastapi",
    "_pytest",
    "pytest",
)
"""Dotted module prefixes whose frames are orchestrator or runner internals, never in-app.

They matter where such code is not under ``site-packages`` (source checkouts, editable
installs, the official Airflow images that run from ``/opt/airflow``)."""

PLACEHOLDER_FILENAME = "<omitted>"
"""File name of a placeholder frame that stands for frames left out (recursion, long stacks).

Its ``function`` is also ``<omitted>`` so that grouping keys do not change with the recursion
depth; its ``line`` says what was left out, e.g. ``[Previous line repeated 996 more times]``."""

# Airflow 2 imports DAG files under a generated name: "unusual_prefix_<sha1>_<stem>".
AIRFLOW_DAG_MODULE = re.compile(r"^unusual_prefix_[0-9a-f]{40}_")

_SITE = re.compile(r"(?:^|/)(?:site|dist)-packages/")
_STDLIB = re.compile(r"(?:^|/)lib(?:64)?/python\d+(?:\.\d+)?t?/", re.IGNORECASE)
_WIN_STDLIB = re.compile(r"/python\d[\d.]*/lib/", re.IGNORECASE)
_ZIPPED = re.compile(r"\.(?:zip|egg|whl|pyz)/")
_COMPILED_EXT = (".pyx", ".pxd", ".pxi", ".so", ".pyd")
_SOURCE_EXT = (".py", ".pyw", ".pyc", ".pyo", ".pyi", ".pyx", ".pxd", ".pxi")
# Directories whose contents are imported as top-level packages: the Airflow DAG and plugin
# folders and the usual src/ layout; the dotted name starts below the last of them.
_PACKAGE_ROOTS = ("dags", "plugins", "src")
# Orchestrator source trees that are not under site-packages (Airflow's docker images and
# breeze, Prefect's source checkouts).  Only well-known subpackages, because a DAG folder such as
# /opt/airflow/dags also lives under a directory called "airflow".
_ORCHESTRATOR_PATH = re.compile(
    r"/airflow/(?:models|operators|sensors|providers|sdk|utils|executors|jobs|task|decorators|"
    r"api|api_fastapi|cli|dag_processing|execution_time|serialization|timetables|listeners|"
    r"callbacks|triggers|bases|definitions|ti_deps|www|configuration\.py|__main__\.py)(?:/|$)"
    r"|/prefect/(?:_internal|client|concurrency|deployments|events|infrastructure|logging|runner|"
    r"server|utilities|workers|flows\.py|tasks\.py|engine\.py|flow_engine\.py|task_engine\.py|"
    r"task_runners\.py|states\.py|context\.py|results\.py|futures\.py|transactions\.py)(?:/|$)"
)
_FROZEN = re.compile(r"^<frozen (?P<module>[\w.]+)>$")


@functools.lru_cache(maxsize=1)
def _stdlib_dirs() -> tuple[str, ...]:
    """This interpreter's standard-library directories, both as given and resolved."""
    dirs: set[str] = set()
    try:
        paths = sysconfig.get_paths()
    except Exception:  # noqa: BLE001 - a broken install must not stop capture
        return ()
    for key in ("stdlib", "platstdlib"):
        path = paths.get(key)
        if not path:
            continue
        for variant in (path, os.path.realpath(path)):
            dirs.add(variant.replace("\\", "/").rstrip("/") + "/")
    return tuple(sorted(dirs))


@functools.lru_cache(maxsize=64)
def _split_roots(app_roots: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``app_roots`` split into normalised path prefixes and dotted module prefixes."""
    paths: list[str] = []
    modules: list[str] = []
    for root in app_roots:
        if not isinstance(root, str) or not root.strip():
            continue
        root = root.strip()
        if "/" in root or "\\" in root or root.startswith(("~", ".")):
            path = os.path.expanduser(root).replace("\\", "/").rstrip("/")
            paths.append(path + "/")
        else:
            modules.append(root.rstrip("."))
    return tuple(paths), tuple(modules)


def _has_module_prefix(module: str, prefixes: Sequence[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def is_in_app(filename: str, module: str | None, app_roots: Sequence[str] = ()) -> bool:
    """True when a frame in ``filename`` (module ``module``) is the pipeline's own code.

    ``app_roots`` entries containing a path separator (or starting with ``~`` or ``.``) are path
    prefixes; others are dotted module prefixes.  Either forces the frame in-app.  Never raises:
    unreadable input counts as in-app, because hiding the user's code is the worse mistake.
    """
    try:
        name = (filename if isinstance(filename, str) else "").replace("\\", "/")
        mod = module if isinstance(module, str) and module else None
        roots = tuple(r for r in app_roots if isinstance(r, str)) if app_roots else ()
        if roots:
            paths, modules = _split_roots(roots)
            if paths and any(name.startswith(p) or name + "/" == p for p in paths):
                return True
            if modules and mod and _has_module_prefix(mod, modules):
                return True
        if name.startswith("<"):
            # <frozen importlib._bootstrap>, <built-in>: interpreter machinery.  <string> and
            # <stdin> are code someone typed or exec'd, which is the user's.
            return not (name.startswith("<frozen") or name.startswith("<built-in"))
        if mod and _has_module_prefix(mod, ORCHESTRATOR_MODULES):
            return False
        if _SITE.search(name) or _ZIPPED.search(name):
            return False
        if name.endswith(_COMPILED_EXT):
            return False
        if _STDLIB.search(name) or any(name.startswith(d) for d in _stdlib_dirs()):
            return False
        if _WIN_STDLIB.search(name):
            return False
        if _ORCHESTRATOR_PATH.search(name):
            return False
        return True
    except Exception:  # noqa: BLE001
        return True


def module_from_filename(filename: str) -> str | None:
    """Best-effort dotted module name for a file named in a printed traceback.

    - below ``site-packages``/``dist-packages`` or the standard library directory (Unix
      ``lib/python3.X``, Windows ``Python3X\\Lib``), the dotted path
      (``…/site-packages/pandas/io/parsers/readers.py`` -> ``pandas.io.parsers.readers``);
    - below an Airflow ``dags``/``plugins`` folder or a ``src`` directory, the dotted path below
      the last of them (``/opt/airflow/dags/etl/load.py`` -> ``etl.load``);
    - ``<frozen importlib._bootstrap>`` -> ``importlib._bootstrap``;
    - otherwise the file's stem (``/home/me/jobs/load.py`` -> ``load``).

    ``None`` for names that are not files (``<string>``) or not Python sources.  Purely textual,
    so the same traceback gives the same answer on every machine.  Never raises.
    """
    try:
        if not isinstance(filename, str) or not filename.strip():
            return None
        name = filename.strip().replace("\\", "/")
        frozen = _FROZEN.match(name)
        if frozen:
            return frozen["module"]
        if name.startswith("<"):
            return None
        base = name.rsplit("/", 1)[-1]
        stem, dot, ext = base.rpartition(".")
        if not dot or "." + ext.lower() not in _SOURCE_EXT or not stem:
            return None
        rest: str | None = None
        for pattern in (_SITE, _ZIPPED, _STDLIB, _WIN_STDLIB):
            found = None
            for found in pattern.finditer(name):
                pass
            if found is not None:
                rest = name[found.end():]
                break
        if rest is None:
            parts = name.split("/")
            for i in range(len(parts) - 2, -1, -1):
                if parts[i] in _PACKAGE_ROOTS:
                    rest = "/".join(parts[i + 1:])
                    break
        if rest is None:
            rest = base
        parts = [p for p in rest.split("/") if p]
        if not parts:
            return None
        parts[-1] = parts[-1].rpartition(".")[0] or parts[-1]
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        if not all(p.replace("-", "_").isidentifier() for p in parts):
            # A directory such as "my jobs" cannot be a package: keep only the module itself.
            parts = parts[-1:]
        return ".".join(parts) or None
    except Exception:  # noqa: BLE001
        return None


def placeholder_frame(text: str) -> Frame:
    """A frame standing for frames that were left out; ``text`` says which, for people."""
    return Frame(
        filename=PLACEHOLDER_FILENAME,
        lineno=None,
        function=PLACEHOLDER_FILENAME,
        module=None,
        line=text,
        in_app=False,
    )


def is_placeholder(frame: Frame) -> bool:
    """True for a frame made by :func:`placeholder_frame`."""
    return getattr(frame, "filename", None) == PLACEHOLDER_FILENAME


# --------------------------------------------------------------------------------------------
# Shared by the three ways frames arrive (live, printed, Airflow JSON): the same bounds apply.
# --------------------------------------------------------------------------------------------

MAX_FRAMES = 100
"""Frames kept per exception; a longer stack keeps its outermost and innermost halves."""
RECURSION_CUTOFF = 3
"""Identical consecutive frames shown before the rest are counted, as CPython prints them."""


def repeated_text(count: int) -> str:
    """CPython's wording for ``count`` suppressed repeats of the previous frame."""
    return f"[Previous line repeated {count} more time{'s' if count > 1 else ''}]"


def cap_frames(frames: list[Frame], limit: int = MAX_FRAMES) -> list[Frame]:
    """At most ``limit`` frames (plus one placeholder): the outermost and innermost halves.

    Both ends matter: the outer frames say which task ran, the inner ones where it broke.
    """
    if limit <= 1 or len(frames) <= limit:
        return frames
    head = limit // 2
    tail = limit - head
    left_out = len(frames) - head - tail
    return [*frames[:head], placeholder_frame(f"[{left_out} frames omitted]"), *frames[-tail:]]
