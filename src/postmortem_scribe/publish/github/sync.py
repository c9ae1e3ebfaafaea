"""``scribe sync``: read the state of our issues back into the store.

People close, reopen, relabel and reassign post-mortem issues on GitHub.  Whether the next
failure is a repeat (comment on the open issue) or a regression (the post-mortem was closed and
the failure came back) must be judged on that current state, so:

* :func:`sync` lists our labelled issues once (paginated, newest updates first) and updates every
  incident it finds by its hidden marker; incidents whose issue lost the label are fetched one by
  one with conditional GETs.
* :func:`refresh_incident` refreshes one incident about to be touched with a single conditional
  GET (``If-None-Match`` with the stored ETag; a ``304`` changes nothing and costs no rate limit).

Neither raises: problems are returned in the result, in plain words.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ...config import Config
from ...store import IncidentRow, Store
from ..marker import find_incident
from .client import GitHubError
from .publisher import GitHubPublisher

log = logging.getLogger("postmortem_scribe.github")

MAX_PAGES = 10
MAX_SINGLE_FETCHES = 100


@dataclass
class SyncResult:
    """What :func:`sync` found and changed."""

    checked: int = 0
    """Incidents whose issue was read."""
    updated: list[str] = field(default_factory=list)
    """Incidents whose stored state changed."""
    closed: list[str] = field(default_factory=list)
    """Incidents now closed (their next failure is a regression)."""
    reopened: list[str] = field(default_factory=list)
    """Incidents a person reopened (their next failure is a repeat)."""
    linked: list[str] = field(default_factory=list)
    """Incidents whose issue was found by its marker though the store did not know it."""
    missing: list[str] = field(default_factory=list)
    """Incidents with an issue number GitHub no longer shows (deleted, transferred)."""
    learned: list[str] = field(default_factory=list)
    """Triage decisions recorded: a corrected category, a "not a repeat"."""
    errors: list[str] = field(default_factory=list)
    calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"{self.checked} issues read", f"{len(self.updated)} incidents updated"]
        if self.closed:
            parts.append(f"closed: {', '.join(self.closed)}")
        if self.reopened:
            parts.append(f"reopened: {', '.join(self.reopened)}")
        if self.linked:
            parts.append(f"issue found for: {', '.join(self.linked)}")
        if self.missing:
            parts.append(f"issue gone for: {', '.join(self.missing)}")
        if self.learned:
            parts.append(f"learned from triage: {', '.join(self.learned)}")
        if self.errors:
            parts.append("problems: " + "; ".join(self.errors))
        return "; ".join(parts)


@dataclass
class RefreshResult:
    """What :func:`refresh_incident` did for one incident."""

    incident: IncidentRow | None
    """The incident as stored after the refresh (None if the key is unknown)."""
    changed: bool = False
    not_modified: bool = False
    """GitHub answered 304: the stored state is current."""
    error: str | None = None
    calls: int = 0


def sync(store: Store, config: Config, *, publisher: GitHubPublisher | None = None,
         deadline: float | None = None, max_pages: int = MAX_PAGES) -> SyncResult:
    """Read our issues' state (open, closed, reopened, labels, assignee) into ``store``."""
    result = SyncResult()
    if not config.github_repo:
        result.errors.append("no GitHub repository configured (SCRIBE_GITHUB_REPO); nothing to sync")
        return result
    try:
        publisher = publisher or GitHubPublisher.from_config(config)
        client = publisher.client
    except Exception as exc:  # noqa: BLE001
        result.errors.append(f"could not set up the GitHub client: {type(exc).__name__}")
        return result
    before = client.thread_calls()
    try:
        rows = {row.key: row for row in store.incidents(limit=1_000_000)}
        seen: set[str] = set()
        params = {"labels": publisher.marker_label, "state": "all", "sort": "updated",
                  "direction": "desc", "per_page": 100}
        for issue in client.paginate(client.repo_path("/issues"), params, deadline=deadline,
                                     max_pages=max_pages):
            if not isinstance(issue, dict) or issue.get("pull_request"):
                continue
            key = find_incident(issue.get("body"))
            if key is None or key in seen or key not in rows:
                continue
            seen.add(key)
            result.checked += 1
            _apply(store, rows[key], issue, None, result)
        fetched = 0
        for row in rows.values():
            if row.key in seen or row.issue_number is None or fetched >= MAX_SINGLE_FETCHES:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                result.errors.append("out of time; run `scribe sync` again for the rest")
                break
            fetched += 1
            refreshed = refresh_incident(store, config, row.key, publisher=publisher,
                                         deadline=deadline, _result=result)
            if refreshed.error:
                result.errors.append(refreshed.error)
    except GitHubError as err:
        result.errors.append(err.message)
    except Exception as exc:  # noqa: BLE001 - sync must not crash the CLI or the host
        log.error("postmortem-scribe: sync failed: %s", client.redact(f"{type(exc).__name__}: {exc}"))
        result.errors.append(f"internal error during sync: {type(exc).__name__}")
    result.calls = client.thread_calls() - before
    return result


