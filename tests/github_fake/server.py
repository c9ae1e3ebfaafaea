"""A fake GitHub REST API on a real socket (127.0.0.1), for the 12 operations we use.

It keeps issues, comments, labels, assignees and collaborators in memory and behaves as
``LIMITS.md`` says GitHub does: length limits (422), an unassignable assignee refused on create
(422 with the observed error body), labels and assignees silently dropped for callers without
push access, a search index that lags new issues, ``x-ratelimit-*`` headers, ETags with 304 on
``GET`` issue, ``Link`` pagination through ``/repositories/{id}/...`` URLs.

Faults are injected by the tests (:meth:`FakeGitHub.fail`, :meth:`timeout`, :meth:`drop`,
:meth:`secondary_limit`, :meth:`primary_limit`, :meth:`stop`/:meth:`start` for connection refused).
Every exchange is logged in :attr:`FakeGitHub.calls` and validated against GitHub's OpenAPI
description (:mod:`.contract`); problems collect in :attr:`FakeGitHub.contract_errors`, which the
pytest fixture asserts empty.  Responses to injected faults whose status the spec does not declare
(500, 502, 429, ...) skip response validation; requests are always validated.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .contract import Contract

DEFAULT_TOKEN = "ghp_fakeTOKENforTests0000000000000000001"
DOCS = "https://docs.github.com/rest"

TITLE_LIMIT = 256
BODY_LIMIT = 65536
LABEL_NAME_LIMIT = 50
LABEL_DESCRIPTION_LIMIT = 100
_HEX6 = re.compile(r"^[0-9a-fA-F]{6}$")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class User:
    login: str
    id: int
    push: bool = True


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` matching requests."""

    kind: str
    """``status`` (answer ``status``), ``timeout`` (sleep ``delay`` before answering), ``drop``
    (close the connection without an answer)."""
    status: int = 500
    times: int | None = 1
    """``None``: until :meth:`FakeGitHub.clear_faults`."""
    method: str | None = None
    path: str | None = None
    """A regular expression searched in the path (without the GHES prefix)."""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    apply: bool = False
    """Carry the request out first (the issue is created), then misbehave: the answer is lost."""
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass
class Call:
    """One request as the fake saw it (no token: only whether one was sent)."""

    method: str
    path: str
    query: dict[str, str]
    status: int | None
    fault: str | None
    body: Any
    started: float
    ended: float
    authorized: bool
    if_none_match: str | None = None

    @property
    def write(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


class _Reply:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None, *,
                 undeclared_ok: bool = False, raw: bytes | None = None,
                 content_type: str = "application/json; charset=utf-8") -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.undeclared_ok = undeclared_ok
        self.raw = raw
        self.content_type = content_type


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _dispatch(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeGitHub) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with self.sockets_lock:
            self.open_sockets.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
            self.open_sockets.clear()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass


