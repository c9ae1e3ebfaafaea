"""GitHub delivery: issues, comments, labels and rate limits, through the outbox.

``make_publisher`` builds :class:`GitHubPublisher` when a repository is configured; ``sync`` reads
our issues' state back into the store; ``doctor`` checks the token, repository and leads.
"""

from __future__ import annotations

from .client import GitHubClient, GitHubError
from .publisher import GitHubPublisher

__all__ = ["GitHubClient", "GitHubError", "GitHubPublisher"]
