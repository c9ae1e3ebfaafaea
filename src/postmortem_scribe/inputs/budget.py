"""Time and byte budgets for one inspection, and the words that say how far a scan got.

In the failure path an inspection must stay small: the callers pass a budget of a few seconds,
and when it runs out the report says honestly how much of the file was read
("scanned 412 MB of 2.0 GB (21%) before the 3 s budget ran out").  The CLI passes no budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def fmt_bytes(n: int | float | None) -> str:
    """Human size with one decimal: ``412 MB``, ``2.0 GB``, ``17 bytes``."""
    if n is None:
        return "an unknown number of bytes"
    n = float(n)
    if n < 1000:
        return f"{int(n)} byte{'s' if int(n) != 1 else ''}"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1000.0
        if n < 999.95 or unit == "TB":
            return f"{n:.0f} {unit}" if n >= 100 else f"{n:.1f} {unit}"
    return f"{n:.1f} TB"  # pragma: no cover - loop always returns


def fmt_seconds(s: float) -> str:
    """``3 s``, ``0.5 s``, ``20 ms``."""
    if s < 0.1:
        return f"{s * 1000:.3g} ms"
    return f"{s:g} s" if s < 10 else f"{s:.0f} s"


def fmt_count(n: int) -> str:
    return f"{n:,}"


@dataclass
class Budget:
    """Limits for one scan: wall-clock seconds and raw bytes read from the file.

    ``None`` means no limit.  ``stop_reason`` is set once, by the first check that fails, so
    every later stage sees the same reason.
    """

    seconds: float | None = None
    max_bytes: int | None = None
    started: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None
    """``time``, ``bytes``, ``decompressed`` (a bomb cap) or ``line`` (a line without a break)."""

    @property
    def deadline(self) -> float | None:
        return None if self.seconds is None else self.started + self.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def out_of_time(self) -> bool:
        if self.stop_reason:
            return True
        if self.seconds is not None and time.monotonic() >= self.started + self.seconds:
            self.stop_reason = "time"
            return True
        return False

    def check(self, raw_bytes: int) -> bool:
        """True when the scan must stop now (time up, or ``raw_bytes`` over the byte limit)."""
        if self.stop_reason:
            return True
        if self.max_bytes is not None and raw_bytes >= self.max_bytes:
            self.stop_reason = "bytes"
            return True
        return self.out_of_time()

    def stop(self, reason: str) -> None:
        if not self.stop_reason:
            self.stop_reason = reason

    def coverage_sentence(self, scanned: int | None, total: int | None) -> str:
        """Say how far the scan got and why it stopped, in one sentence."""
        return coverage_sentence(scanned, total, self.stop_reason, self.seconds, self.max_bytes)


def coverage_sentence(
    scanned: int | None,
    total: int | None,
    reason: str | None = None,
    seconds: float | None = None,
    max_bytes: int | None = None,
) -> str:
    """``scanned 412 MB of 2.0 GB (21%) before the 3 s budget ran out``."""
    if scanned is not None and total:
        pct = 100.0 * scanned / total
        pct_text = f"{pct:.0f}%" if pct >= 1 or pct == 0 else f"{pct:.2f}%"
        part = f"scanned {fmt_bytes(scanned)} of {fmt_bytes(total)} ({pct_text})"
    elif scanned is not None:
        part = f"scanned {fmt_bytes(scanned)}"
    else:
        part = "scanned part of the file"
    if reason == "time" and seconds is not None:
        why = f"before the {fmt_seconds(seconds)} budget ran out"
    elif reason == "time":
        why = "before the time budget ran out"
    elif reason == "bytes" and max_bytes is not None:
        why = f"before reaching the limit of {fmt_bytes(max_bytes)} to read"
    elif reason == "decompressed":
        why = "before the decompression limit stopped the scan"
    elif reason == "line":
        why = "before a line too long to be a text record stopped the scan"
    else:
        why = "before the scan budget ran out"
    return f"{part} {why}; problems after that point are not shown"
