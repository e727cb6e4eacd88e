"""API models of the on-call health report (for the OpenAPI document and the response)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from watchbill.resources.schema import CamelModel


class WarningOut(CamelModel):
    figure: str = Field(description="hoursOnCall, sleepPages or nightsInterrupted")
    value: float
    limit: float = Field(description="the per-week limit scaled to the period")
    message: str


class Figures(CamelModel):
    hours_on_call: float
    pages: int
    sleep_pages: int
    off_hours_interruptions: int
    nights_interrupted: int
    timed_acknowledgements: int
    mtta_seconds: float | None


class PersonOut(Figures):
    user: str
    full_name: str
    time_zone: str
    teams: list[str]
    warnings: list[WarningOut]


class TeamOut(Figures):
    team: str
    members: int
    members_with_warnings: int


class Limits(CamelModel):
    hours_on_call: float
    sleep_pages: float
    nights_interrupted: float


class HealthOut(CamelModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    team: str | None
    sleep_hours: str = Field(description="HH:MM-HH:MM in each person's own time zone")
    limits_per_week: Limits = Field(description="0: no limit")
    limits: Limits = Field(description="scaled to the period (at least one week's)")
    users: list[PersonOut]
    teams: list[TeamOut]
