"""Teams, services (with tiers and dependencies) and status-page components."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from watchbill.adapters.db.base import Base
from watchbill.integrations.models import Integration
from watchbill.users.models import User

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

service_dependencies = Table(
    "service_dependencies",
    Base.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "depends_on_id",
        ForeignKey("services.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(4000), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    members: Mapped[list[User]] = relationship(secondary=team_members, order_by=User.name)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(4000), default="")
    owner_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="RESTRICT"), index=True
    )
    tier: Mapped[int] = mapped_column(default=3)
    revenue_per_hour: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    runbook_url: Mapped[str] = mapped_column(String(2048), default="")
    auto_resolve: Mapped[bool] = mapped_column(default=True)
    group_by: Mapped[list[str]] = mapped_column(default=list)
    group_window_seconds: Mapped[int | None] = mapped_column(default=None)
    escalation_policy: Mapped[str | None] = mapped_column(String(63), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    owner_team: Mapped[Team | None] = relationship()
    dependencies: Mapped[list[Service]] = relationship(
        secondary=service_dependencies,
        primaryjoin=lambda: Service.id == service_dependencies.c.service_id,
        secondaryjoin=lambda: Service.id == service_dependencies.c.depends_on_id,
        order_by=lambda: Service.name,
    )
    integrations: Mapped[list[Integration]] = relationship(
        order_by=Integration.name, cascade="all, delete-orphan", passive_deletes=True
    )


class Component(Base):
    """A status-page component: what customers see, backed by zero or more services."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(4000), default="")
    group_name: Mapped[str] = mapped_column(String(200), default="")
    public: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    services: Mapped[list[Service]] = relationship(
        secondary=lambda: component_services, order_by=lambda: Service.name
    )


component_services = Table(
    "component_services",
    Base.metadata,
    Column("component_id", ForeignKey("components.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)
