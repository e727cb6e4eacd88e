"""What decides an alert's fate beyond its payload: routing rules (in order), silences
and maintenance windows. Read from the database when it changed (see ConfigCache), then
narrowed to what is active at each batch's time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from watchbill.alerts.models import ConfigVersion, MaintenanceWindow, Silence
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
    select(
        Silence.id,
        Silence.matchers,
        Silence.created_by,
        Silence.comment,
        Silence.starts_at,
        Silence.ends_at,
    )
    .where(Silence.ends_at > bindparam("now"))
    .order_by(Silence.id)
)
_MAINTENANCE = (
    select(
        MaintenanceWindow.id,
        MaintenanceWindow.service_id,
        MaintenanceWindow.description,
        MaintenanceWindow.starts_at,
        MaintenanceWindow.ends_at,
    )
    .where(MaintenanceWindow.ends_at > bindparam("now"))
    .order_by(MaintenanceWindow.id)
)
_VERSION = select(ConfigVersion.version).where(ConfigVersion.id == 1)


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


@dataclass
class RuleSet:
    """Rules, and the silences and maintenance windows not yet over, as loaded at one
    time: which of them apply is decided per batch by `active_at`, so a silence that
    starts or ends later needs no reload."""

    rules: list[Rule] = field(default_factory=list)
    service_ids: dict[str, int] = field(default_factory=dict)
    silences: list[tuple[int, tuple[Matcher, ...], str, str, datetime, datetime]] = field(
        default_factory=list
    )
    maintenance: list[tuple[int, int, str, datetime, datetime]] = field(default_factory=list)
    loaded_at: datetime | None = None

    def active_at(self, now: datetime) -> ActiveRules:
        active = ActiveRules(rules=self.rules, service_ids=self.service_ids)
        for silence_id, matchers, author, comment, starts, ends in self.silences:
            if starts <= now < ends:
                active.silences.append((silence_id, matchers, author, comment))
        for window_id, service_id, description, starts, ends in self.maintenance:
            if starts <= now < ends:
                active.maintenance.setdefault(service_id, (window_id, description))
        return active


def load_rule_set(conn: Connection, now: datetime) -> RuleSet:
    found = RuleSet(loaded_at=now)
    for r in conn.execute(_RULES):
        # Keyed by content, not by id and time: a rule edited twice in one clock tick, or
        # a new database reusing ids, must never get a stale compiled rule.
        key = (r.name, orjson.dumps([r.match, r.actions], option=orjson.OPT_SORT_KEYS))
        if key not in _compiled:
            _compiled[key] = compile_rule(r.name, r.match, r.actions)
        found.rules.append(_compiled[key])
    targets = {rule.actions.service for rule in found.rules if rule.actions.service}
    if targets:
        found.service_ids = dict(
            conn.execute(select(Service.name, Service.id).where(Service.name.in_(targets))).all()
        )
    for s in conn.execute(_SILENCES, {"now": now}):
        found.silences.append(
            (s.id, matchers_from_json(s.matchers), s.created_by, s.comment, s.starts_at, s.ends_at)
        )
    for m in conn.execute(_MAINTENANCE, {"now": now}):
        found.maintenance.append((m.id, m.service_id, m.description, m.starts_at, m.ends_at))
    return found


def load_active_rules(conn: Connection, now: datetime) -> ActiveRules:
    return load_rule_set(conn, now).active_at(now)


class ConfigCache:
    """What intake decides by, kept between batches while `config_version` stands still.

    Triggers bump the version on any change to services, integrations, rules, silences
    or maintenance windows, whoever makes it (this process, another server, the CLI), so
    a batch reads one row instead of the whole configuration. Read it inside the batch's
    transaction: what the batch decides by is then what was committed when it began.
    """

    def __init__(self) -> None:
        self.version: int | None = None
        self.rule_set: RuleSet | None = None
        self.services: dict[int, Any] = {}
        self.service_info: dict[int, tuple[str, str | None]] = {}
        self.keys: dict[str, Any] = {}

    def refresh(self, conn: Connection, now: datetime) -> None:
        """Forget everything when the version moved (or is missing: then cache nothing)."""
        version = conn.execute(_VERSION).scalar()
        if version is None or version != self.version:
            self.version = version
            self.rule_set = None
            self.services.clear()
            self.service_info.clear()
            self.keys.clear()

    def active_rules(self, conn: Connection, now: datetime) -> ActiveRules:
        rule_set = self.rule_set
        if rule_set is None or rule_set.loaded_at is None or now < rule_set.loaded_at:
            # Windows that ended before the load were left out: an earlier time needs them.
            rule_set = self.rule_set = load_rule_set(conn, now)
        return rule_set.active_at(now)
