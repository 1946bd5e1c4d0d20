"""Watcher reliability: outbox doubt and pacing, shared request keys, late runs, follows held in broken channels,
indexes for retention.

- outbox.settled_attempts: attempts known not to have posted; more attempts than that means an earlier one may have
  reached Slack, so the row is looked up in history before being posted again (and never posted while unsure).
- outbox.profile / outbox.job_name: what a row is about, so `/dlf unwatch` can cancel rows of jobs no longer watched.
- request_keys: Slack event ids (and later interaction keys) handled once, shared by replicas.
- channel_pace: when each channel may get its next message, shared by replicas.
- instances_seen.plan_time: unfinished instances widen the window back to their planned time.
- subscriptions.ended_at: a follow that ended while its channel was broken, kept until the channel is repaired.
- indexes on the columns retention deletes by.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:50:15.976559

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "channel_pace",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("next_post_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_pace")),
    )
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_request_keys")),
    )
    with op.batch_alter_table("request_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_keys_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_at"), ["at"], unique=False)

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_resolved_at"), ["resolved_at"], unique=False)

    with op.batch_alter_table("instances_seen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_time", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_seen_last_status_at"), ["last_status_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instances_seen_profile_status"), ["profile", "status"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("profile", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("job_name", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_channel_job_name"), ["channel", "job_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("ended_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_channel_job_name"))
        batch_op.drop_column("job_name")
        batch_op.drop_column("profile")
        batch_op.drop_column("settled_attempts")

    with op.batch_alter_table("instances_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_seen_profile_status"))
        batch_op.drop_index(batch_op.f("ix_instances_seen_last_status_at"))
        batch_op.drop_column("plan_time")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_resolved_at"))

    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_at"))

    with op.batch_alter_table("request_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_keys_seen_at"))

    op.drop_table("request_keys")
    op.drop_table("channel_pace")
