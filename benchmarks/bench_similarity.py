"""Exact-repeat lookup and near-repeat search on the real incident store (SQLite), against brute
force in the same run.

Issue 8: "A benchmark with 1,000,000 stored occurrences on SQLite: an exact repeat lookup in at
most 5 ms and a similar-incident search in at most 50 ms (medians), against a brute-force
baseline in the same run."

What is built: a SQLite store made by :class:`postmortem_scribe.store.Store` itself (its tables,
indexes and pragmas), filled through SQLAlchemy Core batch inserts with ``--incidents``
incidents (signature JSON and one ``scribe_incident_bands`` row per LSH band, as
``record_occurrence`` writes them) and ``--occurrences`` occurrences spread over them (a few
incidents repeat a lot, most rarely).

Signatures are realistic: ``--real`` of them are MinHash signatures that
:func:`postmortem_scribe.fingerprint.fingerprint` computes from the labelled corpus texts with a
few words replaced (a new run id, another table, another host); the rest are derived from those
by redrawing a few positions (what a changed shingle does to a MinHash signature), so the store
holds families of look-alike failures, as a real one does.  That is pessimistic for the band
index: ~230 failure shapes behind 100,000 incidents make larger candidate sets than a real store.

What is timed (medians over ``--queries`` lookups, half of them keys that are stored):

1. exact repeat: what ``pipeline.handle`` / ``Store.record_occurrence`` read before they decide
   -- ``Store.is_reported(occurrence_key)``, the fingerprint alias, and
   ``select ... from scribe_incidents where fingerprint = ? order by generation desc limit 1``;
   against the same statements with ``NOT INDEXED`` (a full scan of the same tables).
   Also timed, for information: a whole ``Store.record_occurrence`` of a repeat (writes included).
2. similar incidents: ``Store.similar_incidents(signature, bands, similarity=..., threshold=0.6)``
   for new signatures that are near repeats of stored ones; against scoring every stored
   signature (load all, ``similarity`` each, keep >= threshold, best 3).  The band index's recall
   against the brute-force answers is reported too.

    .venv/bin/python benchmarks/bench_similarity.py                          # 1,000,000 / 100,000
    .venv/bin/python benchmarks/bench_similarity.py --occurrences 100000 --incidents 10000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from postmortem_scribe.classify.evaluate import record_from_text
from postmortem_scribe.fingerprint import bands, fingerprint, similarity
from postmortem_scribe.records import Classification, FailureRecord, Fingerprint
from postmortem_scribe.store import Store, incident_key
from postmortem_scribe.store.schema import fingerprint_aliases, incident_bands, incidents, occurrences

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "failures.jsonl"
BATCH = 20_000
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_FILLER = ["orders", "customers", "warehouse", "events", "daily", "staging", "region", "shard",
           "batch", "invoice", "ledger", "session", "metrics", "export", "replica", "tenant"]


# -------------------------------------------------------------------------------- signatures


def _perturb(text: str, rng: random.Random, share: float) -> str:
    """The text with about ``share`` of its words replaced: another table, run or host."""
    def swap(m: re.Match[str]) -> str:
        return rng.choice(_FILLER) + str(rng.randrange(1000)) if rng.random() < share else m.group(0)
    return _WORD.sub(swap, text)


def real_signatures(n: int, rng: random.Random) -> list[list[int]]:
    texts = [json.loads(x)["text"] for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    out: list[list[int]] = []
    while len(out) < n:
        text = rng.choice(texts)
        sig = fingerprint(record_from_text(_perturb(text, rng, rng.uniform(0.0, 0.3)))).signature
        if sig:
            out.append(sig)
    return out


def mutate(sig: list[int], rng: random.Random, slots: int) -> list[int]:
    out = list(sig)
    for i in rng.sample(range(len(out)), min(slots, len(out))):
        out[i] = rng.getrandbits(61)
    return out


# -------------------------------------------------------------------------------- building


def _fp(i: int) -> str:
    return hashlib.sha256(f"bench-incident-{i}".encode()).hexdigest()[:32]


def build(store: Store, n_incidents: int, n_occurrences: int, sigs: list[list[int]],
          rng: random.Random) -> list[str]:
    """Fill the store; returns the fingerprint of each incident (index = incident number)."""
    fps = [_fp(i) for i in range(n_incidents)]
    now = "2026-01-01T00:00:00+00:00"
    # Occurrences per incident: a long tail (a few noisy incidents, most seen once or twice).
    weights = [1.0 / (1 + (i % 997)) ** 0.8 for i in range(n_incidents)]
    counts = [1] * n_incidents
    extra = n_occurrences - n_incidents
    for i in rng.choices(range(n_incidents), weights=weights, k=max(0, extra)):
        counts[i] += 1

    def incident_rows() -> Iterator[dict[str, Any]]:
        for i, fp in enumerate(fps):
            yield {"key": incident_key(fp, 1), "fingerprint": fp, "generation": 1,
                   "status": "open" if i % 5 else "closed", "category": "code_bug",
                   "title": f"bench incident {i}", "pipeline": f"pipeline_{i % 500}",
                   "task": f"task_{i % 37}", "lead": None, "first_seen": now, "last_seen": now,
                   "occurrences": counts[i], "previous_key": None, "flaky": False, "labels": "[]",
                   "signature": json.dumps(sigs[i]), "summary": "", "storm_key": None}

    def band_rows() -> Iterator[dict[str, Any]]:
        for i, fp in enumerate(fps):
            key = incident_key(fp, 1)
            for b in bands(sigs[i]):
                yield {"band": b, "incident_key": key}

    def occurrence_rows() -> Iterator[dict[str, Any]]:
        for i, fp in enumerate(fps):
            key = incident_key(fp, 1)
            for n in range(counts[i]):
                yield {"occurrence_key": f"airflow|pipeline_{i % 500}|run_{i}_{n}|task_{i % 37}|-1|1",
                       "incident_key": key, "fingerprint": fp, "orchestrator": "airflow",
                       "pipeline": f"pipeline_{i % 500}", "task": f"task_{i % 37}",
                       "run_id": f"run_{i}_{n}", "try_number": 1, "occurred_at": now,
                       "category": "code_bug", "record": '{"bench": true}'}

    for table, rows in ((incidents, incident_rows()), (incident_bands, band_rows()),
                        (occurrences, occurrence_rows())):
        with store.transaction() as conn:  # one transaction per table: few, large commits
            # A bigger page cache for the load only: inserting into large indexes with SQLite's
            # default 2 MiB cache spends most of its time re-reading pages.
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
    with store.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("PRAGMA cache_size = -2000")  # back to the default for the timings
    return fps


# -------------------------------------------------------------------------------- lookups


def exact_via_store(store: Store, occurrence_key: str, fp: str) -> tuple[bool, Any]:
    """What handle()/record_occurrence read before deciding new / repeat / regression."""
    reported = store.is_reported(occurrence_key)
    with store.engine.connect() as conn:
        alias = conn.execute(sa.select(fingerprint_aliases.c.incident_key)
                             .where(fingerprint_aliases.c.fingerprint == fp)).scalar()
        latest = conn.execute(sa.select(incidents).where(incidents.c.fingerprint == fp)
                              .order_by(incidents.c.generation.desc()).limit(1)).first()
    return reported, (alias, latest.key if latest else None)


def exact_scan(store: Store, occurrence_key: str, fp: str) -> tuple[bool, Any]:
    """The same questions without the indexes: full scans of the same tables."""
    with store.engine.connect() as conn:
        reported = conn.exec_driver_sql(
            "select id from scribe_occurrences not indexed where occurrence_key = ?",
            (occurrence_key,)).first() is not None
        alias = conn.exec_driver_sql(
            "select incident_key from scribe_fingerprint_aliases not indexed where fingerprint = ?",
            (fp,)).scalar()
        latest = conn.exec_driver_sql(
            "select key from scribe_incidents not indexed where fingerprint = ? "
            "order by generation desc limit 1", (fp,)).scalar()
    return reported, (alias, latest)


def similar_brute(store: Store, sig: list[int], threshold: float, limit: int = 3) -> list[tuple[str, float]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("select key, signature from scribe_incidents").all()
    scored = [(key, similarity(sig, json.loads(s))) for key, s in rows if s]
    best = sorted((x for x in scored if x[1] >= threshold), key=lambda x: -x[1])
    return [(k, round(s, 3)) for k, s in best[:limit]]


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000.0, out


def repeat_record(fp: str, n: int) -> FailureRecord:
    record = FailureRecord(pipeline="pipeline_bench", task="task_bench", orchestrator="airflow",
                           occurrence_key=f"airflow|pipeline_bench|bench_run_{n}|task_bench|-1|1",
                           run_id=f"bench_run_{n}", try_number=1, detected_by="bench")
    record.classification = Classification(category="code_bug", confidence=0.9)
    record.fingerprint = Fingerprint(key=fp, basis="bench")
    return record


# -------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--occurrences", type=int, default=1_000_000)
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--real", type=int, default=5_000, help="signatures computed from corpus texts")
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--similar-queries", type=int, default=300)
    ap.add_argument("--baseline-queries", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--keep", type=Path, help="build the store in this directory and keep it")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)

    t0 = time.perf_counter()
    real = real_signatures(min(args.real, args.incidents), rng)
    sigs = list(real)
    while len(sigs) < args.incidents:
        sigs.append(mutate(rng.choice(real), rng, rng.randint(2, 40)))
    rng.shuffle(sigs)
    t_sig = time.perf_counter() - t0

    tmp = tempfile.TemporaryDirectory(prefix="bench-store-")
    where = args.keep or Path(tmp.name)
    where.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{where / 'store.sqlite'}")
    t1 = time.perf_counter()
    fps = build(store, args.incidents, args.occurrences, sigs, rng)
    t_build = time.perf_counter() - t1
    with store.engine.connect() as conn:
        n_occ = conn.execute(sa.select(sa.func.count()).select_from(occurrences)).scalar()
        n_inc = conn.execute(sa.select(sa.func.count()).select_from(incidents)).scalar()
        n_band = conn.execute(sa.select(sa.func.count()).select_from(incident_bands)).scalar()
    size = (where / "store.sqlite").stat().st_size / 2**20
    print(f"store: {n_occ:,} occurrences, {n_inc:,} incidents, {n_band:,} band rows, {size:,.0f} MiB "
          f"(signatures {t_sig:.1f} s, {len(real):,} from corpus texts; inserts {t_build:.1f} s)")

    # ---- exact repeat: half stored (a repeat), half new (answer "none" as fast)
    probes = []
    for _ in range(args.queries):
        if rng.random() < 0.5:
            i = rng.randrange(args.incidents)
            probes.append((f"airflow|pipeline_{i % 500}|run_{i}_0|task_{i % 37}|-1|1", fps[i]))
        else:
            probes.append((f"airflow|new|run_{rng.getrandbits(64):x}|t|-1|1", f"{rng.getrandbits(128):032x}"))
    exact_via_store(store, *probes[0])  # warm the connection pool
    fast = [timed(exact_via_store, store, k, fp) for k, fp in probes]
    slow = [timed(exact_scan, store, k, fp) for k, fp in probes[: args.baseline_queries]]
    agree = all(a[1] == b[1] for a, b in zip(fast, slow))
    f_med = statistics.median(t for t, _ in fast)
    s_med = statistics.median(t for t, _ in slow)
    print(f"exact repeat lookup : store median {f_med:7.3f} ms (p95 {sorted(t for t, _ in fast)[int(0.95 * len(fast))]:.3f}) "
          f"| full-scan baseline median {s_med:9.1f} ms | {s_med / f_med:,.0f}x | same answers: {agree} "
          f"| target <= 5 ms: {'met' if f_med <= 5 else 'MISSED'}")

    # ---- a whole record_occurrence of a repeat (writes and commit included), for information
    open_fps = [fp for i, fp in enumerate(fps) if i % 5][:200]
    whole = [timed(store.record_occurrence, repeat_record(fp, n), render=lambda c, i: [],
                   render_digest=lambda i, e: "", bands=(), comment_window_seconds=600.0)[0]
             for n, fp in enumerate(open_fps)]
    print(f"record_occurrence   : repeat, writes included, median {statistics.median(whole):7.3f} ms "
          f"over {len(whole)} calls")

    # ---- similar incidents: near repeats of stored failures, as a new failure would be
    queries = [mutate(sigs[rng.randrange(args.incidents)], rng, rng.randint(8, 45))
               for _ in range(args.similar_queries)]
    store.similar_incidents(queries[0], bands(queries[0]), similarity=similarity, threshold=args.threshold)
    banded = [timed(store.similar_incidents, q, bands(q), similarity=similarity,
                    threshold=args.threshold, limit=3) for q in queries]
    brute = [timed(similar_brute, store, q, args.threshold, 3) for q in queries[: args.baseline_queries]]
    found = wanted = 0
    for (_, got), (_, want) in zip(banded, brute):
        want_keys = {k for k, _ in want}
        wanted += len(want_keys)
        found += len(want_keys & {s.incident for s in got})
    b_med = statistics.median(t for t, _ in banded)
    r_med = statistics.median(t for t, _ in brute)
    hits = sum(1 for _, got in banded if got)
    print(f"similar incidents   : Store.similar_incidents median {b_med:7.3f} ms "
          f"(p95 {sorted(t for t, _ in banded)[int(0.95 * len(banded))]:.3f}) | brute-force median {r_med:9.1f} ms "
          f"| {r_med / b_med:,.0f}x | {hits}/{len(banded)} queries found >= 1 incident >= {args.threshold} "
          f"| band recall vs brute force {found}/{wanted} | target <= 50 ms: {'met' if b_med <= 50 else 'MISSED'}")
    store.dispose()
    if not args.keep:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
