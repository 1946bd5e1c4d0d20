"""instances_seen.run_start: the run a seen status belongs to, so a rerun that fails again is noticed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("instances_seen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_start", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("instances_seen", schema=None) as batch_op:
        batch_op.drop_column("run_start")
