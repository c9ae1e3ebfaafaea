"""A fake GitHub REST API for the tests and the storm benchmark (see :mod:`.server`)."""

from __future__ import annotations

from .server import DEFAULT_TOKEN, Call, FakeGitHub, Fault

__all__ = ["DEFAULT_TOKEN", "Call", "FakeGitHub", "Fault"]
