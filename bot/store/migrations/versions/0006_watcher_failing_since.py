"""watcher_state.failing_since: when the current streak of failed poll cycles began (NULL while cycles succeed);
an index on subscriptions (profile, target).

`/healthz` tells a profile whose cycles are attempted and fail (unhealthy once the stale limit has passed since the
first failed attempt, start-up grace or not) from one that has not been polled yet (another replica holds the lease,
the first cycle is still running): `last_error_at` is the latest failure, so it cannot say since when.

A poll cycle reads the exact watches of the jobs it listed (plus every glob and follow) instead of every
subscription: with 10,000 of them, loading them all was most of a quiet cycle's time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("watcher_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_profile_target"), ["profile", "target"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_profile_target"))

    with op.batch_alter_table("watcher_state", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
