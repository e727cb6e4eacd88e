"""What decides an alert's fate beyond its payload, read once per ingest batch: routing
rules (in order), active silences, and active maintenance windows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from watchbill.alerts.models import MaintenanceWindow, Silence
from watchbill.catalog.models import Service
from watchbill.core.matchers import Matcher, all_match, parse_matcher
from watchbill.core.routing import Rule, RuleActions, first_match
from watchbill.routing.models import RoutingRule

_compiled: dict[tuple[str, bytes], Rule] = {}
_RULES = select(
    RoutingRule.id,
    RoutingRule.name,
    RoutingRule.match,
    RoutingRule.actions,
    RoutingRule.updated_at,
).order_by(RoutingRule.position, RoutingRule.name)
_SILENCES = (
    select(Silence.id, Silence.matchers, Silence.created_by, Silence.comment)
    .where(Silence.starts_at <= bindparam("now"), Silence.ends_at > bindparam("now"))
    .order_by(Silence.id)
)
_MAINTENANCE = select(
    MaintenanceWindow.id, MaintenanceWindow.service_id, MaintenanceWindow.description
).where(
    MaintenanceWindow.starts_at <= bindparam("now"), MaintenanceWindow.ends_at > bindparam("now")
)


def matchers_from_json(items: list[dict[str, Any]]) -> tuple[Matcher, ...]:
    """Silence matchers as Alertmanager's API writes them: name, value, isRegex, isEqual."""
    return tuple(
        Matcher(
            name=m["name"],
            value=m["value"],
            is_regex=bool(m.get("isRegex", False)),
            is_equal=bool(m.get("isEqual", True)),
        )
        for m in items
    )


def compile_rule(name: str, match: dict[str, Any], actions: dict[str, Any]) -> Rule:
    """A stored rule as the pure core's Rule (see routing.schemas for the spec)."""
    text = match.get("text") or None
    acts = actions.get("set") or {}
    return Rule(
        name=name,
        services=tuple(match.get("services") or ()),
        severities=tuple(match.get("severities") or ()),
        matchers=tuple(parse_matcher(m) for m in match.get("labels") or ()),
        text=re.compile(text, re.IGNORECASE) if text else None,
        actions=RuleActions(
            service=acts.get("service"),
            severity=acts.get("severity"),
            priority=acts.get("priority"),
            urgency=acts.get("urgency"),
            escalation_policy=acts.get("escalationPolicy"),
            suppress=bool(actions.get("suppress", False)),
        ),
    )


@dataclass
class ActiveRules:
    rules: list[Rule] = field(default_factory=list)
    service_ids: dict[str, int] = field(default_factory=dict)
    silences: list[tuple[int, tuple[Matcher, ...], str, str]] = field(default_factory=list)
    maintenance: dict[int, tuple[int, str]] = field(default_factory=dict)

    def first_match(
        self, service: str, severity: str, labels: Mapping[str, str], text: str
    ) -> Rule | None:
        if not self.rules:
            return None
        return first_match(self.rules, service=service, severity=severity, labels=labels, text=text)

    def suppression(self, service_id: int, labels: Mapping[str, str]) -> str:
        """Why nobody should be paged for an alert with these labels, or "" to page."""
        window = self.maintenance.get(service_id)
        if window is not None:
            return f"maintenance window #{window[0]}: {window[1]}".rstrip(": ")
        for silence_id, matchers, author, comment in self.silences:
            if all_match(matchers, labels):
                return f"silence #{silence_id} by {author}: {comment}"
        return ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What routing decided for one alert: where it goes, how it is classed, and why
    nobody is paged ("" when someone is)."""

    rule: Rule | None
    service_id: int
    severity: str | None
    priority: str | None
    urgency: str | None
    escalation_policy: str | None
    suppressed: str


def decide(
    active: ActiveRules,
    services: Mapping[int, tuple[str, str | None]],
    service_id: int,
    severity: str,
    labels: Mapping[str, str],
    summary: str,
) -> Decision:
    """Apply the first matching rule, then silences and maintenance, to one alert.

    `services` maps id -> (name, escalation policy) for the alert's service and every
    rule's reroute target (see ActiveRules.service_ids).
    """
    name, policy = services[service_id]
    rule = active.first_match(name, severity, {**labels, "service": name}, summary)
    target, acts, suppressed = service_id, None, ""
    if rule is not None:
        acts = rule.actions
        rerouted = active.service_ids.get(acts.service or "")
        if rerouted is not None and rerouted in services:
            target = rerouted
            policy = services[rerouted][1]
        policy = acts.escalation_policy or policy
        if acts.suppress:
            suppressed = f"suppressed by routing rule {rule.name!r}"
    if not suppressed:
        suppressed = active.suppression(target, {**labels, "service": services[target][0]})
    return Decision(
        rule=rule,
        service_id=target,
        severity=acts.severity if acts else None,
        priority=acts.priority if acts else None,
        urgency=acts.urgency if acts else None,
        escalation_policy=policy,
        suppressed=suppressed,
    )


def load_active_rules(conn: Connection, now: datetime) -> ActiveRules:
    active = ActiveRules()
    for r in conn.execute(_RULES):
        # Keyed by content, not by id and time: a rule edited twice in one clock tick, or
        # a new database reusing ids, must never get a stale compiled rule.
        key = (r.name, orjson.dumps([r.match, r.actions], option=orjson.OPT_SORT_KEYS))
        if key not in _compiled:
            _compiled[key] = compile_rule(r.name, r.match, r.actions)
        active.rules.append(_compiled[key])
    targets = {rule.actions.service for rule in active.rules if rule.actions.service}
    if targets:
        active.service_ids = dict(
            conn.execute(select(Service.name, Service.id).where(Service.name.in_(targets))).all()
        )
    for s in conn.execute(_SILENCES, {"now": now}):
        active.silences.append((s.id, matchers_from_json(s.matchers), s.created_by, s.comment))
    for m in conn.execute(_MAINTENANCE, {"now": now}):
        active.maintenance[m.service_id] = (m.id, m.description)
    return active
