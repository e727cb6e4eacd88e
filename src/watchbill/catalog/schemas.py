"""Specs of teams, services and status-page components, shared by the API and YAML."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_serializer, field_validator, model_validator

from watchbill.resources.schema import CamelModel, HttpUrl, Name, ShortText, Text


def _unique(values: list[str]) -> list[str]:
    dupes = sorted(v for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"listed more than once: {', '.join(dupes)}")
    return values


class TeamSpec(CamelModel):
    display_name: ShortText = ""
    description: Text = ""
    members: list[Name] = Field(default_factory=list, max_length=1000)

    _members_unique = field_validator("members")(_unique)


IntegrationKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


class IntegrationSpec(CamelModel):
    """How a monitoring tool reaches the service; the key is generated when not given,
    and may be given so a team moving from PagerDuty keeps its routing keys."""

    name: Name
    type: Literal["events-v2", "alertmanager", "generic", "heartbeat"]
    key: IntegrationKey | None = None
    interval_seconds: int | None = Field(
        default=None,
        ge=10,
        le=7 * 86400,
        description="heartbeats: alert when no ping for this long",
    )

    @model_validator(mode="after")
    def _heartbeat_interval(self) -> IntegrationSpec:
        if self.type == "heartbeat" and self.interval_seconds is None:
            raise ValueError("a heartbeat integration needs intervalSeconds")
        if self.type != "heartbeat" and self.interval_seconds is not None:
            raise ValueError("intervalSeconds is only for heartbeat integrations")
        return self


LabelName = Annotated[str, StringConstraints(pattern=r"^([a-zA-Z_][a-zA-Z0-9_]*|\.\.\.)$")]


class GroupingSpec(CamelModel):
    """Alerts of the service whose `by` labels are equal join one open incident (`...`:
    all alerts together; empty: every alert its own incident), for `windowSeconds` after
    the incident opened (unset: for as long as it is open)."""

    by: list[LabelName] = Field(default_factory=list, max_length=20)
    window_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)


class ServiceSpec(CamelModel):
    display_name: ShortText = ""
    description: Text = ""
    owner_team: Name | None = None
    tier: int = Field(default=3, ge=1, le=4, description="1 = most critical")
    depends_on: list[Name] = Field(default_factory=list, max_length=200)
    revenue_per_hour: Decimal = Field(
        default=Decimal("0"),
        ge=0,
        le=Decimal("999999999999"),
        decimal_places=2,
        description="revenue at risk per hour of full outage, in the organisation's currency",
    )
    runbook_url: HttpUrl = ""
    auto_resolve: bool = Field(
        default=True, description="resolve an incident when all of its alerts resolve"
    )
    grouping: GroupingSpec = Field(default_factory=GroupingSpec)
    escalation_policy: Name | None = Field(
        default=None, description="the escalation policy that pages for this service's incidents"
    )
    integrations: list[IntegrationSpec] = Field(default_factory=list, max_length=50)

    _depends_unique = field_validator("depends_on")(_unique)

    @field_validator("integrations")
    @classmethod
    def _integration_names_unique(cls, value: list[IntegrationSpec]) -> list[IntegrationSpec]:
        _unique([i.name for i in value])
        _unique([i.key for i in value if i.key])
        return value

    @field_serializer("revenue_per_hour", when_used="json")
    def _money_as_number(self, value: Decimal) -> int | float:
        """A number in JSON and YAML (not a quoted string); cents survive the round trip."""
        return int(value) if value == value.to_integral_value() else float(value)


class ComponentSpec(CamelModel):
    display_name: ShortText = ""
    description: Text = ""
    group: ShortText = ""
    public: bool = True
    position: int = Field(default=0, ge=0, le=100_000)
    services: list[Name] = Field(default_factory=list, max_length=200)

    _services_unique = field_validator("services")(_unique)
