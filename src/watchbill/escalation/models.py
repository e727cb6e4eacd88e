"""Escalation policies as stored: the levels as a JSON document of their spec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(String(4000), default="")
    levels: Mapped[list[Any]]
    repeat: Mapped[int] = mapped_column(default=0)
    ack_timeout_minutes: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
