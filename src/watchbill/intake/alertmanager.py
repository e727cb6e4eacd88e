"""Prometheus Alertmanager's webhook payload (version 4): batches of firing and resolved alerts.

Unknown fields are ignored, as newer Alertmanager releases add some. The alert's identity
is its fingerprint, computed as Alertmanager does when the payload lacks it.
"""

from __future__ import annotations

from typing import Any

from watchbill.core.fingerprint import fingerprint
from watchbill.intake.events import (
    MAX_SUMMARY,
    RESOLVE,
    TRIGGER,
    AlertEvent,
    EventError,
    check_labels,
    clean_text,
    parse_timestamp,
    scrub,
)

MAX_ALERTS = 10_000
MAX_BODY = 16 * 1024 * 1024
SEVERITY_WORDS = {
    "critical": "critical",
    "page": "critical",
    "high": "critical",
    "error": "error",
    "major": "error",
    "warning": "warning",
    "warn": "warning",
    "minor": "warning",
    "info": "info",
    "informational": "info",
    "low": "info",
    "none": "info",
}


def parse_webhook(doc: Any, dirty: bool = True) -> list[AlertEvent]:
    """Every alert of a webhook payload as an event; an error lists every bad field."""
    if not isinstance(doc, dict):
        raise EventError("invalid payload", ["the body must be a JSON object"])
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise EventError("invalid payload", ["'alerts' is missing or not a list"])
    if len(alerts) > MAX_ALERTS:
        raise EventError("invalid payload", [f"more than {MAX_ALERTS} alerts in one payload"])
    errors: list[str] = []
    events = []
    external_url = doc.get("externalURL") if isinstance(doc.get("externalURL"), str) else ""
    for i, alert in enumerate(alerts):
        event = _alert(alert, f"alerts[{i}]", errors, external_url, dirty)
        if event is not None:
            events.append(event)
    if errors:
        raise EventError("invalid payload", errors[:50])
    return events


def _alert(
    alert: Any, where: str, errors: list[str], external_url: str, dirty: bool
) -> AlertEvent | None:
    if not isinstance(alert, dict):
        errors.append(f"'{where}' must be an object")
        return None
    before = len(errors)
    status = alert.get("status", "firing")
    if status not in ("firing", "resolved"):
        errors.append(f"'{where}.status' must be firing or resolved")
    labels = check_labels(alert.get("labels"), f"{where}.labels", errors, dirty)
    annotations = check_labels(
        alert.get("annotations") or {}, f"{where}.annotations", errors, dirty
    )
    starts = parse_timestamp(alert.get("startsAt"), f"{where}.startsAt", errors)
    given = alert.get("fingerprint")
    if given is not None and not isinstance(given, str):
        errors.append(f"'{where}.fingerprint' must be a string")
    if len(errors) > before:
        return None
    key = given if isinstance(given, str) and given else fingerprint(labels)
    summary = (
        annotations.get("summary")
        or annotations.get("description")
        or annotations.get("message")
        or labels.get("alertname", "")
        or "alert"
    )
    links = []
    generator = alert.get("generatorURL")
    if isinstance(generator, str) and generator:
        links.append({"href": clean_text(generator, 2048), "text": "Source"})
    if external_url:
        links.append({"href": clean_text(external_url, 2048), "text": "Alertmanager"})
    return AlertEvent(
        action=TRIGGER if status == "firing" else RESOLVE,
        dedup_key=clean_text(key, 255),
        summary=clean_text(summary, MAX_SUMMARY),
        severity=SEVERITY_WORDS.get(labels.get("severity", "").lower(), "warning"),
        source=labels.get("instance") or labels.get("job") or "",
        labels=labels,
        details=annotations,
        links=links,
        occurred_at=starts,
        raw=scrub(alert) if dirty else alert,
    )
