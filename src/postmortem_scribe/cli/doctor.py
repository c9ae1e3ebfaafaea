"""``scribe doctor``: what works, what does not, and what to do about it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..checks import Check
from ..config import Config




def config_checks(config: Config) -> list[Check]:
    checks = [Check("config", not config.problems,
                    f"loaded from {config.source}" if config.source else
                    "no SCRIBE_CONFIG file; using defaults and SCRIBE_* variables")]
    for problem in config.problems:
        checks.append(Check("config", False, problem))
    if config.default_lead or any(r.lead for r in config.routes):
        leads = sorted({x for x in [config.default_lead, *(r.lead for r in config.routes)] if x})
        checks.append(Check("leads", True, f"configured: {', '.join(leads)}"))
    else:
        checks.append(Check("leads", False, "no lead configured; drafts are unassigned. "
                            "Set SCRIBE_LEAD or add [[routes]] with a lead", warning=True))
    return checks


def store_checks(config: Config) -> list[Check]:
    from ..store import open_store, safe_url

    try:
        store = open_store(config.store_url)
    except Exception as exc:  # noqa: BLE001
        return [Check("store", False, f"cannot open {safe_url(config.store_url or '')}: {exc}")]
    counts = store.outbox_counts()
    checks = [Check("store", True, f"{safe_url(store.url)} (store version {store.version()}, "
                    f"{len(store.incidents(limit=100000))} incidents)")]
    pending, failed = counts.get("pending", 0), counts.get("failed", 0)
    checks.append(Check("outbox", failed == 0,
                        f"{pending} waiting, {failed} failed, {counts.get('sent', 0)} delivered"
                        + ("; `scribe show ID` says why, `scribe flush` retries" if pending or failed else ""),
                        warning=failed == 0 and pending > 0))
    return checks


def template_checks(config: Config) -> list[Check]:
    from ..records import Correlation, ExceptionInfo, FailureRecord, Route
    from ..render import renderer

    sample = FailureRecord(pipeline="doctor", task="check", orchestrator="cli",
                           occurrence_key="doctor", exceptions=[ExceptionInfo("ValueError", "sample")])
    where = config.templates_dir or str(renderer.packaged_templates_dir())
    try:
        draft = renderer.render_draft(sample, Correlation(kind="new", incident="doctor"),
                                      Route(lead=None), config)
    except Exception as exc:  # noqa: BLE001
        return [Check("templates", False, f"{where}: rendering a sample draft failed: {exc}")]
    return [Check("templates", True, f"{where} (sample draft: {len(draft.body)} characters)")]


def publisher_checks(config: Config, *, create_labels: bool = False) -> list[Check]:
    if not config.github_repo:
        out = Path(config.output_dir).resolve()
        try:
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=out, prefix=".doctor-"):
                pass
            return [Check("publisher", True, f"local Markdown drafts in {out} "
                          "(set SCRIBE_GITHUB_REPO to open GitHub issues)")]
        except OSError as exc:
            return [Check("publisher", False, f"cannot write drafts to {out}: {exc.strerror or exc}")]
    try:
        from ..publish.github.doctor import github_checks
        from ..store import open_store

        return github_checks(config, open_store(config.store_url), create_labels=create_labels)
    except Exception as exc:  # noqa: BLE001
        return [Check("github", False, f"GitHub checks could not run: {type(exc).__name__}: {exc}")]


def run_doctor(config: Config, *, create_labels: bool = False) -> int:
    checks = (config_checks(config) + store_checks(config) + template_checks(config)
              + publisher_checks(config, create_labels=create_labels))
    width = max(len(c.name) for c in checks)
    for c in checks:
        status = "ok  " if c.ok else ("warn" if c.warning else "FAIL")
        print(f"[{status}] {c.name.ljust(width)}  {c.detail}")
    failed = [c for c in checks if not c.ok and not c.warning]
    print(f"\n{len(checks) - len(failed)} of {len(checks)} checks passed" if failed
          else f"\nall {len(checks)} checks passed" + (" (with warnings)" if any(c.warning for c in checks) else ""))
    return 1 if failed else 0


__all__ = ["Check", "run_doctor"]
