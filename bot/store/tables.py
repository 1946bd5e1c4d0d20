"""The schema: SQLAlchemy Core tables. Alembic migrations in `migrations/` must match these (a test checks it).

Times are epoch milliseconds (BIGINT), like DLF's, so both dialects store and compare them the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

# Deterministic constraint names, so migrations can refer to them on every dialect.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# `instance_id` 0 means "every instance of the job": NULLs are distinct in unique constraints on both dialects, so a
# nullable column could not make a plain subscription unique.
WHOLE_JOB = 0

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team", String(32), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("is_pattern", Boolean, nullable=False),
    Column("instance_id", BigInteger, nullable=False, server_default=text("0")),
    Column("events", String(128), nullable=False),
    Column("mention", String(255), nullable=True),  # "<!subteam^S…|@handle>" can be long
    Column("state", String(16), nullable=False, server_default=text("'active'")),
    Column("broken_reason", String(255), nullable=True),
    Column("broken_at", BigInteger, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # A one-off follow whose instance ended while its channel was broken: kept (and its channel held) until the
    # channel is repaired, so the held outcome is delivered instead of lost; the decision no longer matches it.
    Column("ended_at", BigInteger, nullable=True),
    # `/dlf watch job --escalate 30m`: seconds after which an unacknowledged incident gets one reminder; NULL: the
    # bot's default (`DLF_ESCALATE_AFTER`), 0: never (`--escalate off`).
    Column("escalate_after_s", Integer, nullable=True),
    UniqueConstraint("channel", "profile", "target", "instance_id"),
    Index(None, "profile", "state"),
    # A cycle reads the exact watches of the jobs it listed, not all 10,000 subscriptions.
    Index(None, "profile", "target"),
)

instances_seen = Table(
    "instances_seen",
    metadata,
    Column("profile", String(64), primary_key=True),
    Column("job_name", String(255), primary_key=True),
    Column("instance_id", BigInteger, primary_key=True),
    Column("status", String(32), nullable=False),
    Column("first_seen_at", BigInteger, nullable=False),
    Column("last_status_at", BigInteger, nullable=False),
    # The run the status belongs to (DLF's start time of that run): a rerun that fails again has the same status and
    # a different run, and is news. NULL for rows recorded before it was kept (those count as the same run).
    Column("run_start", BigInteger, nullable=True),
    # DLF's planned time of the instance. The watcher follows an unfinished one (waiting, running...) until it ends:
    # one that leaves the unfinished lists while planned before the failure list's window is looked up by id, so a
    # run that fails (or a rerun that succeeds) long after its planned time is still seen.
    Column("plan_time", BigInteger, nullable=True),
    Index(None, "profile", "status"),
    Index(None, "last_status_at"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("job_name", String(255), nullable=False),
    Column("first_instance_id", BigInteger, nullable=False),
    Column("last_instance_id", BigInteger, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("root_key", String(255), nullable=False),
    Column("root_ts", String(32), nullable=True),
    Column("opened_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", BigInteger, nullable=True),
    Column("resolution", String(255), nullable=True),
    # The Slack team of the channel (from the subscription that opened it): an action must come from it.
    Column("team", String(32), nullable=True),
    # Escalation: when the one reminder is due (NULL: none pending — acknowledged, resolved, off, or sent), whom it
    # mentions, and when it was sent.
    Column("escalate_at", BigInteger, nullable=True),
    Column("escalation_mention", String(255), nullable=True),
    Column("escalated_at", BigInteger, nullable=True),
    # The incident's escalation delay (NULL: off): a mute holds the reminder back, and the mute's end sets it due
    # again this long later.
    Column("escalate_after_ms", BigInteger, nullable=True),
    # The rerun being followed (NULL state: none in flight). `rerun_seq` numbers the incident's reruns (their thread
    # replies' keys); `rerun_instance_id` is the instance rerun; `rerun_run_start` DLF's start time of the run before
    # the rerun (a later start is the rerun's run); `rerun_progress` the last progress shown ("3/7").
    Column("rerun_state", String(16), nullable=True),  # "requested" | "running" | "unknown"
    Column("rerun_seq", Integer, nullable=False, server_default=text("0")),
    Column("rerun_by", String(64), nullable=True),
    Column("rerun_from", String(16), nullable=True),  # "error_node" | "first_node"
    Column("rerun_instance_id", BigInteger, nullable=True),
    Column("rerun_run_start", BigInteger, nullable=True),
    Column("rerun_requested_at", BigInteger, nullable=True),
    Column("rerun_progress", String(32), nullable=True),
    # A success resolved it by a rerun someone asked for: who (for "recovered … by alice's rerun").
    Column("recovered_by_rerun_of", String(64), nullable=True),
    # At most one unresolved incident per job per channel, even if two poll cycles overlap.
    Index(
        "uq_incidents_unresolved",
        "channel",
        "profile",
        "job_name",
        unique=True,
        sqlite_where=text("state != 'resolved'"),
        postgresql_where=text("state != 'resolved'"),
    ),
    Index(None, "root_key"),
    Index(None, "profile", "state"),
    Index(None, "resolved_at"),
    Index(None, "escalate_at"),
    Index(None, "rerun_state"),
    Index(None, "channel", "state"),
)

# `/dlf mute job 4h` (or the card's Mute): the job's failures in the channel are recorded (the incident still counts
# them and resolves) but not posted until `until_at` (NULL: until unmuted). `suppressed` counts what was held back.
mutes = Table(
    "mutes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team", String(32), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("job_name", String(255), nullable=False),
    Column("until_at", BigInteger, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("suppressed", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("channel", "profile", "job_name"),
    Index(None, "profile", "job_name"),
    Index(None, "until_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("parent_key", String(255), nullable=True),
    Column("thread_ts", String(32), nullable=True),
    Column("status", String(24), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("claim_expires_at", BigInteger, nullable=True),
    Column("last_error", String(512), nullable=True),
    Column("sent_ts", String(32), nullable=True),
    Column("sent_thread_ts", String(32), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    # Attempts whose outcome is known not to have posted (an error answer, a 429, a refused connection, or a history
    # lookup that found nothing). `attempts - 1 > settled_attempts` on a claimed row: an earlier attempt may have
    # reached Slack, so the row must be looked up in the channel's history before it is posted again.
    Column("settled_attempts", Integer, nullable=False, server_default=text("0")),
    # What the row is about (NULL for a digest): `/dlf unwatch` cancels the pending rows of jobs no longer watched.
    Column("profile", String(64), nullable=True),
    Column("job_name", String(255), nullable=True),
    # Since when an attempt's outcome has been unknown and not yet settled by reading the channel's history (the
    # row is held, never posted, meanwhile), and since when the row has been failing: what /healthz judges.
    Column("in_doubt_since", BigInteger, nullable=True),
    Column("failing_since", BigInteger, nullable=True),
    Index(None, "status", "channel", "id"),
    Index(None, "created_at"),
    Index(None, "channel", "job_name"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("channel", String(32), nullable=True),
    Column("target", String(255), nullable=True),
    Column("details", JSON, nullable=True),
    # "ok" | "refused" | "failed" | "unknown" (DLF's answer, if any, in details)
    Column("outcome", String(16), nullable=True),
    Index(None, "at"),
    Index(None, "target", "at"),
)

watcher_state = Table(
    "watcher_state",
    metadata,
    Column("profile", String(64), primary_key=True),
    Column("cursor", BigInteger, nullable=True),
    Column("heartbeat_at", BigInteger, nullable=True),
    Column("last_success_at", BigInteger, nullable=True),
    Column("last_error", String(512), nullable=True),
    Column("last_error_at", BigInteger, nullable=True),
    # The first failed cycle of the current streak (NULL after a success): how long polling has been failing.
    Column("failing_since", BigInteger, nullable=True),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# Keys of requests already handled once (a Slack event_id redelivered on a timeout, an interaction's idempotency
# key): replicas share them, so a redelivery reaching another replica is recognised too. Pruned by retention.
request_keys = Table(
    "request_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("seen_at", BigInteger, nullable=False),
    Index(None, "seen_at"),
)

# Per channel, when the next message may be posted: every replica's deliverer paces a channel at Slack's rate
# (about one message a second) instead of discovering it by 429s; a 429's Retry-After holds the whole channel.
channel_pace = Table(
    "channel_pace",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("next_post_at", BigInteger, nullable=False),
)

__all__ = [
    "WHOLE_JOB",
    "audit",
    "channel_pace",
    "incidents",
    "instances_seen",
    "leases",
    "metadata",
    "mutes",
    "outbox",
    "request_keys",
    "subscriptions",
    "watcher_state",
]
