"""Issue 8's figures, reproduced through the installed `scribe` CLI, for the closing note.

Writes the chosen split of tests/corpus/failures.jsonl as `{"id", "text", "pipeline", "task"}`
lines, runs `scribe classify --jsonl` and `scribe group --jsonl` on them (the console script
next to this Python), and prints the per-label table, macro-F1 next to the exception-type
baseline, pairwise grouping precision / recall, near-miss separation and the confusion matrix.

    .venv/bin/python benchmarks/corpus_report.py                 # held-back "test" split
    .venv/bin/python benchmarks/corpus_report.py --split tune
    .venv/bin/python benchmarks/corpus_report.py --classified c.jsonl --grouped g.jsonl

With --classified/--grouped it scores outputs saved earlier instead of running the CLI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from postmortem_scribe.classify.evaluate import corpus_figures, format_figures

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "failures.jsonl"


def load_split(split: str, corpus: Path = CORPUS) -> list[dict]:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r["split"] == split]


def cli_lines(rows: list[dict]) -> str:
    """The CLI's input: id, text and the identity (pipeline, task) of each failure."""
    return "".join(json.dumps({"id": r["id"], "text": r["text"], "pipeline": r.get("pipeline"),
                               "task": r.get("task")}) + "\n" for r in rows)


def run_cli(scribe: str, command: str, input_path: Path) -> list[dict]:
    done = subprocess.run([scribe, command, "--jsonl", str(input_path)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"scribe {command} failed ({done.returncode}): {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "tune", "all"])
    parser.add_argument("--scribe", default=str(Path(sys.executable).with_name("scribe")),
                        help="the scribe console script (default: next to this Python)")
    parser.add_argument("--classified", type=Path, help="saved `scribe classify --jsonl` output")
    parser.add_argument("--grouped", type=Path, help="saved `scribe group --jsonl` output")
    args = parser.parse_args(argv)

    rows = load_split(args.split)
    if args.classified and args.grouped:
        classified = [json.loads(x) for x in args.classified.read_text().splitlines() if x.strip()]
        grouped = [json.loads(x) for x in args.grouped.read_text().splitlines() if x.strip()]
    else:
        with tempfile.TemporaryDirectory(prefix="corpus-report-") as tmp:
            path = Path(tmp) / f"{args.split}.jsonl"
            path.write_text(cli_lines(rows), encoding="utf-8")
            classified = run_cli(args.scribe, "classify", path)
            grouped = run_cli(args.scribe, "group", path)
    figures = corpus_figures(rows, classified, grouped)
    print(format_figures(figures, title=f"corpus split {args.split!r} through `scribe classify/group --jsonl`"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
