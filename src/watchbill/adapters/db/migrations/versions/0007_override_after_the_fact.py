"""overrides entered after the fact are marked

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As schedules.service.PAST_GRACE when this revision was written.
GRACE = timedelta(minutes=5)


def upgrade() -> None:
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("after_the_fact", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Overrides could start in the past before (if they ended in the future): mark those
    # that did, as a new one would be. Both datetimes come back alike (naive UTC on
    # SQLite, aware on PostgreSQL), so they compare directly.
    overrides = sa.table(
        "schedule_overrides",
        sa.column("id", sa.Integer()),
        sa.column("starts_at", sa.DateTime()),
        sa.column("created_at", sa.DateTime()),
        sa.column("after_the_fact", sa.Boolean()),
    )
    conn = op.get_bind()
    late = [
        ident
        for ident, starts, created in conn.execute(
            sa.select(overrides.c.id, overrides.c.starts_at, overrides.c.created_at)
        )
        if starts < created - GRACE
    ]
    for i in range(0, len(late), 500):
        conn.execute(
            sa.update(overrides)
            .where(overrides.c.id.in_(late[i : i + 500]))
            .values(after_the_fact=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.drop_column("after_the_fact")
