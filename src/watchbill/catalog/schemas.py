"""Specs of teams, services and status-page components, shared by the API and YAML."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from pydantic import Field, field_serializer, field_validator

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

    _depends_unique = field_validator("depends_on")(_unique)

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
