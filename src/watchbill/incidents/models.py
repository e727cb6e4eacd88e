"""Incidents, their timeline and their assignees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from watchbill.adapters.db.base import Base

incident_assignees = Table(
    "incident_assignees",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_open_group", "service_id", "group_key", "status"),
        Index("ix_incidents_service_id", "service_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str | None] = mapped_column(String(4), default=None)
    urgency: Mapped[str] = mapped_column(String(8))
    group_key: Mapped[str] = mapped_column(String(512))
    escalation_policy: Mapped[str | None] = mapped_column(String(63), default=None)
    # {"epoch": n, "policy": snapshot}: the policy as it was when the incident triggered
    # (watchbill.core.escalation.to_snapshot); the epoch counts (re)triggers, so a step
    # queued before an acknowledgement and a re-trigger is recognised as stale.
    escalation: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    suppressed: Mapped[str] = mapped_column(String(500), default="")
    auto_resolve: Mapped[bool] = mapped_column(default=True)
    alert_count: Mapped[int] = mapped_column(default=0)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class IncidentEvent(Base):
    """One line of an incident's timeline: alerts, status changes, notes, pages."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(4000))
    data: Mapped[dict[str, Any]]
