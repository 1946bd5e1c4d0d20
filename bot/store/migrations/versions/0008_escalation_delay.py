"""Escalation delay kept on the incident: a mute holds the reminder back, and its end sets it due again that long
later (`incidents.escalate_after_ms`; NULL: escalation off).

Incidents already waiting for a reminder get the delay they were opened with (`escalate_at - opened_at`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalate_after_ms", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE incidents SET escalate_after_ms = escalate_at - opened_at"
        " WHERE escalate_at IS NOT NULL AND escalated_at IS NULL"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("escalate_after_ms")
