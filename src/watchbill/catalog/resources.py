"""Teams, services and components as catalog resources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select

from watchbill.catalog.models import Component, Service, Team
from watchbill.catalog.schemas import (
    ComponentSpec,
    GroupingSpec,
    IntegrationSpec,
    ServiceSpec,
    TeamSpec,
)
from watchbill.context import Ctx
from watchbill.errors import Conflict, FieldError, Invalid
from watchbill.escalation.models import EscalationPolicy
from watchbill.integrations import service as integrations
from watchbill.resources.base import FilterModel, Resource
from watchbill.resources.schema import Name, ShortText
from watchbill.resources.service import text_match
from watchbill.schedules.models import Schedule
from watchbill.users.models import User


def resolve_names(
    ctx: Ctx, model: type[Any], names: list[str], loc: str, *, listed: bool = True
) -> list[Any]:
    """Rows for `names`, in order; Invalid naming each missing one at `loc` (`loc.i` in lists)."""
    if not names:
        return []
    rows = {r.name: r for r in ctx.session.scalars(select(model).where(model.name.in_(names)))}
    missing = [
        FieldError(f"{loc}.{i}" if listed else loc, f"{n!r} does not exist")
        for i, n in enumerate(names)
        if n not in rows
    ]
    if missing:
        raise Invalid("unknown references", missing)
    return [rows[n] for n in names]


class TeamFilters(FilterModel):
    member: Name | None = None
    q: ShortText | None = None


class TeamResource(Resource):
    kind = "Team"
    references = ("User",)
    plural = "teams"
    model = Team
    spec = TeamSpec
    filters = TeamFilters

    def to_spec(self, obj: Team) -> TeamSpec:
        return TeamSpec(
            display_name=obj.display_name,
            description=obj.description,
            members=sorted(u.name for u in obj.members),
        )

    def write_spec(self, ctx: Ctx, obj: Team, spec: BaseModel) -> None:
        assert isinstance(spec, TeamSpec)
        obj.display_name = spec.display_name
        obj.description = spec.description
        obj.members = resolve_names(ctx, User, spec.members, "members")

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, TeamFilters)
        if filters.member:
            stmt = stmt.where(Team.members.any(User.name == filters.member))
        if filters.q:
            stmt = stmt.where(_text_match(Team, filters.q))
        return stmt

    def check_delete(self, ctx: Ctx, obj: Team) -> None:
        owned = ctx.session.scalars(
            select(Service.name).where(Service.owner_team_id == obj.id).order_by(Service.name)
        ).all()
        if owned:
            raise Conflict(f"team {obj.name!r} still owns services: {', '.join(owned)}")
        schedules = ctx.session.scalars(
            select(Schedule.name).where(Schedule.team_id == obj.id).order_by(Schedule.name)
        ).all()
        if schedules:
            raise Conflict(f"team {obj.name!r} still owns schedules: {', '.join(schedules)}")


class ServiceFilters(FilterModel):
    team: Name | None = None
    tier: int | None = None
    q: ShortText | None = None


class ServiceResource(Resource):
    kind = "Service"
    references = ("Team", "EscalationPolicy")
    plural = "services"
    model = Service
    spec = ServiceSpec
    filters = ServiceFilters
    self_referencing = True

    def to_spec(self, obj: Service) -> ServiceSpec:
        return ServiceSpec(
            display_name=obj.display_name,
            description=obj.description,
            owner_team=obj.owner_team.name if obj.owner_team else None,
            tier=obj.tier,
            depends_on=sorted(s.name for s in obj.dependencies),
            revenue_per_hour=obj.revenue_per_hour,
            runbook_url=obj.runbook_url,
            auto_resolve=obj.auto_resolve,
            grouping=GroupingSpec(
                by=list(obj.group_by or []), window_seconds=obj.group_window_seconds
            ),
            escalation_policy=obj.escalation_policy,
            integrations=[
                IntegrationSpec(
                    name=i.name,
                    type=i.type,  # type: ignore[arg-type]
                    key=i.key,
                    interval_seconds=i.heartbeat_seconds,
                )
                for i in obj.integrations
            ],
        )

    def write_spec(self, ctx: Ctx, obj: Service, spec: BaseModel) -> None:
        assert isinstance(spec, ServiceSpec)
        if obj.name in spec.depends_on:
            raise Invalid(
                "a service cannot depend on itself",
                [FieldError("dependsOn", f"lists {obj.name!r} itself")],
            )
        team = None
        if spec.owner_team:
            team = resolve_names(ctx, Team, [spec.owner_team], "ownerTeam", listed=False)[0]
        obj.display_name = spec.display_name
        obj.description = spec.description
        obj.owner_team = team
        obj.tier = spec.tier
        obj.revenue_per_hour = spec.revenue_per_hour
        obj.runbook_url = spec.runbook_url
        obj.dependencies = resolve_names(ctx, Service, spec.depends_on, "dependsOn")
        obj.auto_resolve = spec.auto_resolve
        obj.group_by = list(spec.grouping.by)
        obj.group_window_seconds = spec.grouping.window_seconds
        if spec.escalation_policy is not None:
            resolve_names(
                ctx, EscalationPolicy, [spec.escalation_policy], "escalationPolicy", listed=False
            )
        obj.escalation_policy = spec.escalation_policy
        integrations.sync(ctx, obj, spec.integrations)

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, ServiceFilters)
        if filters.team:
            stmt = stmt.where(Service.owner_team.has(Team.name == filters.team))
        if filters.tier is not None:
            stmt = stmt.where(Service.tier == filters.tier)
        if filters.q:
            stmt = stmt.where(_text_match(Service, filters.q))
        return stmt

    def check_delete(self, ctx: Ctx, obj: Service) -> None:
        dependents = ctx.session.scalars(
            select(Service.name).where(Service.dependencies.any(Service.id == obj.id))
        ).all()
        if dependents:
            raise Conflict(f"services depend on {obj.name!r}: {', '.join(sorted(dependents))}")


class ComponentFilters(FilterModel):
    public: bool | None = None
    q: ShortText | None = None


class ComponentResource(Resource):
    kind = "Component"
    references = ("Service",)
    plural = "components"
    model = Component
    spec = ComponentSpec
    filters = ComponentFilters

    def to_spec(self, obj: Component) -> ComponentSpec:
        return ComponentSpec(
            display_name=obj.display_name,
            description=obj.description,
            group=obj.group_name,
            public=obj.public,
            position=obj.position,
            services=sorted(s.name for s in obj.services),
        )

    def write_spec(self, ctx: Ctx, obj: Component, spec: BaseModel) -> None:
        assert isinstance(spec, ComponentSpec)
        obj.display_name = spec.display_name
        obj.description = spec.description
        obj.group_name = spec.group
        obj.public = spec.public
        obj.position = spec.position
        obj.services = resolve_names(ctx, Service, spec.services, "services")

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, ComponentFilters)
        if filters.public is not None:
            stmt = stmt.where(Component.public == filters.public)
        if filters.q:
            stmt = stmt.where(_text_match(Component, filters.q))
        return stmt


def _text_match(model: Any, q: str) -> Any:
    return text_match(q, model.name, model.display_name)


TEAMS = TeamResource()
SERVICES = ServiceResource()
COMPONENTS = ComponentResource()
