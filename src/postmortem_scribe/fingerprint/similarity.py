"""Similarity signatures for near-repeat search: MinHash plus LSH banding.

A :class:`~postmortem_scribe.records.Fingerprint` key only says "exactly the same failure".
To show a new failure the past incidents that *look like it*, each record also gets a MinHash
signature over shingles of its normalised text (exception types, message words, frames, error
log lines).  The share of equal positions between two signatures estimates the Jaccard
similarity of the two shingle sets (:func:`similarity`).

Comparing a new signature with every stored one is linear in the number of incidents, so the
store indexes :func:`bands`: the signature is cut into ``BANDS`` bands of ``ROWS`` values and
each band is hashed to a short string.  Two signatures share at least one band string with
probability ``1 - (1 - J**ROWS)**BANDS``; with 32 bands of 4 rows that is 0.87 at J = 0.5,
0.99 at J = 0.6 and 0.2 at J = 0.25, so a lookup of the new failure's 32 band strings finds
nearly every incident above the default ``similar_threshold`` (0.6) and few below, and the
exact :func:`similarity` is then computed on those candidates only.

What the store needs (table ``incident_bands(band TEXT, incident TEXT)``, index on ``band``):
insert one row per string of ``bands(signature)`` when an incident is created; to search,
``SELECT DISTINCT incident FROM incident_bands WHERE band IN (<the 32 strings>)``, load those
incidents' signatures, score them with :func:`similarity`, keep those >= the threshold, best
first.  Signatures are plain lists of ints below 2**61, so they fit a JSON column or
SQLite/PostgreSQL BIGINT.
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
from collections.abc import Iterable, Sequence

__all__ = [
    "BANDS",
    "NUM_PERM",
    "ROWS",
    "bands",
    "minhash",
    "shingles",
    "similarity",
]

NUM_PERM = 128
"""Length of a signature."""
ROWS = 4
"""Values per band."""
BANDS = NUM_PERM // ROWS

_PRIME = (1 << 61) - 1  # Mersenne prime: cheap modulo, values fit a signed 64-bit column.
# Fixed seed: signatures are stored, so every process and release must draw the same numbers.
# Changing the seed or NUM_PERM invalidates stored signatures (bump the band prefix below too).
_rng = random.Random(20240601)
_A = [_rng.randrange(1, _PRIME) for _ in range(NUM_PERM)]
_B = [_rng.randrange(0, _PRIME) for _ in range(NUM_PERM)]
_BAND_VERSION = "m1"

_WORD = re.compile(r"<\w+>|[A-Za-z_][\w.]*|\S")


def _h64(text: str) -> int:
    return struct.unpack("<Q", hashlib.blake2b(text.encode("utf-8", "replace"),
                                               digest_size=8).digest())[0]


def shingles(texts: Iterable[str], *, size: int = 3) -> set[str]:
    """Word ``size``-grams of each text (and the text itself when it is shorter).

    Tokens are words, placeholders (``<num>``) and single punctuation marks, so that
    "line <num>, saw <num>" and "line <num> saw <num>" still share most shingles.
    """
    out: set[str] = set()
    for text in texts:
        words = _WORD.findall(text.lower())
        if not words:
            continue
        if len(words) <= size:
            out.add(" ".join(words))
            continue
        for i in range(len(words) - size + 1):
            out.add(" ".join(words[i:i + size]))
    return out


def minhash(features: Iterable[str], *, num_perm: int = NUM_PERM) -> list[int]:
    """MinHash signature (``num_perm`` ints below 2**61) of a set of strings; ``[]`` if empty."""
    hashes = {_h64(f) for f in features}
    if not hashes:
        return []
    n = max(1, min(num_perm, NUM_PERM))
    sig = []
    for a, b in zip(_A[:n], _B[:n]):
        sig.append(min((a * h + b) % _PRIME for h in hashes))
    return sig


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal positions.

    Signatures of different lengths are compared over the shorter one (positions are drawn
    from one fixed sequence, so a prefix is itself a valid signature).  Empty or malformed
    input gives 0.0; this never raises.
    """
    try:
        n = min(len(a), len(b))
        if n == 0:
            return 0.0
        same = sum(1 for x, y in zip(a, b) if x == y)
        return same / n
    except Exception:
        return 0.0


def bands(signature: Sequence[int], *, rows: int = ROWS) -> list[str]:
    """LSH band strings of a signature, for the store's ``incident_bands`` index.

    Each string is ``"<version><band number>:<16 hex digits>"``, e.g. ``"m107:3fa2..."``; the
    band number is part of the string, so equal values in different bands never collide.
    An empty signature gives no bands.  Never raises.
    """
    try:
        rows = max(1, int(rows))
        out = []
        for i in range(0, len(signature) - rows + 1, rows):
            chunk = ",".join(str(int(v)) for v in signature[i:i + rows])
            digest = hashlib.blake2b(chunk.encode(), digest_size=8).hexdigest()
            out.append(f"{_BAND_VERSION}{i // rows:02d}:{digest}")
        return out
    except Exception:
        return []
