"""Deliveries (one message to one contact method), their attempts, and SMS/voice providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, SENDING, SENT, FAILED, CANCELLED)
OPEN = (QUEUED, SENDING)


class Delivery(Base):
    """One notification to one contact method; `sending` is recorded before the message
    leaves and `sent` after, so a delivery that was sent is never sent again."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_incident", "incident_id", "id"),
        Index("ix_notification_deliveries_status", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a test notification.
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    user_name: Mapped[str] = mapped_column(String(63))
    contact_method: Mapped[str] = mapped_column(String(63))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(2048))
    urgency: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    response_code: Mapped[int | None] = mapped_column(default=None)
    send_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class DeliveryAttempt(Base):
    """One try at a delivery: when, and what the receiver answered."""

    __tablename__ = "notification_attempts"
    __table_args__ = (Index("ix_notification_attempts_delivery", "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("notification_deliveries.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    at: Mapped[datetime]
    ok: Mapped[bool]
    response_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(default=0)


class NotificationProvider(Base):
    """An admin-defined HTTP provider (SMS, voice, chat) reached through a template."""

    __tablename__ = "notification_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
