"""Routing rules as stored: the match and the actions as JSON documents of their spec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base


class RoutingRule(Base):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    position: Mapped[int] = mapped_column(default=0, index=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    match: Mapped[dict[str, Any]]
    actions: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
