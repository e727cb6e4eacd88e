"""Watchbill's own JSON event format, for scripts and anything without a native format.

Documented in docs/integrations.md; one event object or a list of up to 1,000.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from watchbill.intake.events import (
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    AlertEvent,
    EventError,
    check_labels,
    check_links,
    clean_text,
    scrub,
)

MAX_EVENTS = 1000


class GenericEvent(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="ignore")

    action: Literal["trigger", "acknowledge", "resolve"] = "trigger"
    dedup_key: Annotated[str, Field(min_length=1, max_length=MAX_DEDUP_KEY)]
    summary: Annotated[str, Field(max_length=MAX_SUMMARY)] = ""
    severity: Literal["critical", "error", "warning", "info"] = "warning"
    source: Annotated[str, Field(max_length=255)] = ""
    labels: dict[str, Any] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    links: list[dict[str, Any]] = Field(default_factory=list)
    timestamp: AwareDatetime | None = None


def parse_generic(doc: Any, dirty: bool = True) -> list[AlertEvent]:
    items = doc if isinstance(doc, list) else [doc]
    if not items or len(items) > MAX_EVENTS:
        raise EventError("invalid payload", [f"send 1 to {MAX_EVENTS} events"])
    events = []
    errors: list[str] = []
    for i, item in enumerate(items):
        where = f"[{i}]" if isinstance(doc, list) else ""
        try:
            parsed = GenericEvent.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = ".".join(str(p) for p in err["loc"])
                errors.append(f"'{where}{'.' if where else ''}{loc}': {err['msg']}")
            continue
        if parsed.action == "trigger" and not parsed.summary.strip():
            errors.append(f"'{where}{'.' if where else ''}summary' is required to trigger")
        labels = check_labels(parsed.labels, f"{where}labels", errors)
        links = check_links(parsed.links, f"{where}links", errors)
        events.append(
            AlertEvent(
                action=parsed.action,
                dedup_key=clean_text(parsed.dedup_key, MAX_DEDUP_KEY),
                summary=clean_text(parsed.summary, MAX_SUMMARY),
                severity=parsed.severity,
                source=clean_text(parsed.source, 255),
                labels={"severity": parsed.severity, **labels},
                details=scrub(parsed.details) if dirty else parsed.details,
                links=links,
                occurred_at=parsed.timestamp,
                raw=scrub(item) if dirty else item,
            )
        )
    if errors:
        raise EventError("invalid payload", errors[:50])
    return events
