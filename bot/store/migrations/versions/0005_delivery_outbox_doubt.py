"""Outbox: since when a row is in doubt, and since when it has been failing (what /healthz and /metrics report).

- outbox.in_doubt_since: set when an attempt's outcome became unknown (a timeout, a 5xx, a reset connection, a crash
  mid-send) and cleared once the channel's history says whether it was posted; while set, the row is never posted.
- outbox.failing_since: set at the row's first failed attempt, cleared when it is sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_doubt_since", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("failing_since", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
        batch_op.drop_column("in_doubt_since")
