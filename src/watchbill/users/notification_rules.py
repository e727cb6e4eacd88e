"""A user's notification rules, as written in the User spec (camelCase, validated)."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from watchbill.core.notification_plan import MAX_DELAY_MINUTES, Rule, Rules, WorkingHours
from watchbill.resources.schema import CamelModel, Name

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
"""A wall-clock time as HH:MM, 24-hour."""


def _time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class NotificationRuleSpec(CamelModel):
    contact_method: Name
    delay_minutes: int | float = Field(
        default=0,
        ge=0,
        le=MAX_DELAY_MINUTES,
        description="minutes after being paged (fractions allowed: 0.5 is 30 seconds)",
    )


class WorkingHoursSpec(CamelModel):
    start: ClockTime = "09:00"
    end: ClockTime = "18:00"
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], min_length=1, max_length=7
    )

    @field_validator("days")
    @classmethod
    def _sorted_unique(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each day once (1 = Monday … 7 = Sunday)")
        return sorted(value)

    @model_validator(mode="after")
    def _ends_after_start(self) -> WorkingHoursSpec:
        if self.end <= self.start:
            raise ValueError("end must be after start (working hours within one day)")
        return self


Rules20 = Annotated[list[NotificationRuleSpec], Field(max_length=20)]


class NotificationRulesSpec(CamelModel):
    """Per urgency, which contact method to use how many minutes after being paged."""

    high: Rules20 = Field(default_factory=list)
    low: Rules20 = Field(default_factory=list)
    low_urgency_working_hours_only: bool = False
    working_hours: WorkingHoursSpec = Field(default_factory=WorkingHoursSpec)

    def unknown_labels(self, labels: set[str]) -> list[tuple[str, str]]:
        """(field path, label) of every rule naming a contact method not in `labels`."""
        return [
            (f"notificationRules.{urgency}.{i}.contactMethod", rule.contact_method)
            for urgency, rules in (("high", self.high), ("low", self.low))
            for i, rule in enumerate(rules)
            if rule.contact_method not in labels
        ]

    def to_core(self) -> Rules:
        return Rules(
            high=tuple(Rule(r.contact_method, r.delay_minutes) for r in self.high),
            low=tuple(Rule(r.contact_method, r.delay_minutes) for r in self.low),
            low_urgency_working_hours_only=self.low_urgency_working_hours_only,
            working_hours=WorkingHours(
                start=_time(self.working_hours.start),
                end=_time(self.working_hours.end),
                days=frozenset(self.working_hours.days),
            ),
        )
