"""Publishers and the outbox that feeds them."""

from __future__ import annotations

from ..config import Config
from .base import Delivery, OutboxMessage, Publisher
from .local import LocalPublisher


def make_publisher(config: Config) -> Publisher:
    """GitHub when a repository is configured, otherwise local Markdown files."""
    if config.github_repo:
        from .github import GitHubPublisher

        return GitHubPublisher.from_config(config)
    return LocalPublisher(config.output_dir)


__all__ = ["Delivery", "LocalPublisher", "OutboxMessage", "Publisher", "make_publisher"]
