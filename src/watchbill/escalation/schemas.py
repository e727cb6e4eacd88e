"""The EscalationPolicy spec, shared by the API and YAML."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from watchbill.core.escalation import MAX_LEVELS, MAX_REPEAT
from watchbill.resources.schema import CamelModel, Name, Text


class TargetSpec(CamelModel):
    """A user, paged directly, or a schedule, whose on-call person at that moment is paged."""

    type: Literal["user", "schedule"]
    name: Name


class LevelSpec(CamelModel):
    targets: list[TargetSpec] = Field(min_length=1, max_length=20)
    delay_minutes: int | float = Field(
        default=30,
        ge=0,
        le=1440,
        description="minutes to wait for an acknowledgement before paging the next level "
        "(fractions allowed: 0.5 is 30 seconds)",
    )
    round_robin: bool = Field(
        default=False, description="page one target per incident, taking turns"
    )

    @model_validator(mode="after")
    def _unique_targets(self) -> LevelSpec:
        seen = [(t.type, t.name) for t in self.targets]
        if len(set(seen)) != len(seen):
            raise ValueError("a target is listed more than once")
        return self


class EscalationPolicySpec(CamelModel):
    description: Text = ""
    levels: list[LevelSpec] = Field(min_length=1, max_length=MAX_LEVELS)
    repeat: int = Field(
        default=0, ge=0, le=MAX_REPEAT, description="times to go through all levels again"
    )
    ack_timeout_minutes: int | None = Field(
        default=None,
        ge=1,
        le=10080,
        description="an acknowledged incident still open this long after triggers again",
    )
