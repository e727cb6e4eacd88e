"""An integration: a named, typed intake endpoint of one service with its routing key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base

EVENTS_V2 = "events-v2"
ALERTMANAGER = "alertmanager"
GENERIC = "generic"
HEARTBEAT = "heartbeat"
TYPES = (EVENTS_V2, ALERTMANAGER, GENERIC, HEARTBEAT)


class Integration(Base):
    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    heartbeat_seconds: Mapped[int | None] = mapped_column(default=None)
    last_event_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