class FakeGitHub:
    """An in-memory GitHub for one repository, served over HTTP on 127.0.0.1.

    Args:
        owner, repo: the repository it serves; any other answers 404.
        token: the token of the default user (``login``, with push access).
        collaborators: logins that can be assigned (``GET /assignees/{login}`` -> 204).
        prefix: ``/api/v3`` to serve like GitHub Enterprise Server.
        search_delay: seconds before a new issue appears in ``/search/issues``.
        validate: check every exchange against the OpenAPI description.
    """

    def __init__(
        self,
        owner: str = "acme",
        repo: str = "pipelines",
        *,
        token: str = DEFAULT_TOKEN,
        login: str = "scribe-bot",
        collaborators: tuple[str, ...] = ("alice", "bob"),
        prefix: str = "",
        search_delay: float = 0.0,
        validate: bool = True,
        rate_limit: int = 5000,
        content_limit_per_minute: int | None = None,
    ) -> None:
        self.owner = owner
        self.repo = repo
        self.prefix = prefix.rstrip("/")
        self.search_delay = search_delay
        self.validate = validate
        self.repo_id = 1000
        self.repo_exists = True
        self.issues_enabled = True
        self.lock = threading.RLock()
        self._ids = 2000
        self.users: dict[str, User] = {}
        self.add_token(token, login, push=True)
        self.collaborators: set[str] = {c.lower() for c in collaborators}
        self.labels: dict[str, dict[str, Any]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.contract_errors: list[str] = []
        self.rate_limit = rate_limit
        self.content_limit_per_minute = content_limit_per_minute
        """Secondary limit on content creation (GitHub: about 80 issues/comments a minute)."""
        self._content_times: list[float] = []
        self._rate: dict[str, dict[str, float]] = {}
        self._primary_block_until = 0.0
        self._contract = Contract(owner, repo) if validate else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_url(self) -> str:
        """What to configure as ``SCRIBE_GITHUB_API_URL``."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def html_root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def start(self) -> FakeGitHub:
        """Start serving (again, on the same port after :meth:`stop`)."""
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-github-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection: clients get connection refused."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    close = stop

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ set-up helpers

    def add_token(self, token: str, login: str, *, push: bool = True) -> None:
        with self.lock:
            self.users[token] = User(login=login, id=self._next_id(), push=push)

    def _next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def add_label(self, name: str, color: str = "ededed", description: str | None = None) -> None:
        with self.lock:
            self.labels[name.lower()] = self._new_label(name, color, description)

    # ------------------------------------------------------------------ faults

    def fail(self, status: int, *, times: int | None = 1, method: str | None = None,
             path: str | None = None, headers: dict[str, str] | None = None, body: Any = None,
             apply: bool = False) -> Fault:
        """Answer ``status`` to the next ``times`` matching requests."""
        fault = Fault("status", status=status, times=times, method=method, path=path,
                      headers=dict(headers or {}), body=body, apply=apply)
        with self.lock:
            self.faults.append(fault)
        return fault

    def timeout(self, delay: float, *, times: int | None = 1, method: str | None = None,
                path: str | None = None, apply: bool = False) -> Fault:
        """Sleep ``delay`` seconds before answering (longer than the client's read timeout)."""
        fault = Fault("timeout", times=times, method=method, path=path, delay=delay, apply=apply)
        with self.lock:
            self.faults.append(fault)
        return fault

    def drop(self, *, times: int | None = 1, method: str | None = None, path: str | None = None,
             apply: bool = False) -> Fault:
        """Close the connection without answering (the client sees a reset / closed socket)."""
        fault = Fault("drop", times=times, method=method, path=path, apply=apply)
        with self.lock:
            self.faults.append(fault)
        return fault

    def secondary_limit(self, *, retry_after: int | None = None, status: int = 403,
                        times: int | None = 1, method: str | None = None,
                        path: str | None = None) -> Fault:
        """A secondary rate limit: 403 (or 429), remaining > 0, with or without ``retry-after``."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        body = {"message": "You have exceeded a secondary rate limit and have been temporarily "
                           "blocked from content creation. Please retry your request again later.",
                "documentation_url": DOCS + "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}
        return self.fail(status, times=times, method=method, path=path, headers=headers, body=body)

    def primary_limit(self, *, reset_in: float, status: int = 403) -> None:
        """Spend the primary limit: every request answers ``status`` with remaining 0 until reset."""
        with self.lock:
            self._primary_block_until = time.time() + reset_in
            self._primary_status = status

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self._primary_block_until = 0.0

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    # ------------------------------------------------------------------ inspection helpers

    def issues_for(self, incident: str) -> list[dict[str, Any]]:
        """Issues whose body carries ``incident``'s marker."""
        marker = f"<!-- postmortem-scribe incident={incident} -->"
        with self.lock:
            return [self._issue_json(i) for i in self.issues.values() if marker in (i["body"] or "")]

    def issue(self, number: int) -> dict[str, Any]:
        with self.lock:
            return self._issue_json(self.issues[number])

    def comment_bodies(self, number: int) -> list[str]:
        with self.lock:
            return [c["body"] for c in self.comments.get(number, [])]

    def close_issue(self, number: int, reason: str = "completed") -> None:
        """What a person does on github.com."""
        with self.lock:
            issue = self.issues[number]
            issue.update(state="closed", state_reason=reason, closed_at=time.time(),
                         updated_at=time.time())

    def reopen_issue(self, number: int) -> None:
        with self.lock:
            issue = self.issues[number]
            issue.update(state="open", state_reason="reopened", closed_at=None, updated_at=time.time())

    def assign(self, number: int, login: str) -> None:
        with self.lock:
            self.issues[number].update(assignees=[login], updated_at=time.time())

    def writes(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.write]

    def requests_to(self, method: str, pattern: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    # ------------------------------------------------------------------ JSON shapes

    def _user_json(self, login: str) -> dict[str, Any]:
        base = f"{self.api_url}/users/{login}"
        user_id = next((u.id for u in self.users.values() if u.login == login),
                       int(hashlib.sha1(login.encode()).hexdigest()[:6], 16))
        return {
            "login": login, "id": user_id, "node_id": "MDQ6VXNlcjE=",
            "avatar_url": f"{self.html_root}/avatars/{login}", "gravatar_id": "",
            "url": base, "html_url": f"{self.html_root}/{login}",
            "followers_url": f"{base}/followers", "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}", "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions", "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events", "type": "User", "site_admin": False,
        }

    def _new_label(self, name: str, color: str, description: str | None) -> dict[str, Any]:
        return {"id": self._next_id(), "node_id": "MDU6TGFiZWwx", "name": name, "color": color.lower(),
                "description": description, "default": False}

    def _label_json(self, label: dict[str, Any]) -> dict[str, Any]:
        from urllib.parse import quote

        return {**label, "url": f"{self.api_url}/repos/{self.full_name}/labels/{quote(label['name'])}"}

    def _repo_api(self) -> str:
        return f"{self.api_url}/repos/{self.full_name}"

    def _issue_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        n = issue["number"]
        api = f"{self._repo_api()}/issues/{n}"
        assignees = [self._user_json(a) for a in issue["assignees"]]
        return {
            "id": issue["id"], "node_id": "MDU6SXNzdWUx", "url": api,
            "repository_url": self._repo_api(), "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments", "events_url": f"{api}/events",
            "html_url": f"{self.html_root}/{self.full_name}/issues/{n}", "number": n,
            "state": issue["state"], "state_reason": issue["state_reason"], "title": issue["title"],
            "body": issue["body"], "user": self._user_json(issue["user"]),
            "labels": [self._label_json(self.labels[name.lower()]) for name in issue["labels"]
                       if name.lower() in self.labels],
            "assignee": assignees[0] if assignees else None, "assignees": assignees,
            "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(self.comments.get(n, [])),
            "closed_at": iso(issue["closed_at"]) if issue["closed_at"] else None,
            "created_at": iso(issue["created_at"]), "updated_at": iso(issue["updated_at"]),
            "closed_by": None, "author_association": "COLLABORATOR",
            "timeline_url": f"{api}/timeline",
            "reactions": {"url": f"{api}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
                          "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
        }

    def _comment_json(self, number: int, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"], "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
            "url": f"{self._repo_api()}/issues/comments/{comment['id']}",
            "html_url": f"{self.html_root}/{self.full_name}/issues/{number}#issuecomment-{comment['id']}",
            "body": comment["body"], "user": self._user_json(comment["user"]),
            "created_at": iso(comment["created_at"]), "updated_at": iso(comment["updated_at"]),
            "issue_url": f"{self._repo_api()}/issues/{number}", "author_association": "COLLABORATOR",
        }

    @staticmethod
    def _etag(data: Any) -> str:
        digest = hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()
        return f'W/"{digest}"'

    # ------------------------------------------------------------------ HTTP plumbing

    def _handle(self, h: _Handler) -> None:
        started = time.time()
        split = urlsplit(h.path)
        path, query = unquote(split.path), split.query
        length = int(h.headers.get("Content-Length") or 0)
        raw_body = h.rfile.read(length) if length else b""
        method = h.command.upper()
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        auth = h.headers.get("Authorization") or ""
        token = auth.split(" ", 1)[1].strip() if " " in auth else ""
        user = self.users.get(token)
        inner = path
        if self.prefix:
            inner = path[len(self.prefix):] if path.startswith(self.prefix + "/") else "/__outside_prefix__"

        fault = self._take_fault(method, inner)
        reply: _Reply | None = None
        if fault is None or fault.apply:
            reply = self._serve(method, inner, query, body, user, bool(token),
                                h.headers.get("If-None-Match"))
        fault_name = None
        if fault is not None:
            fault_name = f"{fault.kind}:{fault.status}" if fault.kind == "status" else fault.kind
            if fault.kind == "drop":
                self._log(method, inner, query, None, fault_name, body, started, bool(token), h)
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.kind == "timeout":
                time.sleep(fault.delay)
                if reply is None:
                    reply = self._serve(method, inner, query, body, user, bool(token),
                                        h.headers.get("If-None-Match"))
            else:
                fault_body = fault.body if fault.body is not None else _default_fault_body(fault.status)
                headers = dict(fault.headers)
                reply = _Reply(fault.status, fault_body, headers, undeclared_ok=True)
                if fault.status == 502 and fault.body is None:
                    reply = _Reply(502, None, headers, undeclared_ok=True, content_type="text/html",
                                   raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        assert reply is not None
        self._send(h, method, inner, query, raw_body, body, reply, fault_name, started, bool(token))

    def _send(self, h: _Handler, method: str, path: str, query: str, raw_body: bytes, body: Any,
              reply: _Reply, fault_name: str | None, started: float, authorized: bool) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
        headers = {**self._rate_headers(path, reply), **reply.headers}
        headers.setdefault("x-github-request-id", f"FAKE:{self._next_id()}")
        headers.setdefault("x-github-api-version-selected", "2022-11-28")
        if self._contract is not None:
            problems = self._contract.check(
                method, path, query, raw_body, reply.status, payload,
                {k: v for k, v in headers.items()},
                content_type=reply.content_type.split(";")[0] if payload else "application/json",
                undeclared_ok=reply.undeclared_ok or fault_name is not None,
            )
            if problems:
                with self.lock:
                    self.contract_errors.extend(problems)
        self._log(method, path, query, reply.status, fault_name, body, started, authorized, h)
        try:
            h.send_response(reply.status)
            if payload or reply.status not in (204, 304):
                h.send_header("Content-Type", reply.content_type)
            h.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            if payload:
                h.wfile.write(payload)
            h.wfile.flush()
        except OSError:
            h.close_connection = True  # the client gave up (read timeout): nobody to answer

    def _log(self, method: str, path: str, query: str, status: int | None, fault: str | None,
             body: Any, started: float, authorized: bool, h: _Handler) -> None:
        call = Call(method=method, path=path, query=dict(parse_qsl(query)), status=status, fault=fault,
                    body=body, started=started, ended=time.time(), authorized=authorized,
                    if_none_match=h.headers.get("If-None-Match"))
        with self.lock:
            self.calls.append(call)

    def _rate_headers(self, path: str, reply: _Reply) -> dict[str, str]:
        resource = "search" if path.startswith("/search/") else "core"
        bucket = self._bucket(resource)
        return {
            "x-ratelimit-limit": str(int(bucket["limit"])),
            "x-ratelimit-remaining": str(max(0, int(bucket["limit"] - bucket["used"]))),
            "x-ratelimit-used": str(int(bucket["used"])),
            "x-ratelimit-reset": str(int(bucket["reset"])),
            "x-ratelimit-resource": resource,
        }

    def _bucket(self, resource: str) -> dict[str, float]:
        now = time.time()
        with self.lock:
            bucket = self._rate.get(resource)
            if bucket is None or now >= bucket["reset"]:
                window = 60 if resource == "search" else 3600
                limit = 30 if resource == "search" else self.rate_limit
                bucket = self._rate[resource] = {"limit": limit, "used": 0, "reset": int(now) + window}
            return bucket

    # ------------------------------------------------------------------ the API

    def _serve(self, method: str, path: str, query: str, body: Any, user: User | None,
               sent_token: bool, if_none_match: str | None) -> _Reply:
        params = dict(parse_qsl(query))
        if user is None:
            message = "Bad credentials" if sent_token else "Requires authentication"
            return _Reply(401, {"message": message, "documentation_url": DOCS, "status": "401"},
                          undeclared_ok=True)
        if path == "/rate_limit" and method == "GET":
            return self._rate_limit()
        resource = "search" if path.startswith("/search/") else "core"
        with self.lock:
            if time.time() < self._primary_block_until:
                reset = int(self._primary_block_until) + 1
                return _Reply(getattr(self, "_primary_status", 403),
                              {"message": f"API rate limit exceeded for user ID {user.id}.",
                               "documentation_url": DOCS + "/overview/rate-limits-for-the-rest-api"},
                              {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset),
                               "x-ratelimit-limit": str(self.rate_limit),
                               "x-ratelimit-used": str(self.rate_limit)},
                              undeclared_ok=True)
            bucket = self._bucket(resource)
            if bucket["used"] >= bucket["limit"]:
                return _Reply(403, {"message": f"API rate limit exceeded for user ID {user.id}.",
                                    "documentation_url": DOCS}, undeclared_ok=True)
        if self.content_limit_per_minute is not None and method == "POST" and \
                re.search(r"/issues(/\d+/comments)?$", path):
            with self.lock:
                now = time.time()
                self._content_times = [t for t in self._content_times if t > now - 60]
                if len(self._content_times) >= self.content_limit_per_minute:
                    return _Reply(403, {"message": "You have exceeded a secondary rate limit and have "
                                        "been temporarily blocked from content creation. Please "
                                        "retry your request again later.", "documentation_url": DOCS})
                self._content_times.append(now)
        reply = self._route(method, path, params, body, user, if_none_match)
        if reply.status != 304:
            with self.lock:
                self._bucket(resource)["used"] += 1
        return reply

    def _route(self, method: str, path: str, params: dict[str, str], body: Any, user: User,
               if_none_match: str | None) -> _Reply:
        if path == "/search/issues" and method == "GET":
            return self._search(params)
        m = re.match(r"^/repositories/(\d+)(/.*)$", path)
        if m:
            if int(m.group(1)) != self.repo_id or not self.repo_exists:
                return _not_found()
            rest = m.group(2)
        else:
            m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
            if not m:
                return _not_found()
            if (m.group(1).lower(), m.group(2).lower()) != (self.owner.lower(), self.repo.lower()) \
                    or not self.repo_exists:
                return _not_found()
            rest = m.group(3) or ""
        with self.lock:
            if rest.startswith("/issues") and not self.issues_enabled:
                return _Reply(410, {"message": "Issues are disabled for this repo",
                                    "documentation_url": DOCS, "status": "410"}, undeclared_ok=True)
            if rest == "/issues":
                if method == "GET":
                    return self._list_issues(params)
                if method == "POST":
                    return self._create_issue(body, user)
            if rest == "/labels":
                if method == "GET":
                    return self._page(params, [self._label_json(lab) for lab in self.labels.values()],
                                      "/labels")
                if method == "POST":
                    return self._create_label(body, user)
            m = re.match(r"^/issues/(\d+)(/comments|/labels)?$", rest)
            if m:
                number, sub = int(m.group(1)), m.group(2)
                issue = self.issues.get(number)
                if issue is None:
                    return _not_found()
                if sub is None and method == "GET":
                    return self._get_issue(issue, if_none_match)
                if sub is None and method == "PATCH":
                    return self._update_issue(issue, body, user)
                if sub == "/comments" and method == "GET":
                    items = [self._comment_json(number, c) for c in self.comments.get(number, [])
                             if "since" not in params or c["updated_at"] >= parse_iso(params["since"])]
                    return self._page(params, items, f"/issues/{number}/comments")
                if sub == "/comments" and method == "POST":
                    return self._create_comment(issue, body, user)
                if sub == "/labels" and method == "POST":
                    return self._add_labels(issue, body, user)
            m = re.match(r"^/assignees/([^/]+)$", rest)
            if m and method == "GET":
                login = m.group(1)
                if self._assignable(login):
                    return _Reply(204)
                return _Reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return _not_found()

    def _assignable(self, login: str) -> bool:
        return login.lower() in self.collaborators or any(
            u.login.lower() == login.lower() and u.push for u in self.users.values())

    def _page(self, params: dict[str, str], items: list[Any], suffix: str) -> _Reply:
        per_page = max(1, min(100, int(params.get("per_page", 30))))
        page = max(1, int(params.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        links = []

        def link(n: int, rel: str) -> str:
            query = {k: v for k, v in params.items() if k != "page"}
            query["page"] = str(n)
            # Like GitHub: next links name the repository by id, not owner/name.
            return f'<{self.api_url}/repositories/{self.repo_id}{suffix}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if links:
            headers["Link"] = ", ".join(links)
        return _Reply(200, chunk, headers)

    def _list_issues(self, params: dict[str, str]) -> _Reply:
        state = params.get("state", "open")
        wanted = [n.strip().lower() for n in params.get("labels", "").split(",") if n.strip()]
        since = parse_iso(params["since"]) if params.get("since") else None
        items = []
        for issue in self.issues.values():
            if state != "all" and issue["state"] != state:
                continue
            names = {n.lower() for n in issue["labels"]}
            if any(w not in names for w in wanted):
                continue
            if since is not None and issue["updated_at"] < since:
                continue
            items.append(issue)
        key = {"created": "created_at", "updated": "updated_at"}.get(params.get("sort", "created"),
                                                                     "created_at")
        items.sort(key=lambda i: (i[key], i["number"]), reverse=params.get("direction", "desc") == "desc")
        return self._page(params, [self._issue_json(i) for i in items], "/issues")

    def _length_problem(self, resource: str, field_name: str, value: Any, limit: int) -> _Reply | None:
        if isinstance(value, str) and len(value) > limit:
            return _invalid(resource, field_name, "custom",
                            f"{field_name} is too long (maximum is {limit} characters)")
        return None

    def _label_names(self, raw: Any) -> list[str]:
        names = []
        for item in raw or []:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and name.strip():
                names.append(name.strip())
        return names

    def _ensure_issue_labels(self, names: list[str]) -> _Reply | None:
        for name in names:
            if len(name) > LABEL_NAME_LIMIT:
                return _invalid("Label", "name", "custom",
                                f"name is too long (maximum is {LABEL_NAME_LIMIT} characters)")
        for name in names:
            if name.lower() not in self.labels:  # GitHub creates unknown labels plainly
                self.labels[name.lower()] = self._new_label(name, "ededed", None)
        return None

    def _create_issue(self, body: Any, user: User) -> _Reply:
        body = body if isinstance(body, dict) else {}
        title = body.get("title")
        if title is None or (isinstance(title, str) and not title.strip()):
            return _invalid("Issue", "title", "missing_field")
        title = str(title)
        problem = (self._length_problem("Issue", "title", title, TITLE_LIMIT)
                   or self._length_problem("Issue", "body", body.get("body"), BODY_LIMIT))
        if problem:
            return problem
        labels = self._label_names(body.get("labels"))
        assignees = [a for a in (body.get("assignees") or []) if isinstance(a, str)]
        if isinstance(body.get("assignee"), str):
            assignees.append(body["assignee"])
        if user.push:
            for login in assignees:
                if not self._assignable(login):
                    # Observed (LIMITS.md section 6): the whole create fails, nothing is created.
                    return _Reply(422, {"message": "Validation Failed", "documentation_url": DOCS,
                                        "errors": [{"value": login, "resource": "Issue",
                                                    "field": "assignees", "code": "invalid"}]})
            problem = self._ensure_issue_labels(labels)
            if problem:
                return problem
        else:
            labels, assignees = [], []  # silently dropped without push access
        now = time.time()
        number = max(self.issues, default=0) + 1
        issue = {"id": self._next_id(), "number": number, "title": title, "body": body.get("body"),
                 "state": "open", "state_reason": None, "labels": labels,
                 "assignees": list(dict.fromkeys(assignees)), "user": user.login,
                 "created_at": now, "updated_at": now, "closed_at": None,
                 "indexed_at": now + self.search_delay}
        self.issues[number] = issue
        data = self._issue_json(issue)
        return _Reply(201, data, {"Location": data["url"], "ETag": self._etag(data)})

    def _get_issue(self, issue: dict[str, Any], if_none_match: str | None) -> _Reply:
        data = self._issue_json(issue)
        etag = self._etag(data)
        if if_none_match and if_none_match.strip() == etag:
            return _Reply(304, None, {"ETag": etag})
        return _Reply(200, data, {"ETag": etag})

    def _update_issue(self, issue: dict[str, Any], body: Any, user: User) -> _Reply:
        body = body if isinstance(body, dict) else {}
        problem = (self._length_problem("Issue", "title", body.get("title"), TITLE_LIMIT)
                   or self._length_problem("Issue", "body", body.get("body"), BODY_LIMIT))
        if problem:
            return problem
        now = time.time()
        if body.get("title") is not None:
            issue["title"] = str(body["title"])
        if "body" in body:
            issue["body"] = body["body"]
            issue["indexed_at"] = now + self.search_delay
        if body.get("state") in ("open", "closed") and body["state"] != issue["state"]:
            if body["state"] == "closed":
                issue.update(state="closed", closed_at=now,
                             state_reason=body.get("state_reason") or "completed")
            else:
                issue.update(state="open", closed_at=None, state_reason="reopened")
        if user.push:
            if "labels" in body:
                names = self._label_names(body["labels"])
                problem = self._ensure_issue_labels(names)
                if problem:
                    return problem
                issue["labels"] = names
            if "assignees" in body:
                logins = [a for a in body["assignees"] or [] if isinstance(a, str)]
                if any(not self._assignable(a) for a in logins):
                    return _invalid("Issue", "assignees", "invalid")
                issue["assignees"] = logins
        issue["updated_at"] = now
        data = self._issue_json(issue)
        return _Reply(200, data, {"ETag": self._etag(data)})

    def _create_comment(self, issue: dict[str, Any], body: Any, user: User) -> _Reply:
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _invalid("IssueComment", "body", "missing_field")
        problem = self._length_problem("IssueComment", "body", text, BODY_LIMIT)
        if problem:
            return problem
        now = time.time()
        comment = {"id": self._next_id(), "body": text, "user": user.login, "created_at": now,
                   "updated_at": now}
        self.comments.setdefault(issue["number"], []).append(comment)
        issue["updated_at"] = now
        data = self._comment_json(issue["number"], comment)
        return _Reply(201, data, {"Location": data["url"]})

    def _add_labels(self, issue: dict[str, Any], body: Any, user: User) -> _Reply:
        raw = body.get("labels") if isinstance(body, dict) else body
        names = self._label_names(raw if isinstance(raw, list) else [])
        if not user.push:
            return _Reply(403, {"message": "Must have push access to repository",
                                "documentation_url": DOCS}, undeclared_ok=True)
        problem = self._ensure_issue_labels(names)
        if problem:
            return problem
        for name in names:
            if name.lower() not in {n.lower() for n in issue["labels"]}:
                issue["labels"].append(name)
        issue["updated_at"] = time.time()
        return _Reply(200, [self._label_json(self.labels[n.lower()]) for n in issue["labels"]])

    def _create_label(self, body: Any, user: User) -> _Reply:
        body = body if isinstance(body, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return _invalid("Label", "name", "missing_field")
        if not user.push:
            return _Reply(403, {"message": "Must have push access to repository",
                                "documentation_url": DOCS}, undeclared_ok=True)
        if len(name) > LABEL_NAME_LIMIT:
            return _invalid("Label", "name", "custom",
                            f"name is too long (maximum is {LABEL_NAME_LIMIT} characters)")
        color = body.get("color") or "ededed"
        if not _HEX6.match(color):
            return _invalid("Label", "color", "invalid")
        description = body.get("description")
        if isinstance(description, str) and len(description) > LABEL_DESCRIPTION_LIMIT:
            return _invalid("Label", "description", "custom",
                            f"description is too long (maximum is {LABEL_DESCRIPTION_LIMIT} characters)")
        if name.lower() in self.labels:
            return _invalid("Label", "name", "already_exists")
        label = self._new_label(name, color, description)
        self.labels[name.lower()] = label
        data = self._label_json(label)
        return _Reply(201, data, {"Location": data["url"]})

    def _search(self, params: dict[str, str]) -> _Reply:
        q = params.get("q", "")
        tokens = re.findall(r'(\w+:"[^"]*"|\S+)', q)
        now = time.time()
        want_labels, terms, state = [], [], None
        for token in tokens:
            key, _, value = token.partition(":")
            value = value.strip('"')
            if key == "label" and value:
                want_labels.append(value.lower())
            elif key == "is" and value in ("open", "closed"):
                state = value
            elif key in ("repo", "is", "in", "type"):
                continue
            else:
                terms.append(token.lower())
        items = []
        with self.lock:
            for issue in self.issues.values():
                if issue["indexed_at"] > now:
                    continue  # not indexed yet: search lags the primary database
                if state and issue["state"] != state:
                    continue
                if any(w not in {n.lower() for n in issue["labels"]} for w in want_labels):
                    continue
                text = f"{issue['title']} {issue['body'] or ''}".lower()
                if all(t in text for t in terms):
                    items.append({**self._issue_json(issue), "score": 1.0})
        return _Reply(200, {"total_count": len(items), "incomplete_results": False,
                            "items": items[:100], "search_type": "lexical"})

    def _rate_limit(self) -> _Reply:
        def view(resource: str) -> dict[str, int]:
            b = self._bucket(resource)
            return {"limit": int(b["limit"]), "used": int(b["used"]),
                    "remaining": max(0, int(b["limit"] - b["used"])), "reset": int(b["reset"])}

        core = view("core")
        data = {"resources": {"core": core, "search": view("search")}, "rate": core}
        return _Reply(200, data, {"X-RateLimit-Limit": str(core["limit"]),
                                  "X-RateLimit-Remaining": str(core["remaining"]),
                                  "X-RateLimit-Reset": str(core["reset"])})


def _not_found() -> _Reply:
    return _Reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})


def _invalid(resource: str, field_name: str, code: str, message: str | None = None) -> _Reply:
    error: dict[str, Any] = {"resource": resource, "field": field_name, "code": code}
    if message:
        error["message"] = message
    return _Reply(422, {"message": "Validation Failed", "documentation_url": DOCS, "errors": [error]})


def _default_fault_body(status: int) -> dict[str, Any]:
    if status == 503:
        return {"code": "unavailable", "message": "Service Unavailable", "documentation_url": DOCS}
    if status == 422:
        return {"message": "Validation Failed", "documentation_url": DOCS,
                "errors": [{"resource": "Issue", "code": "custom", "field": "body",
                            "message": "body is too long"}]}
    if status == 429:
        return {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again.", "documentation_url": DOCS}
    messages = {401: "Bad credentials", 403: "Forbidden", 404: "Not Found", 410: "Gone",
                500: "Server Error", 502: "Bad Gateway"}
    return {"message": messages.get(status, "Error"), "documentation_url": DOCS}
