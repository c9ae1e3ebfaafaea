"""Near-repeat search through LSH bands against brute force, on SQLite, in one run.

What it measures (issue 8: "an exact repeat lookup in at most 5 ms and a similar-incident search
in at most 50 ms (medians), against a brute-force baseline in the same run"):

1. exact repeat: the incident of a fingerprint key among ``--occurrences`` stored occurrences,
   through an index, against a full scan of the same table;
2. similar incidents: the incidents whose MinHash signature is at least ``--threshold`` similar
   to a new one, among ``--incidents`` incidents, through the ``incident_bands`` index
   (:func:`postmortem_scribe.fingerprint.bands`) against scoring every stored signature.

It also reports the recall of the band index (the share of the brute-force answers it found).
The schema is the one the store is asked to provide (see ``fingerprint/similarity.py``); the
signatures are synthetic families (a random signature and variants of it with a share of their
positions redrawn) because real ones take too long to make by the hundred thousand.

    .venv/bin/python benchmarks/bench_similarity.py                 # 1,000,000 occurrences
    .venv/bin/python benchmarks/bench_similarity.py --occurrences 100000 --incidents 20000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import struct
import tempfile
import time
from pathlib import Path

from postmortem_scribe.fingerprint import bands, similarity
from postmortem_scribe.fingerprint.similarity import NUM_PERM

_PACK = struct.Struct(f"<{NUM_PERM}Q")


def _variant(sig: list[int], rng: random.Random, keep: float) -> list[int]:
    return [v if rng.random() < keep else rng.getrandbits(61) for v in sig]


def build(db: sqlite3.Connection, n_incidents: int, n_occurrences: int, rng: random.Random) -> list[list[int]]:
    db.executescript(
        """
        create table incidents (id integer primary key, key text not null, signature blob not null);
        create table incident_bands (band text not null, incident integer not null);
        create table occurrences (id integer primary key, fingerprint text not null, incident integer not null);
        """
    )
    families: list[list[int]] = []
    sigs: list[list[int]] = []
    rows, band_rows = [], []
    for i in range(n_incidents):
        if families and rng.random() < 0.5:
            sig = _variant(rng.choice(families), rng, keep=rng.uniform(0.3, 0.9))
        else:
            sig = [rng.getrandbits(61) for _ in range(NUM_PERM)]
            families.append(sig)
        sigs.append(sig)
        rows.append((i, f"{rng.getrandbits(128):032x}", _PACK.pack(*sig)))
        band_rows.extend((b, i) for b in bands(sig))
    db.executemany("insert into incidents values (?, ?, ?)", rows)
    db.executemany("insert into incident_bands values (?, ?)", band_rows)
    keys = [r[1] for r in rows]
    db.executemany(
        "insert into occurrences (fingerprint, incident) values (?, ?)",
        ((keys[j % n_incidents], j % n_incidents) for j in range(n_occurrences)),
    )
    db.execute("create index ix_bands on incident_bands (band)")
    db.execute("create index ix_occ_fp on occurrences (fingerprint)")
    db.commit()
    return sigs


def exact_indexed(db: sqlite3.Connection, key: str) -> tuple[int | None, int]:
    # The incident of a key and its occurrence count: what correlation needs for a repeat.
    return db.execute("select min(incident), count(*) from occurrences where fingerprint = ?",
                      (key,)).fetchone()


def exact_scan(db: sqlite3.Connection, key: str) -> tuple[int | None, int]:
    return db.execute("select min(incident), count(*) from occurrences not indexed "
                      "where fingerprint = ?", (key,)).fetchone()


def similar_banded(db: sqlite3.Connection, sig: list[int], threshold: float, top: int = 5) -> list[tuple[float, int]]:
    query_bands = bands(sig)
    marks = ",".join("?" * len(query_bands))
    rows = db.execute(
        f"select id, signature from incidents where id in "
        f"(select distinct incident from incident_bands where band in ({marks}))",
        query_bands,
    ).fetchall()
    scored = [(similarity(sig, _PACK.unpack(blob)), i) for i, blob in rows]
    return sorted((s for s in scored if s[0] >= threshold), reverse=True)[:top]


def similar_brute(db: sqlite3.Connection, sig: list[int], threshold: float, top: int = 5) -> list[tuple[float, int]]:
    scored = [(similarity(sig, _PACK.unpack(blob)), i)
              for i, blob in db.execute("select id, signature from incidents")]
    return sorted((s for s in scored if s[0] >= threshold), reverse=True)[:top]


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - start) * 1000, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--occurrences", type=int, default=1_000_000)
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--baseline-queries", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "bench.sqlite3")
        t0 = time.perf_counter()
        sigs = build(db, args.incidents, args.occurrences, rng)
        print(f"built {args.incidents:,} incidents, {args.occurrences:,} occurrences, "
              f"{args.incidents * len(bands(sigs[0])):,} band rows in {time.perf_counter() - t0:.1f} s")
        keys = [k for (k,) in db.execute("select key from incidents order by random() limit ?",
                                         (args.queries // 2,))]
        # a new failure's key is not stored yet: the lookup must answer "none" just as fast
        keys += [f"{rng.getrandbits(128):032x}" for _ in range(args.queries - len(keys))]
        rng.shuffle(keys)
        fast = [timed(exact_indexed, db, k)[0] for k in keys]
        slow = [timed(exact_scan, db, k)[0] for k in keys[: args.baseline_queries]]
        print(f"exact repeat : indexed median {statistics.median(fast):8.3f} ms | "
              f"full scan median {statistics.median(slow):8.1f} ms | "
              f"{statistics.median(slow) / statistics.median(fast):,.0f}x")

        queries = [_variant(rng.choice(sigs), rng, keep=rng.uniform(0.6, 0.95)) for _ in range(args.queries)]
        banded = [timed(similar_banded, db, q, args.threshold) for q in queries]
        brute = [timed(similar_brute, db, q, args.threshold) for q in queries[: args.baseline_queries]]
        found = expected = 0
        for (_, got), (_, want) in zip(banded, brute):
            want_ids = {i for _, i in want}
            expected += len(want_ids)
            found += len(want_ids & {i for _, i in got})
        b_med = statistics.median(t for t, _ in banded)
        s_med = statistics.median(t for t, _ in brute)
        print(f"similar      : banded median {b_med:8.3f} ms | brute force median {s_med:8.1f} ms | "
              f"{s_med / b_med:,.0f}x | band recall {found}/{expected} of brute-force top results "
              f"(threshold {args.threshold})")
        db.close()


if __name__ == "__main__":
    main()
