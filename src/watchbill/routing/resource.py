"""Routing rules as a resource: API routes, CLI commands and YAML documents of kind
`RoutingRule` follow from this description (see the slice's declaration)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select

from watchbill.catalog.models import Service
from watchbill.catalog.resources import resolve_names
from watchbill.context import Ctx
from watchbill.escalation.models import EscalationPolicy
from watchbill.resources.base import FilterModel, Resource
from watchbill.resources.schema import ShortText
from watchbill.resources.service import text_match
from watchbill.routing.models import RoutingRule
from watchbill.routing.schemas import RoutingRuleSpec, RuleMatch, RuleSet


class RoutingRuleFilters(FilterModel):
    q: ShortText | None = None


def stored_match(match: RuleMatch) -> dict[str, Any]:
    """The match block as `compile_rule` reads it."""
    return {
        "services": list(match.services),
        "severities": list(match.severities),
        "labels": list(match.labels),
        "text": match.text,
    }


def stored_actions(spec: RoutingRuleSpec) -> dict[str, Any]:
    """`{"set": {...only what is set...}, "suppress": bool}`, as `compile_rule` reads it."""
    return {
        "set": spec.set.model_dump(mode="json", by_alias=True, exclude_none=True),
        "suppress": spec.suppress,
    }


class RoutingRuleResource(Resource):
    kind = "RoutingRule"
    references = ("Service", "EscalationPolicy")
    plural = "routing-rules"
    model = RoutingRule
    spec = RoutingRuleSpec
    filters = RoutingRuleFilters

    def to_spec(self, obj: RoutingRule) -> RoutingRuleSpec:
        match = obj.match or {}
        actions = obj.actions or {}
        return RoutingRuleSpec(
            order=obj.position,
            description=obj.description,
            match=RuleMatch.model_validate(
                {
                    "services": match.get("services") or [],
                    "severities": match.get("severities") or [],
                    "labels": match.get("labels") or [],
                    "text": match.get("text") or "",
                }
            ),
            set=RuleSet.model_validate(actions.get("set") or {}),
            suppress=bool(actions.get("suppress", False)),
        )

    def write_spec(self, ctx: Ctx, obj: RoutingRule, spec: BaseModel) -> None:
        assert isinstance(spec, RoutingRuleSpec)
        # References are checked so that a typo is an error, not a rule that never fires.
        resolve_names(ctx, Service, spec.match.services, "match.services")
        if spec.set.service:
            resolve_names(ctx, Service, [spec.set.service], "set.service", listed=False)
        if spec.set.escalation_policy:
            resolve_names(
                ctx,
                EscalationPolicy,
                [spec.set.escalation_policy],
                "set.escalationPolicy",
                listed=False,
            )
        obj.position = spec.order
        obj.description = spec.description
        obj.match = stored_match(spec.match)
        obj.actions = stored_actions(spec)

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, RoutingRuleFilters)
        if filters.q:
            stmt = stmt.where(text_match(filters.q, RoutingRule.name, RoutingRule.description))
        return stmt


ROUTING_RULES = RoutingRuleResource()
