"""`make demo-airflow`: run the unedited example DAG twice with the plugin installed.

1. A fresh AIRFLOW_HOME under .scribe-demo/airflow, the metadata DB migrated.
2. `airflow dags test orders_daily`: the task fails on the malformed CSV; the plugin, found
   through its entry point, writes a post-mortem draft (no GitHub repository is configured, so
   the local publisher writes Markdown).  The draft is printed.
3. The same DAG again: the same failure is recognised as a repeat of the open incident and added
   to the same draft as a comment, which is printed.

Run it with the Airflow virtualenv's Python (the Makefile does): it starts the `airflow`
command next to that interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent
DEMO = ROOT / ".scribe-demo" / "airflow"
DRAFTS = DEMO / "postmortems"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
COMMENT_RULE = "\n\n---\n\n"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCRIBE_", "AIRFLOW__", "AIRFLOW_VAR_", "AIRFLOW_CONN_"))}
    env.update({
        "AIRFLOW_HOME": str(DEMO / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(DEMO / "logs"),
        "SCRIBE_STORE_URL": f"sqlite:///{DEMO / 'store.db'}",
        "SCRIBE_OUTPUT_DIR": str(DRAFTS),
        "SCRIBE_LEAD": "oncall-data",
    })
    return env


def run(args: list[str], env: dict[str, str], log_name: str) -> int:
    started = time.monotonic()
    log_path = DEMO / log_name
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.call(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=DEMO)
    print(f"   ({' '.join(Path(args[0]).name if i == 0 else a for i, a in enumerate(args))}: "
          f"exit {code}, {time.monotonic() - started:.1f} s, "
          f"output in {log_path.relative_to(ROOT)})")
    return code


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "home").mkdir(parents=True)
    env = environment()

    print("== 1. A fresh Airflow 3.3 home; the plugin is installed, the DAG is not edited")
    plugins = subprocess.run([AIRFLOW, "plugins"], env=env, capture_output=True, text=True,
                             cwd=DEMO)
    listed = "postmortem_scribe" in plugins.stdout
    print(f"   `airflow plugins` lists postmortem_scribe: {'yes' if listed else 'NO'}")
    if run([AIRFLOW, "db", "migrate"], env, "db-migrate.log") != 0:
        print("airflow db migrate failed; see the log above", file=sys.stderr)
        return 1

    print("\n== 2. `airflow dags test orders_daily`: the task fails on a malformed CSV")
    run([AIRFLOW, "dags", "test", "orders_daily"], env, "run-1.log")
    files = sorted(DRAFTS.glob("*.md"))
    if len(files) != 1:
        print(f"expected one draft in {DRAFTS}, found {len(files)}", file=sys.stderr)
        return 1
    draft = files[0]
    first = draft.read_text(encoding="utf-8")
    print(f"   draft written: {draft.relative_to(ROOT)}\n")
    print(_indent(first))

    print("\n== 3. The same DAG again: a repeat of the open incident, not a new draft")
    run([AIRFLOW, "dags", "test", "orders_daily"], env, "run-2.log")
    files = sorted(DRAFTS.glob("*.md"))
    second = draft.read_text(encoding="utf-8")
    print(f"   drafts now: {len(files)} ({', '.join(f.name for f in files)})")
    comments = second.split(COMMENT_RULE)[1:]
    if not comments:
        print("   no comment was added (the repeat may wait in the outbox: `scribe flush`)")
    else:
        recurrence = [line for line in second.splitlines() if "scribe:recurrence" in line]
        if recurrence:
            print("   the draft's recurrence line now reads:")
            print(_indent(recurrence[0]))
        print("   and a comment was added to the same draft:\n")
        print(_indent(COMMENT_RULE.join(comments)))
    return 0 if len(files) == 1 else 1


def _indent(text: str) -> str:
    return "\n".join("   | " + line for line in text.rstrip().splitlines())


if __name__ == "__main__":
    sys.exit(main())