def refresh_incident(store: Store, config: Config, key: str, *,
                     publisher: GitHubPublisher | None = None, deadline: float | None = None,
                     _result: SyncResult | None = None) -> RefreshResult:
    """Refresh one incident from its issue with one conditional GET; never raises."""
    try:
        row = store.incident(key)
    except Exception as exc:  # noqa: BLE001
        return RefreshResult(None, error=f"could not read incident {key} from the store: "
                             f"{type(exc).__name__}")
    if row is None:
        return RefreshResult(None, error=f"no incident {key!r} in the store")
    if row.issue_number is None or not config.github_repo:
        return RefreshResult(row)
    try:
        publisher = publisher or GitHubPublisher.from_config(config)
        client = publisher.client
    except Exception as exc:  # noqa: BLE001
        return RefreshResult(row, error=f"could not set up the GitHub client: {type(exc).__name__}")
    before = client.thread_calls()
    result = _result or SyncResult()
    try:
        headers = {"If-None-Match": row.issue_etag} if row.issue_etag else None
        response = client.get(client.repo_path(f"/issues/{row.issue_number}"), headers=headers,
                              deadline=deadline, expect=(200, 304))
        if response.status == 304:
            return RefreshResult(row, not_modified=True, calls=client.thread_calls() - before)
        issue = response.data if isinstance(response.data, dict) else {}
        result.checked += 1
        changed = _apply(store, row, issue, response.etag, result)
        return RefreshResult(store.incident(key), changed=changed,
                             calls=client.thread_calls() - before)
    except GitHubError as err:
        if err.kind in ("not_found", "gone") and err.status in (404, 410):
            result.missing.append(row.key)
        return RefreshResult(row, error=f"incident {row.key}, issue #{row.issue_number}: {err.message}",
                             calls=client.thread_calls() - before)
    except Exception as exc:  # noqa: BLE001
        return RefreshResult(row, error=f"internal error refreshing {key}: {type(exc).__name__}",
                             calls=client.thread_calls() - before)


def issue_state(issue: dict[str, Any]) -> str:
    """``open``, ``closed`` or ``reopened`` (open again after having been closed)."""
    state = str(issue.get("state") or "open")
    if state == "open" and issue.get("state_reason") == "reopened":
        return "reopened"
    return state


def _apply(store: Store, row: IncidentRow, issue: dict[str, Any], etag: str | None,
           result: SyncResult) -> bool:
    """Write what the issue says into the incident; True if anything changed."""
    state = issue_state(issue)
    labels = [lab.get("name") if isinstance(lab, dict) else str(lab) for lab in issue.get("labels") or []]
    labels = [name for name in labels if name]
    assignee = (issue.get("assignee") or {}).get("login") if isinstance(issue.get("assignee"), dict) else None
    if assignee is None:
        assignee = next((a.get("login") for a in issue.get("assignees") or [] if isinstance(a, dict)), None)
    values: dict[str, Any] = {}
    if isinstance(issue.get("number"), int) and row.issue_number != issue["number"]:
        values["issue_number"] = issue["number"]
        values["issue_url"] = issue.get("html_url")
        result.linked.append(row.key)
    if row.issue_state != state:
        values["issue_state"] = state
    if list(row.labels) != labels:
        values["labels"] = labels
    if assignee and assignee != row.lead:
        values["lead"] = assignee  # a person reassigned the post-mortem
    if etag and etag != row.issue_etag:
        values["issue_etag"] = etag
    status = "closed" if state == "closed" else "open"
    if row.status != status:
        if status == "closed" and _reopen_waiting(store, row.key):
            pass  # our own reopen is still in the outbox; GitHub will be open again shortly
        else:
            values["status"] = status
            (result.closed if status == "closed" else result.reopened).append(row.key)
    values.update(_learn_from_triage(store, row, labels, issue, result))
    if not values:
        return False
    store.update_incident(row.key, **values)
    if set(values) - {"issue_etag"}:
        result.updated.append(row.key)
    return True


NOT_A_REPEAT = "not-a-repeat"


def _learn_from_triage(store: Store, row: IncidentRow, labels: list[str], issue: dict[str, Any],
                       result: SyncResult) -> dict[str, Any]:
    """Record what people decided on the issue, so later classification and grouping respect it.

    - A category label that differs from ours: people corrected the category.  It is stored per
      fingerprint, and the next occurrence of this failure gets that category.
    - ``not-a-repeat`` newly added: what grouped other failures into this incident (a storm, a
      similarity suggestion) was wrong; it is undone and not suggested again.
    """
    from ...fingerprint import similarity
    from ...taxonomy import CATEGORIES

    source = issue.get("html_url") if isinstance(issue.get("html_url"), str) else None
    values: dict[str, Any] = {}
    chosen = [name for name in labels if name in CATEGORIES and name != row.category]
    if len(chosen) == 1 and (row.category not in labels or chosen[0] not in row.labels):
        store.add_override(row.fingerprint, "category", chosen[0], source=source)
        values["category"] = chosen[0]
        result.learned.append(f"{row.key} is {chosen[0]}")
    if NOT_A_REPEAT in labels and NOT_A_REPEAT not in row.labels:
        undone = store.reject_grouping(row.key, similarity=similarity, source=source)
        result.learned.append(f"{row.key} is not a repeat" + (f" ({', '.join(undone)})" if undone else ""))
    return values


def _reopen_waiting(store: Store, key: str) -> bool:
    try:
        return any(m.get("kind") == "reopen" for m in store.outbox_messages(status="pending", incident=key))
    except Exception:  # noqa: BLE001
        return False
