"""A small GitHub REST client on ``requests``: one Session, timeouts, pacing and rate limits.

The client knows GitHub's rules (``LIMITS.md`` in the shared reference) and nothing about
incidents: it sends one request at a time, paces writes, honours every kind of rate limit, and
turns each answer into either a response or a :class:`GitHubError` whose ``kind`` tells the
caller whether to try again later and when.

Two things it never does:

* wait past the caller's deadline (it raises a ``rate_limited`` / ``out_of_time`` error carrying
  ``retry_after`` instead, so the outbox can keep the message);
* put the token anywhere but the ``Authorization`` header of requests to the configured API
  origin (not in messages, not in ``repr``, not in requests to other hosts via ``Link`` URLs).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from ... import __version__

log = logging.getLogger("postmortem_scribe.github")

API_VERSION = "2022-11-28"
USER_AGENT = f"postmortem-scribe/{__version__} (+https://github.com/postmortem-scribe)"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

DEFAULT_WRITE_INTERVAL = 1.0
"""GitHub asks for at least one second between mutative requests (secondary limits)."""
SECONDARY_MIN_WAIT = 60.0
"""A secondary-limit answer without ``retry-after`` means: wait at least a minute ..."""
SECONDARY_MAX_WAIT = 15 * 60.0
"""... then back off exponentially, up to this."""
AUTH_RETRY_AFTER = 15 * 60.0
"""A rejected token needs a person; retrying every few seconds would only look like abuse."""
CONFIG_RETRY_AFTER = 10 * 60.0
"""Wrong repository, issues disabled, missing permission: also needs a person."""
MIN_REQUEST_TIME = 0.25
"""Do not start a request with less time than this left before the deadline."""


class GitHubError(Exception):
    """A GitHub call that did not succeed, said in plain words (never with the token).

    ``kind`` is one of:

    * ``rate_limited``: primary or secondary rate limit, ``retry_after`` says how long to wait;
    * ``unavailable``: a 5xx answer; ``network``: no connection; ``timeout``: no answer in time
      (for a write the outcome is unknown: it may have been applied);
    * ``out_of_time``: the caller's deadline would pass before the call could be made;
    * ``auth`` (401), ``forbidden`` (403, not a rate limit), ``not_found`` (404),
      ``gone`` (410), ``moved`` (3xx on a write): need a person, retried slowly;
    * ``invalid`` (422), ``http`` (any other 4xx): will not succeed as sent.
    """

    RETRYABLE = frozenset({"rate_limited", "unavailable", "network", "timeout", "out_of_time",
                           "auth", "forbidden", "not_found", "gone", "moved"})

    def __init__(self, kind: str, message: str, *, status: int | None = None,
                 retry_after: float | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.data = data

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE

    def validation_errors(self) -> list[dict[str, Any]]:
        """The ``errors`` list of a 422 ``Validation Failed`` body (empty if none)."""
        if isinstance(self.data, dict) and isinstance(self.data.get("errors"), list):
            return [e for e in self.data["errors"] if isinstance(e, dict)]
        return []


@dataclass
class ApiResponse:
    """One answer from GitHub."""

    status: int
    headers: Mapping[str, str]
    data: Any
    url: str
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


@dataclass
class _Throttle:
    """Rate-limit state shared by every client of one API origin and token in this process.

    GitHub counts limits per user or app, not per connection, so two publishers built from the
    same configuration must not each think they have the whole budget.
    """

    write_lock: threading.Lock = field(default_factory=threading.Lock)
    last_write_done: float = float("-inf")
    blocked_until: float = 0.0
    """``time.monotonic()`` before which no request may be sent (a rate limit is in force)."""
    blocked_reason: str = ""
    secondary_strikes: int = 0
    remaining: int | None = None
    limit: int | None = None
    reset_epoch: float | None = None
    state_lock: threading.Lock = field(default_factory=threading.Lock)


_THROTTLES: dict[str, _Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    # Airflow and Prefect workers fork: a child must not inherit a lock some other thread of
    # the parent held at fork time, nor share the parent's pooled connections.
    global _THROTTLES_LOCK
    _THROTTLES_LOCK = threading.Lock()
    _THROTTLES.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _throttle_for(origin: str, token: str | None) -> _Throttle:
    digest = hashlib.sha256((token or "").encode()).hexdigest()[:16]
    key = f"{origin}|{digest}"
    with _THROTTLES_LOCK:
        throttle = _THROTTLES.get(key)
        if throttle is None:
            throttle = _THROTTLES[key] = _Throttle()
        return throttle


def token_digest(token: str | None) -> str:
    """A short, non-reversible name for a token, for cache keys (never the token itself)."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


