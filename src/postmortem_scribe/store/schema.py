"""Tables of the incident store (SQLAlchemy Core), and the in-place upgrades between versions.

Every change to these tables gets a new entry in :data:`MIGRATIONS`; opening a store applies the
missing ones, so a later release upgrades an existing store without losing incidents.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

STORE_VERSION = 1

metadata = sa.MetaData()

meta = sa.Table(
    "scribe_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

incidents = sa.Table(
    "scribe_incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # A regression opens generation n+1 of the same fingerprint; the unique pair is what makes
    # concurrent reporters agree on one incident without a lock.
    sa.Column("generation", sa.Integer, nullable=False, default=1),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("category", sa.String(32)),
    sa.Column("title", sa.Text),
    sa.Column("pipeline", sa.Text),
    sa.Column("task", sa.Text),
    sa.Column("lead", sa.String(100)),
    sa.Column("first_seen", sa.String(40), nullable=False),
    sa.Column("last_seen", sa.String(40), nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False, default=1),
    sa.Column("previous_key", sa.String(64)),
    sa.Column("issue_number", sa.Integer),
    sa.Column("issue_url", sa.Text),
    sa.Column("issue_state", sa.String(16)),
    sa.Column("issue_etag", sa.Text),
    sa.Column("last_comment_at", sa.Float),
    sa.Column("flaky", sa.Boolean, nullable=False, default=False),
    sa.Column("labels", sa.Text, nullable=False, default="[]"),
    sa.Column("signature", sa.Text),
    sa.Column("summary", sa.Text),
    # Names the cause (category + target system) so a storm of different failures with one
    # cause joins one incident; see correlate.storm_key.
    sa.Column("storm_key", sa.Text),
    sa.UniqueConstraint("fingerprint", "generation", name="uq_incident_generation"),
)
sa.Index("ix_incidents_fingerprint", incidents.c.fingerprint)
sa.Index("ix_incidents_storm", incidents.c.storm_key, incidents.c.status)
sa.Index("ix_incidents_task", incidents.c.pipeline, incidents.c.task)

# Fingerprints that joined another fingerprint's incident (a storm, or a person's merge).
fingerprint_aliases = sa.Table(
    "scribe_fingerprint_aliases",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("incident_key", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
)

# Recent outcomes per task, failures and successes, to recognise flaky tasks.
task_outcomes = sa.Table(
    "scribe_task_outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("orchestrator", sa.String(32)),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("task", sa.Text, nullable=False, default=""),
    sa.Column("run_id", sa.Text),
    sa.Column("try_number", sa.Integer),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)
sa.Index("ix_task_outcomes_task", task_outcomes.c.pipeline, task_outcomes.c.task, task_outcomes.c.id)

# What people decided while triaging (scribe sync): a corrected category, "not a repeat".
overrides = sa.Table(
    "scribe_overrides",
    metadata,
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("source", sa.Text),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint("fingerprint", "kind", "value"),
)

occurrences = sa.Table(
    "scribe_occurrences",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("occurrence_key", sa.Text, nullable=False, unique=True),
    sa.Column("incident_key", sa.String(64)),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("orchestrator", sa.String(32)),
    sa.Column("pipeline", sa.Text),
    sa.Column("task", sa.Text),
    sa.Column("run_id", sa.Text),
    sa.Column("try_number", sa.Integer),
    sa.Column("occurred_at", sa.String(40), nullable=False),
    sa.Column("category", sa.String(32)),
    sa.Column("record", sa.Text),
)
sa.Index("ix_occurrences_incident", occurrences.c.incident_key)
sa.Index("ix_occurrences_run", occurrences.c.orchestrator, occurrences.c.run_id)

outbox = sa.Table(
    "scribe_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_key", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("labels", sa.Text, nullable=False, default="[]"),
    sa.Column("assignees", sa.Text, nullable=False, default="[]"),
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("not_before", sa.Float, nullable=False, default=0.0),
    sa.Column("lease_until", sa.Float, nullable=False, default=0.0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("sent_at", sa.String(40)),
    sa.Column("result_url", sa.Text),
    # A coalescing digest comment is rewritten while it waits; this names it per incident.
    sa.Column("digest", sa.Text),
    sa.Column("digest_state", sa.Text),
)
sa.Index("ix_outbox_status", outbox.c.status, outbox.c.not_before)
sa.Index("ix_outbox_incident", outbox.c.incident_key)

incident_bands = sa.Table(
    "scribe_incident_bands",
    metadata,
    sa.Column("band", sa.String(40), nullable=False),
    sa.Column("incident_key", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("band", "incident_key"),
)

input_profiles = sa.Table(
    "scribe_input_profiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
)
sa.Index("ix_input_profiles_path", input_profiles.c.path)

Migration = Callable[[sa.engine.Connection], None]

# version reached -> step from the version before.  Version 1 is the initial create_all.
MIGRATIONS: dict[int, Migration] = {}
