"""Schedules as stored: the spec's layers as one JSON document, an index of the people
they name (so a user on a schedule cannot vanish from under it), overrides, and the
hashed secrets of calendar feeds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchbill.adapters.db.base import Base
from watchbill.catalog.models import Team
from watchbill.users.models import User

schedule_members = Table(
    "schedule_members",
    Base.metadata,
    Column("schedule_id", ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(String(4000), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="RESTRICT"), index=True, default=None
    )
    layers: Mapped[list[Any]] = mapped_column(default=list)
    # A fresh random token whenever the layers or the zone change: the key of the
    # parsed-schedule cache, exact even when two changes share a timestamp or a deleted
    # schedule's id is reused.
    revision: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    team: Mapped[Team | None] = relationship()
    members: Mapped[list[User]] = relationship(secondary=schedule_members, order_by=User.name)


class ScheduleOverride(Base):
    """Someone takes the schedule from `starts_at` to `ends_at`, over every layer.
    `after_the_fact` marks one entered once its time had begun: a past swap written down
    later by an admin, kept apart so that on-call hours built on it can be told apart."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_schedule_overrides_window", "schedule_id", "ends_at"),
        Index("ix_schedule_overrides_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    after_the_fact: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class CalendarFeed(Base):
    """The secret of an iCalendar feed URL, for one schedule or one person; only its
    SHA-256 is kept, so a feed URL is shown once and can only be replaced (rotated)."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("(schedule_id IS NULL) <> (user_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), unique=True, default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, default=None
    )
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]

    schedule: Mapped[Schedule | None] = relationship()
    user: Mapped[User | None] = relationship()
