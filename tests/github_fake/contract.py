"""GitHub's contract for our calls: every request and response of the fake is checked against
``openapi-issues-subset.json`` (GitHub's official OpenAPI description, 12 operations) with
openapi-core, so neither the client nor the fake can drift from the real API.

The spec lives in the shared reference folder: ``$GH_API_DIR`` or ``../shared/github-api``
next to the repository (``/work/shared/github-api`` for ``/work/main``; CI clones the repository
with ``shared/`` beside it).  Its known quirks (README section 3) are worked around here, not in
the file: nullable enums get ``null`` added; a ``search_type`` is sent by the fake.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

REPO_ROOT = Path(__file__).resolve().parents[2]


def api_dir() -> Path:
    """The shared GitHub API reference folder."""
    configured = os.environ.get("GH_API_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT / ".." / "shared" / "github-api").resolve()


def spec_path() -> Path:
    return api_dir() / "openapi-issues-subset.json"


def _patch_nullable_enums(node: Any) -> None:
    """OAS 3.0 ``nullable: true`` + an ``enum`` without ``null`` rejects the ``null`` GitHub
    really sends (``state_reason`` of every open issue); add it (README, known quirk 1)."""
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        for value in node.values():
            _patch_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _patch_nullable_enums(value)


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    spec = json.loads(spec_path().read_text(encoding="utf-8"))
    _patch_nullable_enums(spec)
    return spec


@functools.lru_cache(maxsize=1)
def load_api() -> Any:
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(load_spec())


def declared_statuses() -> dict[tuple[str, str], set[str]]:
    """``(method, path template)`` -> the response codes the spec declares."""
    out: dict[tuple[str, str], set[str]] = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                out[(method.upper(), path)] = set(op["responses"])
    return out


_REPOSITORIES = re.compile(r"^/repositories/\d+(?=/)")


class Contract:
    """Validates one exchange; thread-safe; returns the problems as strings."""

    host = "https://api.github.com"

    def __init__(self, owner: str, repo: str) -> None:
        self.owner = owner
        self.repo = repo
        self._lock = threading.Lock()
        self.api = load_api()

    def canonical_path(self, path: str) -> str:
        """Pagination links use ``/repositories/{id}/...``; the spec names ``/repos/{o}/{r}/...``."""
        return _REPOSITORIES.sub(f"/repos/{self.owner}/{self.repo}", path)

    def check(
        self,
        method: str,
        path: str,
        query: str,
        request_body: bytes,
        status: int,
        response_body: bytes,
        response_headers: dict[str, str],
        *,
        content_type: str = "application/json",
        undeclared_ok: bool = False,
    ) -> list[str]:
        from openapi_core.templating.responses.exceptions import ResponseNotFound
        from openapi_core.testing import MockRequest, MockResponse

        problems: list[str] = []
        canonical = self.canonical_path(path)
        request = MockRequest(
            self.host, method.lower(), canonical, args=dict(parse_qsl(query, keep_blank_values=True)),
            data=request_body or b"",
        )
        where = f"{method} {path}{'?' + query if query else ''} -> {status}"
        with self._lock:
            try:
                self.api.validate_request(request)
            except Exception as exc:  # noqa: BLE001 - reported, not raised, by the fake
                problems.append(f"request {where}: {_describe(exc)}")
                return problems
            response = MockResponse(response_body or b"", status_code=status,
                                    headers=dict(response_headers), content_type=content_type)
            try:
                self.api.validate_response(request, response)
            except ResponseNotFound as exc:
                if not undeclared_ok:
                    problems.append(f"response {where}: {_describe(exc)}")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"response {where}: {_describe(exc)}")
        return problems


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    while cause is not None:
        text += f" <- {type(cause).__name__}: {cause}"
        nested = getattr(cause, "schema_errors", None)
        if nested:
            text += " [" + "; ".join(str(e.message) for e in list(nested)[:5]) + "]"
        cause = cause.__cause__
    return text[:2000]
