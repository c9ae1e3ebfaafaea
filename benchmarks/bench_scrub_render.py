"""Benchmark: scrub and make safe a 64 KB log excerpt, as one failure's draft needs.

Measures, on a realistic Airflow task log of 64 KB with a few secrets in it:

- ``scrub``: :meth:`Scrubber.lines` over the excerpt's lines (one pass, as ``Scrubber.record``
  does for ``LogExcerpt.lines``), with two host secrets registered;
- ``render``: :func:`code_block` + :func:`details` of the scrubbed excerpt, plus :func:`inline`
  on every line the draft quotes (error lines) and :func:`title`;
- ``total``: both, which issue 7 wants at most 20 ms;

and, in the same run on the same text, two baselines that say how fast this machine is: one
``str.replace`` pass and one ``re.escape`` pass over the 64 KB.  Prints medians of ``--runs``
repetitions in milliseconds and the ratios to the baselines.

    .venv/bin/python benchmarks/bench_scrub_render.py [--runs 30] [--size 65536]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable

from postmortem_scribe.render.markdown_safe import code_block, details, inline, title
from postmortem_scribe.scrub import Scrubber, clear_registry, register_secret

_TEMPLATES = [
    "[{ts}] {{taskinstance.py:{n}}} INFO - Dependencies all met for dep_context=non-requeueable"
    " deps ti=<TaskInstance: sales_daily.load_csv scheduled__2024-05-0{d}T00:00:00+00:00 [queued]>",
    "[{ts}] {{logging_mixin.py:190}} INFO - Reading s3://acme-data-lake/raw/sales/2024/05/0{d}/"
    "part-{n:05d}.csv.gz (etag {hex32})",
    "[{ts}] {{base.py:84}} INFO - Retrieving connection 'postgres_default'",
    "[{ts}] {{sql.py:{n}}} INFO - Running statement: SELECT id, amount, currency FROM sales WHERE"
    " day = '2024-05-0{d}', parameters: None",
    "[{ts}] {{sql.py:{n}}} INFO - Rows affected: {n}",
    "[{ts}] {{http.py:{n}}} DEBUG - GET https://api.example.com/v2/orders?page={d}&per_page=100"
    " -> 200 in 0.{n}s request_id={uuid}",
    "[{ts}] {{subprocess.py:93}} INFO - commit {sha} checked out; image sha256:{sha256}",
    "[{ts}] {{warnings.py:110}} WARNING - /opt/airflow/dags/sales/load.py:{n}: FutureWarning: The"
    " behavior of DataFrame concatenation with empty or all-NA entries is deprecated.",
    "[{ts}] {{standard_task_runner.py:{n}}} INFO - token_count={d} max_tokens=4096"
    " password_policy=strict auth_method=oauth @task decorated; see #4{d} by @data-team",
    "[{ts}] {{taskinstance.py:3311}} ERROR - Task failed with exception",
    "Traceback (most recent call last):",
    '  File "/opt/airflow/dags/sales/load.py", line {n}, in load_csv',
    "    df = pd.read_csv(path, sep=',', dtype=schema)",
    "pandas.errors.ParserError: Error tokenizing data. C error: Expected 4 fields in line {n},"
    " saw 5",
]
_SECRETS = [
    "[{ts}] {{base.py:84}} INFO - Using connection"
    " postgresql://etl:{host_pw}@db.internal:5432/sales",
    "[{ts}] {{http.py:77}} DEBUG - headers={{'Authorization': 'Bearer {jwt}',"
    " 'X-Api-Key': '{key}'}}",
    "[{ts}] {{env.py:12}} DEBUG - export GITHUB_TOKEN=ghp_{gh}",
    "[{ts}] {{boto.py:40}} DEBUG - credentials AKIA{akid} / {aws}",
]


def make_log(size: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """About ``size`` bytes of log lines with a secret every ~40 lines, and the host secrets."""
    rnd = random.Random(seed)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def r(alphabet: str, n: int) -> str:
        return "".join(rnd.choice(alphabet) for _ in range(n))

    host_pw = r(alnum, 20)
    lines: list[str] = []
    total = 0
    i = 0
    while total < size:
        template = rnd.choice(_SECRETS) if i % 40 == 39 else rnd.choice(_TEMPLATES)
        line = template.format(
            ts=f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}.{rnd.randint(0, 999):03d}+0000",
            n=rnd.randint(1, 99999),
            d=rnd.randint(1, 9),
            hex32=r("0123456789abcdef", 32),
            sha=r("0123456789abcdef", 40),
            sha256=r("0123456789abcdef", 64),
            uuid="-".join(r("0123456789abcdef", k) for k in (8, 4, 4, 4, 12)),
            host_pw=host_pw,
            jwt=f"eyJ{r(alnum, 30)}.eyJ{r(alnum, 60)}.{r(alnum, 43)}",
            key=r(alnum, 32),
            gh=r(alnum, 36),
            akid=r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            aws=r(alnum, 39) + "/",
        )
        if total + len(line) + 1 > size:
            break
        lines.append(line)
        total += len(line) + 1
        i += 1
    return lines, [host_pw]


def medians_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU time of ``fn`` in milliseconds.

    CPU time is printed too because the machines that run this share their cores: wall-clock
    time there also measures the neighbours, CPU time only this process.
    """
    fn()  # warm up: compiled patterns, caches
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--size", type=int, default=64 * 1024)
    args = parser.parse_args(argv)

    lines, host_secrets = make_log(args.size)
    text = "\n".join(lines)
    clear_registry()
    for value in host_secrets:
        register_secret(value, "airflow-connection-password")
    register_secret("not-in-the-log-" + "x" * 20, "github-token")
    scrubber = Scrubber(extra_secrets=["another-host-secret-value"])

    scrubbed = scrubber.lines(lines)
    error_lines = [line for line in scrubbed if "ERROR" in line or "Error" in line]

    def scrub() -> object:
        return scrubber.lines(lines)

    def render() -> object:
        body = details(f"Log excerpt ({len(scrubbed)} lines)", code_block("\n".join(scrubbed)))
        quoted = [inline(line, max_len=300) for line in error_lines]
        return (
            body,
            quoted,
            title("Post-mortem draft: sales_daily.load_csv failed: " + error_lines[-1]),
        )

    def total() -> object:
        return scrubber.lines(lines), render()

    def baseline_replace() -> object:
        return text.replace("password", "********")

    def baseline_escape() -> object:
        return re.escape(text)

    results = {
        "scrub": medians_ms(scrub, args.runs),
        "render": medians_ms(render, args.runs),
        "total": medians_ms(total, args.runs),
        "baseline str.replace": medians_ms(baseline_replace, args.runs),
        "baseline re.escape": medians_ms(baseline_escape, args.runs),
    }
    leaked = [s for s in host_secrets if s in "\n".join(scrubbed)]
    print(
        f"input: {len(text.encode())} bytes, {len(lines)} lines, {len(error_lines)} quoted lines;"
        f" median of {args.runs} runs; Python {sys.version.split()[0]}"
    )
    print(f"  {'':<22} {'wall ms':>9} {'cpu ms':>9}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:<22} {wall:9.2f} {cpu:9.2f}")
    total_wall, total_cpu = results["total"]
    for name in ("baseline str.replace", "baseline re.escape"):
        base_wall, base_cpu = results[name]
        ratio_wall = total_wall / base_wall
        ratio_cpu = total_cpu / max(base_cpu, 1e-6)
        print(f"  total / {name[9:]:<14} {ratio_wall:9.1f}x {ratio_cpu:8.1f}x")
    markers = sum(line.count("[redacted ") for line in scrubbed)
    print(f"  redaction markers: {markers}; host secrets left: {len(leaked)}")
    print(
        f"  target: total <= 20 ms for 64 KB -> wall {'within' if total_wall <= 20 else 'OVER'},"
        f" cpu {'within' if total_cpu <= 20 else 'OVER'}"
    )
    clear_registry()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
