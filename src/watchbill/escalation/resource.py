"""Escalation policies as a resource: API routes, CLI commands and YAML documents of kind
`EscalationPolicy` follow from this description (see the slice's declaration)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select

from watchbill.catalog.models import Service
from watchbill.catalog.resources import resolve_names
from watchbill.context import Ctx
from watchbill.errors import Conflict, Invalid
from watchbill.escalation.models import EscalationPolicy
from watchbill.escalation.schemas import EscalationPolicySpec, LevelSpec
from watchbill.resources.base import FilterModel, Resource
from watchbill.resources.schema import ShortText
from watchbill.resources.service import text_match
from watchbill.routing.models import RoutingRule
from watchbill.schedules.models import Schedule
from watchbill.users.models import User


class EscalationPolicyFilters(FilterModel):
    q: ShortText | None = None


class EscalationPolicyResource(Resource):
    kind = "EscalationPolicy"
    references = ("User", "Schedule")
    plural = "escalation-policies"
    model = EscalationPolicy
    spec = EscalationPolicySpec
    filters = EscalationPolicyFilters

    def to_spec(self, obj: EscalationPolicy) -> EscalationPolicySpec:
        return EscalationPolicySpec(
            description=obj.description,
            levels=[LevelSpec.model_validate(level) for level in obj.levels],
            repeat=obj.repeat,
            ack_timeout_minutes=obj.ack_timeout_minutes,
        )

    def write_spec(self, ctx: Ctx, obj: EscalationPolicy, spec: BaseModel) -> None:
        assert isinstance(spec, EscalationPolicySpec)
        # Every target must exist now: a typo found at 2 a.m. pages nobody.
        missing = []
        for i, level in enumerate(spec.levels):
            for j, target in enumerate(level.targets):
                model = User if target.type == "user" else Schedule
                try:
                    resolve_names(
                        ctx, model, [target.name], f"levels.{i}.targets.{j}.name", listed=False
                    )
                except Invalid as exc:
                    missing.extend(exc.errors)
        if missing:
            raise Invalid("unknown targets", missing)
        obj.description = spec.description
        obj.levels = [level.model_dump(mode="json", by_alias=True) for level in spec.levels]
        obj.repeat = spec.repeat
        obj.ack_timeout_minutes = spec.ack_timeout_minutes

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, EscalationPolicyFilters)
        if filters.q:
            stmt = stmt.where(
                text_match(filters.q, EscalationPolicy.name, EscalationPolicy.description)
            )
        return stmt

    def check_delete(self, ctx: Ctx, obj: EscalationPolicy) -> None:
        services = ctx.session.scalars(
            select(Service.name).where(Service.escalation_policy == obj.name).order_by(Service.name)
        ).all()
        if services:
            raise Conflict(
                f"escalation policy {obj.name!r} is used by services: {', '.join(services)}"
            )
        rules = [
            r.name
            for r in ctx.session.execute(select(RoutingRule.name, RoutingRule.actions))
            if ((r.actions or {}).get("set") or {}).get("escalationPolicy") == obj.name
        ]
        if rules:
            names = ", ".join(sorted(rules))
            raise Conflict(f"escalation policy {obj.name!r} is set by routing rules: {names}")


ESCALATION_POLICIES = EscalationPolicyResource()
