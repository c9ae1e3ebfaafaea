"""The core never imports a host framework (DESIGN.md); adapters are separate distributions."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import postmortem_scribe

HOSTS = ("airflow", "prefect")


def test_no_module_of_the_core_imports_airflow_or_prefect() -> None:
    root = Path(postmortem_scribe.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in HOSTS]
    assert offenders == []


def test_importing_every_core_module_loads_no_host() -> None:
    modules = [m.name for m in pkgutil.walk_packages(postmortem_scribe.__path__, "postmortem_scribe.")
               if not m.name.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {HOSTS!r})\n"
        "print(loaded)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(modules) > 20
