"""Schedules as a resource: API routes, CLI commands and YAML documents of kind
`Schedule` follow from this description (see the slice's declaration). Overrides are not part
of the spec: they change daily and are managed through their own routes."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select

from watchbill.catalog.models import Team
from watchbill.catalog.resources import resolve_names
from watchbill.context import Ctx
from watchbill.errors import FieldError, Invalid
from watchbill.escalation.references import refuse_if_paged
from watchbill.resources.base import FilterModel, Resource
from watchbill.resources.schema import Name, ShortText
from watchbill.resources.service import text_match
from watchbill.schedules.compile import compile_schedule
from watchbill.schedules.models import Schedule
from watchbill.schedules.schemas import LayerSpec, ScheduleSpec
from watchbill.users.models import User


class ScheduleFilters(FilterModel):
    team: Name | None = None
    member: Name | None = None
    q: ShortText | None = None


def _members(ctx: Ctx, layers: list[LayerSpec]) -> list[User]:
    """The users the layers name, once each; Invalid naming every unknown one by place."""
    names = sorted({u for layer in layers for u in layer.users})
    rows = {u.name: u for u in ctx.session.scalars(select(User).where(User.name.in_(names)))}
    missing = [
        FieldError(f"layers.{i}.users.{j}", f"user {name!r} does not exist")
        for i, layer in enumerate(layers)
        for j, name in enumerate(layer.users)
        if name not in rows
    ]
    if missing:
        raise Invalid("unknown users", missing)
    return [rows[n] for n in names]


class ScheduleResource(Resource):
    kind = "Schedule"
    references = ("User", "Team")
    plural = "schedules"
    model = Schedule
    spec = ScheduleSpec
    filters = ScheduleFilters

    def to_spec(self, obj: Schedule) -> ScheduleSpec:
        return ScheduleSpec.model_validate(
            {
                "timeZone": obj.time_zone,
                "description": obj.description,
                "team": obj.team.name if obj.team else None,
                "layers": obj.layers,
            }
        )

    def write_spec(self, ctx: Ctx, obj: Schedule, spec: BaseModel) -> None:
        assert isinstance(spec, ScheduleSpec)
        compile_schedule(spec)  # the checks that need the zone, with the field named
        members = _members(ctx, spec.layers)
        team = None
        if spec.team:
            team = resolve_names(ctx, Team, [spec.team], "team", listed=False)[0]
        layers = [layer.model_dump(mode="json", by_alias=True) for layer in spec.layers]
        if layers != obj.layers or spec.time_zone != obj.time_zone:
            obj.revision = uuid.uuid4().hex
        obj.time_zone = spec.time_zone
        obj.description = spec.description
        obj.team = team
        obj.layers = layers
        obj.members = members

    def check_delete(self, ctx: Ctx, obj: Schedule) -> None:
        refuse_if_paged(ctx.session, "schedule", obj.name)

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, ScheduleFilters)
        if filters.team:
            stmt = stmt.where(Schedule.team.has(Team.name == filters.team))
        if filters.member:
            stmt = stmt.where(Schedule.members.any(User.name == filters.member))
        if filters.q:
            stmt = stmt.where(text_match(filters.q, Schedule.name, Schedule.description))
        return stmt


SCHEDULES = ScheduleResource()
