"""Routing: who leads the post-mortem (the GitHub assignee), who else should know, which labels.

Rules are ordered; the first rule whose every condition holds wins.  Globs use ``fnmatch``
(``etl_*``), so pipeline naming conventions can carry ownership without code.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .config import Config, RouteRule
from .records import FailureRecord, Route


def route(record: FailureRecord, config: Config) -> Route:
    category = record.classification.category if record.classification else None
    for rule in config.routes:
        if _matches(rule, record, category):
            return Route(
                lead=_login(rule.lead) or _login(config.default_lead),
                stakeholders=[s for s in (_login(x) for x in rule.stakeholders) if s],
                labels=list(rule.labels),
                rule=rule.name,
            )
    return Route(lead=_login(config.default_lead), rule="default")


def _matches(rule: RouteRule, record: FailureRecord, category: str | None) -> bool:
    if rule.pipeline and not fnmatchcase(record.pipeline, rule.pipeline):
        return False
    if rule.task and not fnmatchcase(record.task or "", rule.task):
        return False
    if rule.owner and not fnmatchcase(record.owner or "", rule.owner):
        return False
    if rule.category and rule.category != category:
        return False
    return all(tag in record.tags for tag in rule.tags)


def _login(value: str | None) -> str | None:
    """GitHub logins are written with or without ``@`` in configs; store them without."""
    if not value:
        return None
    value = value.strip().lstrip("@")
    return value or None
