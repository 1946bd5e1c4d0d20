"""subscriptions.mention up to 255 characters: a user-group mention carries its handle ("<!subteam^S…|@handle>").

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:07:39.017974

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column(
            "mention", existing_type=sa.VARCHAR(length=64), type_=sa.String(length=255), existing_nullable=True
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column(
            "mention", existing_type=sa.String(length=255), type_=sa.VARCHAR(length=64), existing_nullable=True
        )
