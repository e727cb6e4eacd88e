"""The RoutingRule spec (API and YAML), and the sample event `route test` evaluates.

The stored form is what `watchbill.alerts.rules.compile_rule` reads: the `match` block
as is, and `{"set": {...}, "suppress": bool}` as the actions.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, field_validator

from watchbill.core.matchers import MatcherError, parse_matcher
from watchbill.intake.events import MAX_LABEL_NAME, MAX_LABEL_VALUE, MAX_SUMMARY
from watchbill.resources.schema import CamelModel, Name, Text

AlertSeverity = Literal["critical", "error", "warning", "info"]
IncidentSeverity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
Priority = Literal["P1", "P2", "P3", "P4", "P5"]
Urgency = Literal["high", "low"]
MAX_REGEX = 1024


def _label_matcher(value: str) -> str:
    """A label matcher string, parsed (and its regex compiled) as the router will."""
    try:
        parse_matcher(value)
    except MatcherError as exc:
        raise ValueError(str(exc)) from exc
    return value.strip()


def _regex(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regex: {exc}") from exc
    return value


LabelMatcher = Annotated[
    str, StringConstraints(min_length=3, max_length=MAX_REGEX + 300), AfterValidator(_label_matcher)
]
Regex = Annotated[str, StringConstraints(max_length=MAX_REGEX), AfterValidator(_regex)]


def _unique(values: list[Any]) -> list[Any]:
    dupes = sorted(str(v) for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"listed more than once: {', '.join(dupes)}")
    return values


class RuleMatch(CamelModel):
    """Conditions that must all hold; an empty block matches every alert."""

    services: list[Name] = Field(
        default_factory=list, max_length=200, description="the service the alert came in on"
    )
    severities: list[AlertSeverity] = Field(
        default_factory=list, max_length=4, description="the alert's own severity"
    )
    labels: list[LabelMatcher] = Field(
        default_factory=list,
        max_length=50,
        description='Alertmanager-style matchers: team="db", alertname=~"Disk.*", env!="dev"',
    )
    text: Regex = Field(
        default="", description="regex searched case-insensitively in the alert's summary"
    )

    _unique_services = field_validator("services")(_unique)
    _unique_severities = field_validator("severities")(_unique)


class RuleSet(CamelModel):
    """What a matching rule sets on the alert's incident; unset fields keep their defaults."""

    service: Name | None = Field(default=None, description="reroute to this service")
    severity: IncidentSeverity | None = None
    priority: Priority | None = None
    urgency: Urgency | None = None
    escalation_policy: Name | None = None


class RoutingRuleSpec(CamelModel):
    """A routing rule: rules are tried by `order` (then name); the first that matches wins."""

    order: int = Field(default=0, ge=0, le=1_000_000, description="lower is tried first")
    description: Text = ""
    match: RuleMatch = Field(default_factory=RuleMatch)
    set: RuleSet = Field(default_factory=RuleSet)
    suppress: bool = Field(
        default=False, description="record the alert and open the incident, but page nobody"
    )


# ----------------------------------------------------------------- route test


class SampleEvent(CamelModel):
    """An alert as it would arrive, for `route test` and POST /api/v1/routing-rules/test."""

    service: Name = Field(description="the service whose integration receives the alert")
    severity: AlertSeverity = "warning"
    summary: Annotated[str, StringConstraints(max_length=MAX_SUMMARY)] = ""
    labels: dict[
        Annotated[str, StringConstraints(max_length=MAX_LABEL_NAME)],
        Annotated[str, StringConstraints(max_length=MAX_LABEL_VALUE)],
    ] = Field(default_factory=dict, max_length=256)
    at: AwareDatetime | None = Field(
        default=None, description="evaluate silences and maintenance windows at this instant"
    )


class RuleRef(CamelModel):
    name: str
    order: int
    description: str


class RouteOutcome(CamelModel):
    """What intake would do with the sample event."""

    event: SampleEvent
    at: datetime
    rule: RuleRef | None = Field(description="the first matching rule, or null")
    sets: RuleSet = Field(description="what the matching rule sets")
    rule_suppresses: bool
    service: str = Field(description="the service the incident opens on")
    severity: IncidentSeverity
    priority: Priority | None
    urgency: Urgency
    escalation_policy: str | None
    suppressed: str = Field(description="why nobody is paged, or empty")
    pages: bool = Field(description="whether an incident.triggered job would be queued")
