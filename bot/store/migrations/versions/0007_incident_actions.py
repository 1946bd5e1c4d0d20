"""Incident actions: who acknowledged, the rerun being followed, escalation, mutes, the audit's outcome.

- incidents: the channel's team (an action must come from it), the escalation reminder (when due, whom it
  mentions, when sent), the rerun in flight (state, sequence, who, from where, which instance and run, progress) and
  who asked for the rerun that recovered it;
- subscriptions: `escalate_after_s` (`/dlf watch job --escalate 30m`);
- mutes: a job muted in a channel until a time or until unmuted, with the count of failures held back;
- audit: each action's outcome, and an index to read a job's trail.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("escalate_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("escalation_mention", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rerun_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("rerun_seq", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("rerun_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rerun_from", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("rerun_instance_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rerun_run_start", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rerun_requested_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("rerun_progress", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("recovered_by_rerun_of", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_escalate_at"), ["escalate_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_rerun_state"), ["rerun_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_channel_state"), ["channel", "state"], unique=False)

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalate_after_s", sa.Integer(), nullable=True))

    op.create_table(
        "mutes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column("until_at", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("suppressed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutes")),
        sa.UniqueConstraint("channel", "profile", "job_name", name=op.f("uq_mutes_channel_profile_job_name")),
    )
    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mutes_profile_job_name"), ["profile", "job_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_mutes_until_at"), ["until_at"], unique=False)

    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_target_at"), ["target", "at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_target_at"))
        batch_op.drop_column("outcome")

    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mutes_until_at"))
        batch_op.drop_index(batch_op.f("ix_mutes_profile_job_name"))
    op.drop_table("mutes")

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("escalate_after_s")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_channel_state"))
        batch_op.drop_index(batch_op.f("ix_incidents_rerun_state"))
        batch_op.drop_index(batch_op.f("ix_incidents_escalate_at"))
        for name in (
            "recovered_by_rerun_of",
            "rerun_progress",
            "rerun_requested_at",
            "rerun_run_start",
            "rerun_instance_id",
            "rerun_from",
            "rerun_by",
            "rerun_seq",
            "rerun_state",
            "escalated_at",
            "escalation_mention",
            "escalate_at",
            "team",
        ):
            batch_op.drop_column(name)