class _Counter(threading.local):
    count = 0


class GitHubClient:
    """Calls the GitHub REST API of one repository.

    Args:
        api_url: ``https://api.github.com`` or a GitHub Enterprise Server API root such as
            ``https://ghe.example/api/v3``.
        repo: ``owner/name``.
        token: a fine-grained token with Issues read/write and Metadata read (or a classic
            token with ``repo``); ``None`` sends unauthenticated requests.
        write_interval: minimum seconds between the end of one write and the start of the next,
            process-wide for this origin and token.
        connect_timeout, read_timeout: upper bounds per request; the caller's deadline may
            shorten them.
        max_wait: the longest this client sleeps for a rate limit when the caller gave no
            deadline; longer waits become a ``rate_limited`` error with ``retry_after``.
    """

    def __init__(
        self,
        api_url: str,
        repo: str,
        token: str | None,
        *,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_wait: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        self._origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.repo = repo
        self.owner, _, self.name = repo.partition("/")
        self.__token = token or None
        self.write_interval = max(0.0, float(write_interval))
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._wall = wall
        self._throttle = _throttle_for(self._origin, token)
        self._session = session
        self._session_lock = threading.Lock()
        self._counter = _Counter()
        self.calls = 0
        """HTTP requests sent by this client (all threads)."""

    def __repr__(self) -> str:  # the token stays out of reprs, tracebacks and logs
        return f"GitHubClient(api_url={self.api_url!r}, repo={self.repo!r}, token={'set' if self.__token else 'none'})"

    @property
    def has_token(self) -> bool:
        return self.__token is not None

    @property
    def session(self) -> requests.Session:
        """One Session per client, built on first use (connection reuse, one place for headers)."""
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                # No transparent retries below us: a POST retried by urllib3 could open a
                # second issue; every retry decision is ours.
                adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._session = session
            return self._session

    def close(self) -> None:
        with self._session_lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def clock(self) -> float:
        """The monotonic clock deadlines are measured on (``time.monotonic`` unless injected)."""
        return self._clock()

    # ------------------------------------------------------------------ counting

    def thread_calls(self) -> int:
        """Requests sent by the current thread; callers diff it around a unit of work."""
        return self._counter.count

    # ------------------------------------------------------------------ paths

    def repo_path(self, suffix: str = "") -> str:
        return f"/repos/{self.owner}/{self.name}{suffix}"

    def redact(self, text: str) -> str:
        """``text`` with the token removed, should it ever appear (e.g. echoed by a proxy)."""
        if self.__token and self.__token in text:
            text = text.replace(self.__token, "[token]")
        return text

    # ------------------------------------------------------------------ rate-limit state

    def rate_limit_state(self) -> dict[str, Any]:
        """What the last answers said about the primary limit, and any wait in force."""
        t = self._throttle
        with t.state_lock:
            return {"remaining": t.remaining, "limit": t.limit, "reset": t.reset_epoch,
                    "blocked_for": max(0.0, t.blocked_until - self._clock()),
                    "reason": t.blocked_reason}

    def _block(self, seconds: float, reason: str) -> None:
        t = self._throttle
        with t.state_lock:
            until = self._clock() + seconds
            if until > t.blocked_until:
                t.blocked_until = until
                t.blocked_reason = reason

    def _remaining_time(self, deadline: float | None) -> float | None:
        return None if deadline is None else deadline - self._clock()

    def _wait(self, seconds: float, deadline: float | None, reason: str,
              kind: str = "rate_limited") -> None:
        """Sleep ``seconds`` if that fits before the deadline (and ``max_wait``), else raise."""
        if seconds <= 0:
            return
        left = self._remaining_time(deadline)
        limit = self.max_wait if left is None else min(left - MIN_REQUEST_TIME, self.max_wait)
        if seconds > limit:
            raise GitHubError(kind, f"{reason}; the next try is due in {seconds:.0f} s",
                              retry_after=max(1.0, seconds))
        self._sleep(seconds)

    def _wait_if_blocked(self, deadline: float | None) -> None:
        t = self._throttle
        with t.state_lock:
            wait = t.blocked_until - self._clock()
            reason = t.blocked_reason
        if wait > 0:
            self._wait(wait, deadline, reason or "GitHub rate limit in force")

    def _note_headers(self, headers: Mapping[str, str]) -> None:
        remaining = _int(headers.get("x-ratelimit-remaining"))
        reset = _float(headers.get("x-ratelimit-reset"))
        if remaining is None:
            return
        resource = headers.get("x-ratelimit-resource", "core")
        if resource != "core":
            return  # other buckets (search, graphql) are not ours to spend
        t = self._throttle
        with t.state_lock:
            t.remaining, t.limit = remaining, _int(headers.get("x-ratelimit-limit"))
            t.reset_epoch = reset
        if remaining == 0 and reset is not None:
            # Spent: do not send anything on this bucket before the reset, even if this answer
            # itself succeeded.
            self._block(max(1.0, reset - self._wall() + 1.0),
                        f"GitHub {resource} rate limit spent until {_clock_text(reset)}")

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> ApiResponse:
        """Send one request; return the response if its status is in ``expect``.

        Waits for rate limits and write pacing when that fits before ``deadline``
        (``time.monotonic()``); retries a rate-limited request once it may.  Everything else
        becomes a :class:`GitHubError`.
        """
        method = method.upper()
        url = self._url(path)
        write = method in WRITE_METHODS
        for attempt in range(1, 4):
            self._wait_if_blocked(deadline)
            if write:
                response = self._paced_send(method, url, params, json, headers, deadline)
            else:
                response = self._send(method, url, params, json, headers, deadline)
            self._note_headers(response.headers)
            if response.status_code in expect:
                if write:
                    # Secondary limits mostly bite content creation: a read getting through
                    # says nothing, a write getting through ends the back-off.
                    with self._throttle.state_lock:
                        self._throttle.secondary_strikes = 0
                return _wrap(response)
            error = self._error_for(method, url, response)
            if error.kind == "rate_limited" and error.retry_after is not None and attempt < 3:
                # A rate-limited request was not applied, so sending it again is safe; wait
                # here only if the wait fits, otherwise the error goes back to the outbox.
                try:
                    self._wait_if_blocked(deadline)
                except GitHubError:
                    raise error from None
                continue
            raise error
        raise GitHubError("rate_limited", "GitHub kept rate-limiting this request",
                          retry_after=SECONDARY_MIN_WAIT)  # pragma: no cover - loop always returns

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        deadline: float | None = None,
        max_pages: int = 5,
    ) -> Iterator[Any]:
        """Items of a list endpoint, following ``Link: rel="next"`` (never building page URLs)."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in range(max_pages):
            if url is None:
                return
            response = self.get(url, params=query, deadline=deadline)
            items = response.data if isinstance(response.data, list) else []
            yield from items
            url = response.links.get("next", {}).get("url")
            query = None  # the next URL carries its own query
            if url is not None and not self._same_origin(url):
                log.warning("postmortem-scribe: not following a pagination link to another host")
                return

    # ------------------------------------------------------------------ internals

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            if not self._same_origin(path):
                raise GitHubError("http", "refusing to send the token to a URL outside the "
                                  f"configured GitHub API ({self.api_url})")
            return path
        return self.api_url + path

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() == self._origin

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if self.__token:
            headers["Authorization"] = f"Bearer {self.__token}"
        if extra:
            headers.update(extra)
        return headers

    def _paced_send(self, method: str, url: str, params: Any, json: Any,
                    headers: Mapping[str, str] | None, deadline: float | None) -> requests.Response:
        t = self._throttle
        left = self._remaining_time(deadline)
        acquired = t.write_lock.acquire(timeout=-1 if left is None else max(0.0, left - MIN_REQUEST_TIME))
        if not acquired:
            raise GitHubError("out_of_time", "another write to GitHub was still in progress when "
                              "the time budget ran out")
        sent = False
        try:
            # Serial and paced: the gap is measured from the end of the previous write, so
            # GitHub sees at least ``write_interval`` between them whatever the latency.
            # Never more than one interval: a larger gap can only come from another clock
            # (a throttle shared with a client whose clock differs), not from GitHub's rules.
            gap = min(self.write_interval, t.last_write_done + self.write_interval - self._clock())
            if gap > 0:
                self._wait(gap, deadline, "pacing writes to GitHub (one per second)", "out_of_time")
            sent = True
            return self._send(method, url, params, json, headers, deadline)
        finally:
            if sent:
                t.last_write_done = self._clock()
            t.write_lock.release()

    def _send(self, method: str, url: str, params: Any, json: Any,
              headers: Mapping[str, str] | None, deadline: float | None) -> requests.Response:
        left = self._remaining_time(deadline)
        if left is not None and left < MIN_REQUEST_TIME:
            raise GitHubError("out_of_time", "the time budget ran out before GitHub could be called")
        connect = self.connect_timeout if left is None else max(0.1, min(self.connect_timeout, left))
        read = self.read_timeout if left is None else max(0.1, min(self.read_timeout, left))
        self._counter.count += 1
        self.calls += 1
        try:
            return self.session.request(
                method, url, params=params, json=json, headers=self._headers(headers),
                timeout=(connect, read),
                # A 301 on a POST would silently become a GET; writes report moves instead.
                allow_redirects=method not in WRITE_METHODS,
            )
        except requests.exceptions.ReadTimeout:
            what = "the outcome is unknown and is checked before trying again" if method in WRITE_METHODS else "it will be tried again"
            raise GitHubError("timeout", f"GitHub ({self._origin}) did not answer {method} within "
                              f"{read:.1f} s; {what}") from None
        except requests.exceptions.ConnectTimeout:
            raise GitHubError("network", f"could not connect to {self._origin} within {connect:.1f} s "
                              "(network down, proxy or firewall?); it will be tried again") from None
        except requests.exceptions.ConnectionError as exc:
            raise GitHubError("network", f"could not reach {self._origin} ({_reason(exc)}); "
                              "it will be tried again") from None
        except requests.exceptions.RequestException as exc:
            raise GitHubError("network", self.redact(f"request to {self._origin} failed: "
                                                     f"{type(exc).__name__}")) from None

    def _error_for(self, method: str, url: str, response: requests.Response) -> GitHubError:
        status = response.status_code
        data = _json(response)
        gh_message = self.redact(str(data.get("message", ""))[:300]) if isinstance(data, dict) else ""
        where = f"{method} {urlsplit(url).path}"
        headers = response.headers

        rate = self._rate_limit_wait(status, headers, gh_message)
        if rate is not None:
            wait, reason = rate
            self._block(wait, reason)
            return GitHubError("rate_limited", f"{reason} ({status} on {where})", status=status,
                               retry_after=wait, data=data)
        if status == 401:
            return GitHubError("auth", "the GitHub token was rejected (401); check SCRIBE_GITHUB_TOKEN"
                               f" (it may be expired or revoked) for {self.api_url}", status=status,
                               retry_after=AUTH_RETRY_AFTER, data=data)
        if status == 403:
            return GitHubError("forbidden", f"GitHub refused {where} (403: {gh_message or 'forbidden'}); "
                               "the token needs 'Issues: read and write' on "
                               f"{self.repo}", status=status, retry_after=CONFIG_RETRY_AFTER, data=data)
        if status == 404:
            return GitHubError("not_found", f"GitHub answered 404 for {where}: the repository "
                               f"{self.repo} does not exist at {self.api_url} or the token cannot see "
                               "it; check SCRIBE_GITHUB_REPO and the token's repository access",
                               status=status, retry_after=CONFIG_RETRY_AFTER, data=data)
        if status == 410:
            return GitHubError("gone", f"GitHub answered 410 Gone for {where}: issues are disabled in "
                               f"{self.repo} (or the issue was deleted); enable Issues in the "
                               "repository settings", status=status, retry_after=CONFIG_RETRY_AFTER,
                               data=data)
        if 300 <= status < 400:
            location = headers.get("location", "")
            return GitHubError("moved", f"GitHub answered {status} for {where}: the repository moved"
                               f"{' to ' + urlsplit(location).path if location else ''}; update "
                               "SCRIBE_GITHUB_REPO", status=status, retry_after=CONFIG_RETRY_AFTER,
                               data=data)
        if status >= 500:
            return GitHubError("unavailable", f"GitHub is having trouble ({status} on {where}); it "
                               "will be tried again", status=status, data=data)
        if status == 422:
            details = "; ".join(_describe(e) for e in (data.get("errors") or [] if isinstance(data, dict) else []))
            return GitHubError("invalid", f"GitHub rejected {where} as invalid (422 {gh_message}"
                               f"{': ' + self.redact(details) if details else ''})", status=status,
                               data=data)
        return GitHubError("http", f"GitHub answered {status} for {where}"
                           f"{': ' + gh_message if gh_message else ''}", status=status, data=data)

    def _rate_limit_wait(self, status: int, headers: Mapping[str, str],
                         message: str) -> tuple[float, str] | None:
        """``(seconds, reason)`` if this answer is a rate limit (LIMITS.md section 4), else None."""
        if status not in (403, 429):
            return None
        retry_after = _float(headers.get("retry-after"))
        remaining = _int(headers.get("x-ratelimit-remaining"))
        reset = _float(headers.get("x-ratelimit-reset"))
        mentions = "rate limit" in message.lower() or "abuse" in message.lower()
        if retry_after is not None:
            return max(1.0, retry_after), f"GitHub asked to retry after {retry_after:.0f} s"
        if remaining == 0 and reset is not None:
            return (max(1.0, reset - self._wall() + 1.0),
                    f"GitHub rate limit spent until {_clock_text(reset)}")
        if status == 429 or mentions:
            # Secondary limit: no hint how long; at least a minute, then exponentially longer.
            t = self._throttle
            with t.state_lock:
                strikes = t.secondary_strikes
                t.secondary_strikes += 1
            wait = min(SECONDARY_MAX_WAIT, SECONDARY_MIN_WAIT * (2 ** strikes))
            return wait * random.uniform(1.0, 1.1), "GitHub secondary rate limit"
        return None


# ---------------------------------------------------------------------- helpers


def _wrap(response: requests.Response) -> ApiResponse:
    return ApiResponse(status=response.status_code, headers=response.headers, data=_json(response),
                       url=response.url, links=dict(response.links))


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _clock_text(epoch: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def _describe(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)[:200]
    if error.get("message"):
        return str(error["message"])[:200]
    parts = [str(error.get(k)) for k in ("resource", "field", "code") if error.get(k)]
    if error.get("value") is not None:
        parts.append(f"value {error['value']!r}")
    return " ".join(parts)[:200]


def _reason(exc: BaseException) -> str:
    """A short cause for a connection error, without URLs or anything request-specific."""
    text = str(exc).lower()
    for needle, said in (("refused", "connection refused"), ("name or service", "name not resolved"),
                         ("nodename", "name not resolved"), ("reset", "connection reset"),
                         ("remote end closed", "connection closed by the server"),
                         ("aborted", "connection aborted"), ("ssl", "TLS error"),
                         ("certificate", "TLS certificate error"), ("proxy", "proxy error")):
        if needle in text:
            return said
    return type(exc).__name__
