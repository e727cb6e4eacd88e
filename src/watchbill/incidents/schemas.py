"""What the incident API reads and writes: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from watchbill.errors import FieldError, Invalid
from watchbill.resources.schema import CamelModel, Name, Text

StatusName = Literal["triggered", "acknowledged", "resolved"]
Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
Priority = Literal["P1", "P2", "P3", "P4", "P5"]
Urgency = Literal["high", "low"]
IncidentId = Annotated[int, Field(ge=1, le=2**63 - 1)]
STATUS_VALUES: tuple[str, ...] = get_args(StatusName)
SEVERITY_VALUES: tuple[str, ...] = get_args(Severity)
PRIORITY_VALUES: tuple[str, ...] = get_args(Priority)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _single_line(value: str) -> str:
    if any(c < " " or c == "\x7f" for c in value):
        raise ValueError("control characters (including line breaks) are not allowed")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1024),
    AfterValidator(_single_line),
]
NoteText = Annotated[Text, StringConstraints(min_length=1), AfterValidator(_not_blank)]


def _unique(values: list[Any]) -> list[Any]:
    dupes = sorted(str(v) for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"listed more than once: {', '.join(dupes)}")
    return values


class IncidentFilters(CamelModel):
    """List filters; every one narrows the result (all of them must match)."""

    statuses: list[StatusName] = Field(default_factory=list, max_length=3)
    service: Name | None = None
    severities: list[Severity] = Field(default_factory=list, max_length=4)
    urgency: Urgency | None = None
    assignee: Name | None = None
    suppressed: bool | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None


class IncidentOut(CamelModel):
    id: int
    title: str
    status: StatusName
    severity: Severity
    priority: Priority | None
    urgency: Urgency
    service: str
    assignees: list[str]
    alert_count: int
    suppressed: str = Field(description="why nobody is paged (silence, maintenance, rule); ''")
    merged_into_id: int | None
    group_key: str
    escalation_policy: str | None
    auto_resolve: bool
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class IncidentPage(CamelModel):
    items: list[IncidentOut]
    next_cursor: str | None = None


class TimelineEventOut(CamelModel):
    id: int
    incident_id: int
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]


class TimelinePage(CamelModel):
    items: list[TimelineEventOut]
    next_cursor: str | None = None


class AlertOut(CamelModel):
    id: int
    service: str
    status: Literal["firing", "resolved"]
    severity: str
    summary: str
    dedup_key: str
    source: str
    labels: dict[str, Any]
    details: dict[str, Any]
    links: list[Any]
    count: int
    suppressed: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None


class AlertPage(CamelModel):
    items: list[AlertOut]
    next_cursor: str | None = None


class IncidentDetail(IncidentOut):
    """One incident with the first page of its timeline (oldest first) and of its alerts
    (newest first); the rest is at `/timeline` and `/alerts` with the cursors."""

    merged_from: list[int]
    timeline: TimelinePage
    alerts: AlertPage


class IncidentPatch(CamelModel):
    """Change any of these; `priority: null` clears the priority."""

    title: Title | None = None
    severity: Severity | None = None
    priority: Priority | None = None
    urgency: Urgency | None = None

    @model_validator(mode="after")
    def _something(self) -> IncidentPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, severity, priority, urgency")
        for name in ("title", "severity", "urgency"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class NoteIn(CamelModel):
    text: NoteText


class AssignIn(CamelModel):
    """Users (by name) to add to and remove from the incident's assignees."""

    add: list[Name] = Field(default_factory=list, max_length=50)
    remove: list[Name] = Field(default_factory=list, max_length=50)

    _add_unique = field_validator("add")(_unique)
    _remove_unique = field_validator("remove")(_unique)

    @model_validator(mode="after")
    def _something(self) -> AssignIn:
        if not self.add and not self.remove:
            raise ValueError("give users to add or remove")
        both = sorted(set(self.add) & set(self.remove))
        if both:
            raise ValueError(f"both added and removed: {', '.join(both)}")
        return self


class MergeIn(CamelModel):
    """Incidents whose alerts move into this one; they end resolved, merged into it."""

    sources: list[IncidentId] = Field(min_length=1, max_length=50)

    _unique_sources = field_validator("sources")(_unique)


class SplitIn(CamelModel):
    """Alerts of this incident that move to a new incident (at least one must stay)."""

    alert_ids: list[IncidentId] = Field(min_length=1, max_length=1000)
    title: Title | None = None

    _unique_alerts = field_validator("alert_ids")(_unique)


_PARAM = {"statuses": "status", "severities": "severity"}


def _split(values: list[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists alike: `status=a&status=b`, `a,b`."""
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


def parse_filters(
    *,
    status: list[str] | None = None,
    service: str | None = None,
    severity: list[str] | None = None,
    urgency: str | None = None,
    assignee: str | None = None,
    suppressed: bool | None = None,
    q: str | None = None,
) -> IncidentFilters:
    """Filters from query parameters, form fields or CLI options; empty means 'any'."""
    raw: dict[str, Any] = {
        "statuses": list(dict.fromkeys(_split(status))),
        "severities": list(dict.fromkeys(_split(severity))),
        "service": service or None,
        "urgency": urgency or None,
        "assignee": assignee or None,
        "suppressed": suppressed,
        "q": q or None,
    }
    try:
        return IncidentFilters.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldError(
                "query." + ".".join(_PARAM.get(str(p), str(p)) for p in err["loc"]), err["msg"]
            )
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("invalid filter", errors) from exc
