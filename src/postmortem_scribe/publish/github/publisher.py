"""Delivers outbox messages as GitHub issues and comments, exactly once.

The outbox hands over one stored message at a time; this module turns it into the few calls a
careful person would make, and answers with a :class:`~postmortem_scribe.publish.base.Delivery`.

Exactly once rests on the hidden markers (:mod:`postmortem_scribe.publish.marker`):

* ``open``: before creating, list our labelled issues (``GET /repos/{o}/{r}/issues``, which reads
  GitHub's primary database, unlike search whose index lags by seconds to minutes) and look for
  the incident marker.  If GitHub created the issue but the answer was lost (timeout, crash
  before the store write), the retry finds it instead of opening a second one.
* ``comment``: on a retry, the issue's recent comments are checked for the message marker first.

Nothing here raises into the outbox: every problem becomes ``retry`` (with GitHub's own wait when
it gave one) or ``failed`` (GitHub will never accept the message as it is), with a plain reason
that never contains the token.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any

from ...config import DEFAULT_GITHUB_API_URL, Config
from ...render.markdown_safe import truncate_utf16, utf16_len
from ..base import Delivery, OutboxMessage, replace_recurrence
from ..marker import find_incident, find_messages, incident_marker, message_marker
from .client import AUTH_RETRY_AFTER, DEFAULT_WRITE_INTERVAL, GitHubClient, GitHubError, token_digest
from .labels import NAME_LIMIT, label_spec, usable

log = logging.getLogger("postmortem_scribe.github")

TITLE_LIMIT = 256
BODY_LIMIT = 65536
"""GitHub's limits in characters (LIMITS.md section 1); we count UTF-16 code units, which is
never fewer than characters, so a text we accept GitHub accepts too."""
LOOKUP_PAGES = 3
"""How many pages of 100 labelled issues (newest first) the marker lookup reads."""
DELIVERY_LIMIT = 45.0
"""Upper bound on one delivery even without a deadline: below the outbox lease (60 s), so no
other process takes the message while this one is still working on it."""
ASSIGNABLE_TTL = 3600.0
CLOCK_SKEW = timedelta(minutes=10)

_UNASSIGNABLE: dict[str, set[str]] = {}
_DROPPED: dict[str, list[str]] = {}
_MEMORY_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    # A forked worker starts with fresh locks and its own publishers (and Sessions).
    global _MEMORY_LOCK
    _MEMORY_LOCK = threading.Lock()
    GitHubPublisher._CACHE = {}
    GitHubPublisher._CACHE_LOCK = threading.Lock()


def unassignable_leads(repo: str) -> set[str]:
    """Logins this process found unassignable in ``repo`` (``GET /assignees/{login}`` said 404)."""
    with _MEMORY_LOCK:
        return set(_UNASSIGNABLE.get(repo.lower(), set()))


def silent_drops(repo: str) -> list[str]:
    """What GitHub silently dropped from our issues in ``repo`` (no push access), this process."""
    with _MEMORY_LOCK:
        return list(_DROPPED.get(repo.lower(), []))


class GitHubPublisher:
    """Opens and maintains post-mortem issues in one GitHub repository.

    Build it with :meth:`from_config`; the HTTP client is created on first use and cached, with
    one ``requests.Session`` per process.  Implements the
    :class:`~postmortem_scribe.publish.base.Publisher` protocol.

    Args:
        repo: ``owner/name``.
        token: the token (kept inside the client; never logged or returned).
        api_url: ``https://api.github.com`` or a GitHub Enterprise Server API root.
        marker_label: the label every issue of ours carries; the marker lookup lists issues with
            it (``postmortem`` unless configured otherwise).
        write_interval: seconds between writes (GitHub asks for at least 1).
        connect_timeout, read_timeout: per-request bounds; a deadline may shorten them.
        lookup_pages: pages of 100 labelled issues read when looking for a marker.
        client: an already built client (tests, or sharing one between publishers).
    """

    name = "github"

    def __init__(
        self,
        repo: str,
        token: str | None,
        *,
        api_url: str = DEFAULT_GITHUB_API_URL,
        marker_label: str = "postmortem",
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        lookup_pages: int = LOOKUP_PAGES,
        delivery_limit: float = DELIVERY_LIMIT,
        client: GitHubClient | None = None,
    ) -> None:
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self.marker_label = marker_label
        self.write_interval = write_interval
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.lookup_pages = lookup_pages
        self.delivery_limit = delivery_limit
        self.__token = token or None
        self._client = client
        self._lock = threading.Lock()
        self._known_labels: set[str] | None = None
        self._assignable: dict[str, tuple[bool, float]] = {}
        self._issues: OrderedDict[int, tuple[str | None, dict[str, Any]]] = OrderedDict()
        self._labels_dropped = False
        """GitHub dropped our labels before: the marker lookup cannot rely on the label."""

    def __repr__(self) -> str:
        return f"GitHubPublisher(repo={self.repo!r}, api_url={self.api_url!r})"

    # ------------------------------------------------------------------ construction

    _CACHE: dict[tuple[Any, ...], GitHubPublisher] = {}
    _CACHE_LOCK = threading.Lock()

    @classmethod
    def from_config(cls, config: Config) -> GitHubPublisher:
        """The publisher for ``config``, cached per process, repository, API URL and token.

        Caching keeps one Session, the label list and the assignee checks across the many
        ``report()`` calls of a long-lived worker.
        """
        labels = [label for label in (config.labels or []) if usable(label)]
        marker_label = labels[0] if labels else "postmortem"
        interval = getattr(config, "github_write_interval_seconds", None)
        interval = DEFAULT_WRITE_INTERVAL if interval is None else float(interval)
        key = (os.getpid(), config.github_api_url.rstrip("/"), (config.github_repo or "").lower(),
               token_digest(config.github_token), marker_label, interval)
        with cls._CACHE_LOCK:
            publisher = cls._CACHE.get(key)
            if publisher is None:
                publisher = cls(
                    config.github_repo or "", config.github_token, api_url=config.github_api_url,
                    marker_label=marker_label, write_interval=interval,
                )
                cls._CACHE[key] = publisher
            return publisher

    @property
    def client(self) -> GitHubClient:
        """The HTTP client, built on first use."""
        with self._lock:
            if self._client is None:
                self._client = GitHubClient(
                    self.api_url, self.repo, self.__token, write_interval=self.write_interval,
                    connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                )
            return self._client

    # ------------------------------------------------------------------ the protocol

    def deliver(self, message: OutboxMessage, *, deadline: float | None = None) -> Delivery:
        """Deliver one outbox message idempotently; never raises (see module docstring)."""
        client = self.client
        limit = client.clock() + self.delivery_limit
        deadline = limit if deadline is None else min(deadline, limit)
        before = client.thread_calls()
        try:
            if not client.has_token:
                delivery = Delivery(
                    status="retry", retry_after=AUTH_RETRY_AFTER,
                    error=f"no GitHub token: set SCRIBE_GITHUB_TOKEN (a fine-grained token with "
                    f"'Issues: read and write' and 'Metadata: read' on {self.repo}); the draft waits "
                    "in the outbox",
                )
            else:
                handler = {"open": self._open, "comment": self._comment, "reopen": self._reopen,
                           "update": self._update}.get(message.kind)
                if handler is None:
                    delivery = Delivery(status="failed", error=f"unknown outbox message kind "
                                        f"{message.kind!r}; expected open, comment, update or reopen")
                else:
                    delivery = handler(message, deadline)
        except GitHubError as err:
            delivery = _delivery_for(err)
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the message
            log.error("postmortem-scribe: GitHub publisher error on outbox message %s: %s",
                      message.id, client.redact(f"{type(exc).__name__}: {exc}"))
            delivery = Delivery(status="retry",
                                error=f"internal error in the GitHub publisher: {type(exc).__name__}")
        delivery.calls = client.thread_calls() - before
        if delivery.error:
            delivery.error = client.redact(delivery.error)
        return delivery

    # ------------------------------------------------------------------ kinds

    def _open(self, message: OutboxMessage, deadline: float) -> Delivery:
        client = self.client
        # Always look first (one GET): the answer to an earlier attempt may have been lost, or
        # another process may have delivered this message after its lease ran out.
        existing = self._find_issue(message.incident, deadline,
                                    since=message.created_at if message.attempts > 1 else None)
        if existing is not None:
            return Delivery(status="sent", issue_number=existing["number"],
                            issue_url=existing.get("html_url"))
        notes: list[str] = []
        labels = self._labels_for(message.labels, notes)
        self._ensure_labels(labels, deadline, notes)
        assignees, unassignable = self._check_assignees(message.assignees, deadline)
        payload: dict[str, Any] = {
            "title": fit_title(message.title or f"Post-mortem draft: incident {message.incident}"),
            "body": self._issue_body(message.body, message.incident, unassignable),
            "labels": labels,
        }
        if assignees:
            payload["assignees"] = assignees
        try:
            response = client.request("POST", client.repo_path("/issues"), json=payload,
                                      deadline=deadline, expect=(201,))
        except GitHubError as err:
            bad = [e for e in err.validation_errors() if e.get("field") in ("assignees", "assignee")]
            if err.kind != "invalid" or not assignees or not bad:
                raise
            refused = [str(e.get("value")) for e in bad]
            # The lead lost access between the check and the create (GitHub then refuses the
            # whole issue, LIMITS.md section 6): open it unassigned rather than not at all.
            dropped = [a for a in assignees if a in refused] or assignees
            self._remember_unassignable(dropped)
            unassignable = unassignable + dropped
            assignees = [a for a in assignees if a not in dropped]
            payload["body"] = self._issue_body(message.body, message.incident, unassignable)
            if assignees:
                payload["assignees"] = assignees
            else:
                payload.pop("assignees", None)
            response = client.request("POST", client.repo_path("/issues"), json=payload,
                                      deadline=deadline, expect=(201,))
        issue = response.data if isinstance(response.data, dict) else {}
        self._remember_issue(issue, response.etag)
        notes.extend(self._silent_drops(issue, labels, assignees))
        for login in unassignable:
            notes.append(f"lead {login!r} cannot be assigned issues in {self.repo}; the issue was "
                         "opened unassigned and names them instead; `scribe doctor` lists this")
        return Delivery(status="sent", issue_number=issue.get("number"),
                        issue_url=issue.get("html_url"), error="; ".join(notes) or None)

    def _comment(self, message: OutboxMessage, deadline: float) -> Delivery:
        number, issue_url, looked_up = self._issue_of(message, deadline)
        if number is None:
            return Delivery(status="retry", error=f"the issue of incident {message.incident} is not "
                            "on GitHub yet; the comment waits for it")
        comment_url = self._post_comment_once(number, message, deadline)
        if message.recurrence:
            self._refresh_recurrence(number, message.recurrence, deadline)
        return Delivery(status="sent", issue_number=number,
                        issue_url=issue_url if looked_up else (comment_url or issue_url))

    def _reopen(self, message: OutboxMessage, deadline: float) -> Delivery:
        number, issue_url, _ = self._issue_of(message, deadline)
        if number is None:
            return Delivery(status="retry", error=f"the issue of incident {message.incident} is not "
                            "on GitHub yet; reopening waits for it")
        notes: list[str] = []
        if message.labels:
            self._add_labels(number, message.labels, deadline, notes)
        patch: dict[str, Any] = {"state": "open", "state_reason": "reopened"}
        if message.recurrence:
            issue = self._get_issue(number, deadline)
            body = issue.get("body") or ""
            updated = replace_recurrence(body, message.recurrence)
            if updated != body:
                patch["body"] = updated
        issue = self._patch_issue(number, patch, deadline)
        issue_url = issue.get("html_url") or issue_url
        self._post_comment_once(number, message, deadline)
        return Delivery(status="sent", issue_number=number, issue_url=issue_url,
                        error="; ".join(notes) or None)

    def _post_comment_once(self, number: int, message: OutboxMessage, deadline: float) -> str | None:
        """Post the message's body as a comment carrying its marker, unless a retry finds that
        an earlier attempt already posted it; returns the comment's URL when known."""
        if not message.body.strip():
            return None
        if message.attempts > 1:
            found = self._find_comment(number, message.id, message.created_at, deadline)
            if found is not None:
                return found
        client = self.client
        body = fit_text(message.body, BODY_LIMIT, tail="\n\n" + message_marker(message.id))
        response = client.request("POST", client.repo_path(f"/issues/{number}/comments"),
                                  json={"body": body}, deadline=deadline, expect=(201,))
        return (response.data or {}).get("html_url")

    def _update(self, message: OutboxMessage, deadline: float) -> Delivery:
        number, issue_url, _ = self._issue_of(message, deadline)
        if number is None:
            return Delivery(status="retry", error=f"the issue of incident {message.incident} is not "
                            "on GitHub yet; the update waits for it")
        notes: list[str] = []
        if message.labels:
            # Added, not replaced: people add their own labels while triaging.
            self._add_labels(number, message.labels, deadline, notes)
        patch: dict[str, Any] = {}
        if message.title:
            patch["title"] = fit_title(message.title)
        if message.body.strip():
            body = self._issue_body(message.body, message.incident, [])
            patch["body"] = replace_recurrence(body, message.recurrence) if message.recurrence else body
        elif message.recurrence:
            issue = self._get_issue(number, deadline)
            body = issue.get("body") or ""
            updated = replace_recurrence(body, message.recurrence)
            if updated != body:
                patch["body"] = updated
        if patch:
            issue = self._patch_issue(number, patch, deadline)
            issue_url = issue.get("html_url") or issue_url
        return Delivery(status="sent", issue_number=number, issue_url=issue_url,
                        error="; ".join(notes) or None)

    # ------------------------------------------------------------------ finding what exists

    def find_issue(self, incident: str, *, deadline: float | None = None) -> dict[str, Any] | None:
        """The issue whose body carries ``incident``'s marker, or None (may raise GitHubError)."""
        return self._find_issue(incident, deadline)

    def _find_issue(self, incident: str, deadline: float | None, *,
                    since: str | None = None) -> dict[str, Any] | None:
        client = self.client
        params = {"labels": self.marker_label, "state": "all", "sort": "created",
                  "direction": "desc", "per_page": 100}
        for item in client.paginate(client.repo_path("/issues"), params, deadline=deadline,
                                    max_pages=self.lookup_pages):
            if isinstance(item, dict) and not item.get("pull_request") \
                    and find_incident(item.get("body")) == incident:
                return item
        if since or self._labels_dropped:
            # A retry: the label may have been dropped silently (no push access), so also read
            # everything created since the message was stored.
            since = since or (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
            params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 100,
                      "since": _since(since)}
            for item in client.paginate(client.repo_path("/issues"), params, deadline=deadline,
                                        max_pages=2):
                if isinstance(item, dict) and not item.get("pull_request") \
                        and find_incident(item.get("body")) == incident:
                    return item
        return None

    def _issue_of(self, message: OutboxMessage,
                  deadline: float) -> tuple[int | None, str | None, bool]:
        """``(number, html_url, looked_up)`` of the message's issue."""
        if message.issue_number is not None:
            return message.issue_number, message.issue_url, False
        found = self._find_issue(message.incident, deadline)
        if found is None:
            return None, None, True
        return found["number"], found.get("html_url"), True

    def _find_comment(self, number: int, message_id: int, created_at: str,
                      deadline: float) -> str | None:
        client = self.client
        params: dict[str, Any] = {"per_page": 100}
        if created_at:
            params["since"] = _since(created_at)
        for item in client.paginate(client.repo_path(f"/issues/{number}/comments"), params,
                                    deadline=deadline, max_pages=5):
            if isinstance(item, dict) and message_id in find_messages(item.get("body")):
                return item.get("html_url") or ""
        return None

    def _get_issue(self, number: int, deadline: float | None) -> dict[str, Any]:
        """The issue, with a conditional GET when we have seen it (a 304 costs no rate limit)."""
        client = self.client
        with self._lock:
            cached = self._issues.get(number)
        headers = {"If-None-Match": cached[0]} if cached and cached[0] else None
        response = client.get(client.repo_path(f"/issues/{number}"), headers=headers,
                              deadline=deadline, expect=(200, 304))
        if response.status == 304 and cached is not None:
            return cached[1]
        issue = response.data if isinstance(response.data, dict) else {}
        self._remember_issue(issue, response.etag)
        return issue

    def _patch_issue(self, number: int, patch: dict[str, Any], deadline: float) -> dict[str, Any]:
        client = self.client
        response = client.request("PATCH", client.repo_path(f"/issues/{number}"), json=patch,
                                  deadline=deadline, expect=(200,))
        issue = response.data if isinstance(response.data, dict) else {}
        self._remember_issue(issue, None)  # a PATCH answer's ETag need not match a GET's
        return issue

    def _refresh_recurrence(self, number: int, line: str, deadline: float) -> None:
        issue = self._get_issue(number, deadline)
        body = issue.get("body") or ""
        updated = replace_recurrence(body, line)
        if updated != body:  # unchanged: no write, no notification
            self._patch_issue(number, {"body": updated}, deadline)

    def _remember_issue(self, issue: dict[str, Any], etag: str | None) -> None:
        number = issue.get("number")
        if not isinstance(number, int):
            return
        with self._lock:
            self._issues[number] = (etag, issue)
            self._issues.move_to_end(number)
            while len(self._issues) > 256:
                self._issues.popitem(last=False)

    # ------------------------------------------------------------------ labels

    def _labels_for(self, labels: list[str], notes: list[str]) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for name in [self.marker_label, *labels]:
            name = (name or "").strip()
            if not name or name.lower() in seen:
                continue
            if not usable(name):
                notes.append(f"label {name[:60]!r} left out: GitHub allows at most {NAME_LIMIT} "
                             "characters")
                continue
            seen.add(name.lower())
            out.append(name)
        return out

    def _ensure_labels(self, labels: list[str], deadline: float | None, notes: list[str]) -> None:
        """Create the labels that do not exist yet, with colour and description (list once)."""
        client = self.client
        with self._lock:
            known = None if self._known_labels is None else set(self._known_labels)
        if known is not None and all(name.lower() in known for name in labels):
            return
        if known is None:
            known = {str(item.get("name", "")).lower()
                     for item in client.paginate(client.repo_path("/labels"), {"per_page": 100},
                                                 deadline=deadline, max_pages=10)
                     if isinstance(item, dict)}
        for name in labels:
            if name.lower() in known:
                continue
            spec = label_spec(name)
            try:
                client.request("POST", client.repo_path("/labels"), deadline=deadline,
                               json={"name": spec.name, "color": spec.color,
                                     "description": spec.description}, expect=(201,))
            except GitHubError as err:
                if err.kind == "invalid" and any(e.get("code") == "already_exists"
                                                 for e in err.validation_errors()):
                    pass  # another process created it first
                elif err.kind in ("invalid", "forbidden", "http"):
                    notes.append(f"label {name!r} could not be created ({err.message}); GitHub "
                                 "creates it plain, or drops it without push access")
                    continue
                else:
                    raise
            known.add(name.lower())
        with self._lock:
            self._known_labels = known

    def _add_labels(self, number: int, labels: list[str], deadline: float, notes: list[str]) -> None:
        client = self.client
        names = [n for n in self._labels_for(labels, notes) if n != self.marker_label
                 or self.marker_label in labels]
        if not names:
            return
        self._ensure_labels(names, deadline, notes)
        client.request("POST", client.repo_path(f"/issues/{number}/labels"),
                       json={"labels": names}, deadline=deadline, expect=(200,))

    # ------------------------------------------------------------------ assignees

    def _check_assignees(self, logins: list[str], deadline: float) -> tuple[list[str], list[str]]:
        """``(assignable, unassignable)``, checked with ``GET /assignees/{login}`` (cached)."""
        client = self.client
        ok: list[str] = []
        refused: list[str] = []
        now = time.monotonic()
        for login in dict.fromkeys(a.strip().lstrip("@") for a in logins if a and a.strip()):
            with self._lock:
                cached = self._assignable.get(login.lower())
            if cached is not None and cached[1] > now:
                assignable = cached[0]
            else:
                response = client.get(client.repo_path(f"/assignees/{login}"), deadline=deadline,
                                      expect=(204, 404))
                assignable = response.status == 204
                with self._lock:
                    self._assignable[login.lower()] = (assignable, now + ASSIGNABLE_TTL)
            if assignable:
                ok.append(login)
            else:
                refused.append(login)
                self._remember_unassignable([login])
        return ok, refused

    def _remember_unassignable(self, logins: list[str]) -> None:
        with _MEMORY_LOCK:
            _UNASSIGNABLE.setdefault(self.repo.lower(), set()).update(logins)
        with self._lock:
            for login in logins:
                self._assignable[login.lower()] = (False, time.monotonic() + ASSIGNABLE_TTL)
        for login in logins:
            log.warning("postmortem-scribe: %s cannot be assigned issues in %s; opening the issue "
                        "unassigned (see `scribe doctor`)", login, self.repo)

    def _silent_drops(self, issue: dict[str, Any], labels: list[str],
                      assignees: list[str]) -> list[str]:
        """GitHub drops labels and assignees without an error for callers without push access."""
        got_labels = {(lab.get("name") if isinstance(lab, dict) else str(lab)).lower()
                      for lab in issue.get("labels") or []}
        got_assignees = {str(a.get("login", "")).lower() for a in issue.get("assignees") or []
                         if isinstance(a, dict)}
        notes = []
        missing_labels = [name for name in labels if name.lower() not in got_labels]
        missing_assignees = [a for a in assignees if a.lower() not in got_assignees]
        if missing_labels:
            self._labels_dropped = True
            notes.append(f"GitHub silently dropped the labels {', '.join(missing_labels)} (the "
                         f"token's user probably has no push access to {self.repo})")
        if missing_assignees:
            notes.append(f"GitHub silently dropped the assignees {', '.join(missing_assignees)} "
                         f"(the token's user probably has no push access to {self.repo})")
        if notes:
            for note in notes:
                log.warning("postmortem-scribe: issue #%s: %s", issue.get("number"), note)
            with _MEMORY_LOCK:
                _DROPPED.setdefault(self.repo.lower(), []).extend(notes)
        return notes

    # ------------------------------------------------------------------ bodies

    def _issue_body(self, body: str, incident: str, unassignable: list[str]) -> str:
        marker = incident_marker(incident)
        text = body or ""
        if find_incident(text) != incident:
            text = marker + "\n" + text
        for login in unassignable:
            text = text.rstrip() + (f"\n\n> **Lead:** @{login} could not be assigned in {self.repo} "
                                    "(not a collaborator with write access); please assign the lead "
                                    "by hand.\n")
        if utf16_len(text) > BODY_LIMIT:
            # Keep the marker whatever is cut: without it a retry could open a second issue.
            text = fit_text(text.replace(marker, "", 1), BODY_LIMIT - utf16_len(marker) - 1)
            text = marker + "\n" + text
        return text


