"""The audit event table. Entries are sealed into a hash chain as they commit
(`audit/chain.py`); the migrations add triggers that refuse UPDATE, DELETE, TRUNCATE
and any insert that is not the next entry in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(63), index=True)
    object_type: Mapped[str] = mapped_column(String(63))
    object_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    # The chain: HMAC-SHA256 over the previous entry's hash and this entry, and the id
    # of the key it was sealed with ("" for none).
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
