"""Alerts, silences, maintenance windows and change events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, ForeignKey, Index, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchbill.adapters.db.base import Base

FIRING = "firing"
RESOLVED = "resolved"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per (service, dedup key): what makes deduplication race-free.
        Index(
            "uq_alerts_open_dedup",
            "service_id",
            "dedup_key",
            unique=True,
            sqlite_where=text("status = 'firing'"),
            postgresql_where=text("status = 'firing'"),
        ),
        Index("ix_alerts_incident", "incident_id", "id"),
        Index("ix_alerts_status_id", "status", "id"),
        Index("ix_alerts_service_id", "service_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=FIRING)
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(255), default="")
    count: Mapped[int] = mapped_column(default=1)
    suppressed: Mapped[str] = mapped_column(String(500), default="")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    payload: Mapped[AlertPayload | None] = relationship(lazy="joined", viewonly=True)


class AlertPayload(Base):
    """What the sender sent with an alert, kept apart from the alert's narrow row.

    A storm is mostly repeats, and a repeat only counts and refreshes last-seen; SQLite
    and PostgreSQL both rewrite the whole row on an update, so keeping labels and raw
    payloads out of `alerts` makes each repeat about ten times cheaper to write.
    """

    __tablename__ = "alert_payloads"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    labels: Mapped[dict[str, Any]]
    details: Mapped[dict[str, Any]]
    links: Mapped[list[Any]]
    raw: Mapped[dict[str, Any]]


class ConfigVersion(Base):
    """One row whose number changes whenever something intake decides by changes:
    services, integrations, routing rules, silences, maintenance windows.

    Database triggers (migration 0003) bump it, so the intake writer may keep that
    configuration in memory and re-read it only when another request, process or the
    CLI changed it: one indexed read per batch instead of six queries.
    """

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


def is_open() -> ColumnElement[bool]:
    """`status = 'firing'` with the value written into the SQL, not bound: SQLite uses the
    partial unique index only when the query states its condition literally, and
    PostgreSQL's generic plans for prepared statements need the same to pick it."""
    return Alert.__table__.c.status == literal_column(f"'{FIRING}'")


class Silence(Base):
    """Alertmanager-style: label matchers, a start and an end, an author and a comment."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_window", "ends_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matchers: Mapped[list[Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_window", "ends_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ChangeEvent(Base):
    """A change (deploy, config push) reported through `/v2/change/enqueue`."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_service_time", "service_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
    links: Mapped[list[Any]]
    raw: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