# ---------------------------------------------------------------------- text limits


def _truncate_utf16(text: str, limit: int) -> str:
    return truncate_utf16(text, max(0, limit), marker="")


CUT_NOTE = "\n\n… (cut to fit GitHub's size limit; `scribe show` has the full text)"


def fit_text(text: str, limit: int, *, tail: str = "") -> str:
    """``text`` + ``tail`` within ``limit`` UTF-16 units; ``tail`` (a marker) is always kept."""
    if utf16_len(text) + utf16_len(tail) <= limit:
        return text + tail
    room = limit - utf16_len(tail) - utf16_len(CUT_NOTE)
    return _truncate_utf16(text, room) + CUT_NOTE + tail


def fit_title(title: str) -> str:
    """One line of at most 256 UTF-16 units, ending in an ellipsis when it was cut."""
    title = " ".join(title.split()) or "Post-mortem draft"
    if utf16_len(title) <= TITLE_LIMIT:
        return title
    return _truncate_utf16(title, TITLE_LIMIT - 1) + "…"


def _since(created_at: str) -> str:
    """An ISO 8601 ``since`` a little before ``created_at`` (clocks differ)."""
    try:
        when = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(timezone.utc) - timedelta(days=1)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when.astimezone(timezone.utc) - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")


def _delivery_for(err: GitHubError) -> Delivery:
    if err.retryable:
        return Delivery(status="retry", retry_after=err.retry_after, error=err.message)
    return Delivery(status="failed", error=f"{err.message}; GitHub will not accept it as it is, so "
                    "it is kept as failed in the outbox (`scribe show` has it)")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
