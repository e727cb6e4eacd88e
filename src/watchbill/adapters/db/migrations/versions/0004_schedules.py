"""schedules: layers, members, overrides and calendar feeds

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 07:57:30.691872
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import watchbill.adapters.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column(
            "layers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("revision", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_schedules_team_id_teams"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedules_team_id"), ["team_id"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "(schedule_id IS NULL) <> (user_id IS NULL)", name=op.f("ck_calendar_feeds_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_calendar_feeds_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("schedule_id", name=op.f("uq_calendar_feeds_schedule_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
        sa.UniqueConstraint("user_id", name=op.f("uq_calendar_feeds_user_id")),
    )
    op.create_table(
        "schedule_members",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_members_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_schedule_members_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "user_id", name=op.f("pk_schedule_members")),
    )
    with op.batch_alter_table("schedule_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "schedule_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "starts_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("ends_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", watchbill.adapters.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_schedule_overrides_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_overrides_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_schedule_overrides_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_overrides")),
    )
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_overrides_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            "ix_schedule_overrides_window", ["schedule_id", "ends_at"], unique=False
        )
        batch_op.create_index("ix_schedule_overrides_ends_at", ["ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_overrides_ends_at")
        batch_op.drop_index("ix_schedule_overrides_window")
        batch_op.drop_index(batch_op.f("ix_schedule_overrides_user_id"))

    op.drop_table("schedule_overrides")
    with op.batch_alter_table("schedule_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_members_user_id"))

    op.drop_table("schedule_members")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_team_id"))

    op.drop_table("schedules")
