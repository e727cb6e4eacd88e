"""escalation policies; the policy snapshot on incidents

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import watchbill.adapters.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("levels", _json(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("ack_timeout_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_escalation_policies_name")),
    )
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.add_column(sa.Column("escalation", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_column("escalation")
    op.drop_table("escalation_policies")
