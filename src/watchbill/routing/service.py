"""Routing rules read in their order, and `route test`: what intake would do with an event.

The evaluation reads the same rules, silences and maintenance windows as intake does
(`load_active_rules`) and decides the same way as `alerts.ingest._route`, so the answer
of `route test` is what a real alert gets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from watchbill.alerts.rules import decide, load_active_rules
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.errors import FieldError, Invalid
from watchbill.incidents.severity import default_urgency, severity_from_alert
from watchbill.resources.service import decode_cursor, encode_cursor
from watchbill.routing.models import RoutingRule
from watchbill.routing.resource import ROUTING_RULES, RoutingRuleFilters
from watchbill.routing.schemas import RouteOutcome, RuleRef, RuleSet, SampleEvent


def list_in_order(
    ctx: Ctx, *, q: str | None = None, cursor: str | None = None, limit: int = 500
) -> tuple[list[RoutingRule], str | None]:
    """Rules in the order they are tried (order, then name); the cursor is the last key."""
    stmt = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.name).limit(limit + 1)
    if cursor:
        after = decode_cursor(cursor)
        if (
            not isinstance(after, list)
            or len(after) != 2
            or not isinstance(after[0], int)
            or not isinstance(after[1], str)
        ):
            raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")])
        position, name = after
        stmt = stmt.where(
            (RoutingRule.position > position)
            | ((RoutingRule.position == position) & (RoutingRule.name > name))
        )
    if q:
        stmt = ROUTING_RULES.filter(stmt, RoutingRuleFilters(q=q))
    rows = list(ctx.session.scalars(stmt))
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], encode_cursor([last.position, last.name])  # type: ignore[arg-type]
    return rows, None


def _service(ctx: Ctx, where: Any) -> Any:
    return ctx.session.execute(
        select(Service.id, Service.name, Service.escalation_policy).where(where)
    ).first()


def route_test(ctx: Ctx, event: SampleEvent) -> RouteOutcome:
    """The rule that would match first, what it sets, and whether anyone would be paged."""
    at: datetime = event.at or ctx.now()
    origin = _service(ctx, Service.name == event.service)
    if origin is None:
        raise Invalid(
            "unknown service", [FieldError("service", f"{event.service!r} does not exist")]
        )
    active = load_active_rules(ctx.session.connection(), at)
    services = {
        r.id: (r.name, r.escalation_policy)
        for r in ctx.session.execute(
            select(Service.id, Service.name, Service.escalation_policy).where(
                Service.id.in_([origin.id, *active.service_ids.values()])
            )
        )
    }
    decision = decide(active, services, origin.id, event.severity, event.labels, event.summary)
    rule = decision.rule
    ref = None
    if rule is not None:
        row = ctx.session.scalar(select(RoutingRule).where(RoutingRule.name == rule.name))
        ref = RuleRef(
            name=rule.name,
            order=row.position if row is not None else 0,
            description=row.description if row is not None else "",
        )
    sets = RuleSet.model_validate(
        {
            "service": rule.actions.service if rule else None,
            "severity": decision.severity,
            "priority": decision.priority,
            "urgency": decision.urgency,
            "escalationPolicy": rule.actions.escalation_policy if rule else None,
        }
    )
    suppressed = decision.suppressed
    target_name = services[decision.service_id][0]
    policy = decision.escalation_policy
    return RouteOutcome(
        event=event,
        at=at,
        rule=ref,
        sets=sets,
        rule_suppresses=bool(rule is not None and rule.actions.suppress),
        service=target_name,
        severity=sets.severity or severity_from_alert(event.severity),  # type: ignore[arg-type]
        priority=sets.priority,
        urgency=sets.urgency or default_urgency(event.severity),  # type: ignore[arg-type]
        escalation_policy=policy,
        suppressed=suppressed,
        pages=not suppressed,
    )


def describe(outcome: RouteOutcome) -> list[str]:
    """`route test` as lines for a person."""
    ev = outcome.event
    labels = ", ".join(f"{k}={v}" for k, v in sorted(ev.labels.items())) or "none"
    lines = [
        f"event:    service={ev.service} severity={ev.severity} labels: {labels}",
        f"          summary: {ev.summary!r}",
        f"at:       {outcome.at.isoformat()}",
    ]
    if outcome.rule is None:
        lines.append("rule:     none matches; the service's defaults apply")
    else:
        lines.append(f"rule:     {outcome.rule.name} (order {outcome.rule.order}) matches first")
        sets = outcome.sets.model_dump(by_alias=True, exclude_none=True)
        shown = ", ".join(f"{k}={v}" for k, v in sets.items())
        if outcome.rule_suppresses:
            shown = f"{shown}, suppress" if shown else "suppress"
        lines.append(f"sets:     {shown or 'nothing (stops the search)'}")
    lines.append(
        f"incident: on {outcome.service}, {outcome.severity}"
        f"{' ' + outcome.priority if outcome.priority else ''}, {outcome.urgency} urgency, "
        f"escalation policy {outcome.escalation_policy or '(none)'}"
    )
    if outcome.suppressed:
        lines.append(f"pages:    nobody; {outcome.suppressed}")
    else:
        lines.append("pages:    yes")
    return lines


def outcome_json(outcome: RouteOutcome) -> dict[str, Any]:
    return outcome.model_dump(mode="json", by_alias=True)
