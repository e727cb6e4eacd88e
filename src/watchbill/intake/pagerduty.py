"""PagerDuty Events API v2, wire-compatible: existing senders work with only the URL changed."""

from __future__ import annotations

import uuid
from typing import Any

from watchbill.intake.events import (
    ACTIONS,
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    SEVERITIES,
    TRIGGER,
    AlertEvent,
    ChangeEventIn,
    EventError,
    check_links,
    clean_text,
    parse_timestamp,
    scrub,
)

MAX_BODY = 512 * 1024


def routing_key(doc: Any) -> str:
    """The routing key of an event document, or an EventError naming what is wrong."""
    if not isinstance(doc, dict):
        raise EventError("Event object is invalid", ["the body must be a JSON object"])
    key = doc.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        raise EventError("Event object is invalid", ["'routing_key' is missing or blank"])
    return key.strip()


def _string(
    doc: dict[str, Any],
    name: str,
    where: str,
    errors: list[str],
    *,
    required: bool = False,
    limit: int = 1024,
) -> str:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        errors.append(f"'{where}' must be a string")
        return ""
    if not value or not value.strip():
        if required:
            errors.append(f"'{where}' is missing or blank")
        return ""
    return clean_text(value, limit)


def parse_alert_event(doc: dict[str, Any], dirty: bool = True) -> AlertEvent:
    """A trigger/acknowledge/resolve event; errors are listed as PagerDuty lists them."""
    errors: list[str] = []
    action = doc.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup_key = doc.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > MAX_DEDUP_KEY):
        errors.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
        dedup_key = None
    if action in ACTIONS and action != TRIGGER and not dedup_key:
        errors.append(f"'dedup_key' is required to {action}")
    event = AlertEvent(action=str(action), dedup_key=dedup_key or "")
    if action == TRIGGER:
        payload = doc.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            _trigger_fields(event, payload, errors)
        event.links = check_links(doc.get("links"), "links", errors)
        images = check_links(doc.get("images"), "images", errors)
        event.links.extend(
            {"href": i.get("href", i.get("src", "")), "text": i.get("alt", "")} for i in images
        )
        for name in ("client", "client_url"):
            if doc.get(name) is not None and not isinstance(doc.get(name), str):
                errors.append(f"'{name}' must be a string")
    if errors:
        raise EventError("Event object is invalid", errors)
    if not event.dedup_key:
        event.dedup_key = uuid.uuid4().hex
    event.dedup_key = clean_text(event.dedup_key, MAX_DEDUP_KEY)
    raw = {k: v for k, v in doc.items() if k != "routing_key"}
    event.raw = scrub(raw) if dirty else raw
    if dirty:
        event.details = scrub(event.details)
    return event


def _trigger_fields(event: AlertEvent, payload: dict[str, Any], errors: list[str]) -> None:
    event.summary = _string(
        payload, "summary", "payload.summary", errors, required=True, limit=MAX_SUMMARY
    )
    if isinstance(payload.get("summary"), str) and len(payload["summary"]) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is longer than {MAX_SUMMARY} characters")
    event.source = _string(payload, "source", "payload.source", errors, required=True, limit=255)
    severity = payload.get("severity")
    if severity not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    else:
        event.severity = severity
    event.occurred_at = parse_timestamp(payload.get("timestamp"), "payload.timestamp", errors)
    labels = {"severity": event.severity, "source": event.source}
    for name in ("component", "group", "class"):
        value = _string(payload, name, f"payload.{name}", errors, limit=255)
        if value:
            labels[name] = value
    event.labels = labels
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, (dict, str, list, int, float, bool)):
        errors.append("'payload.custom_details' must be JSON")
    event.details = (
        details if isinstance(details, dict) else ({} if details is None else {"details": details})
    )


def parse_change_event(doc: dict[str, Any], dirty: bool = True) -> ChangeEventIn:
    """A change event for `/v2/change/enqueue`."""
    errors: list[str] = []
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        raise EventError("Event object is invalid", ["'payload' is missing or not an object"])
    summary = _string(
        payload, "summary", "payload.summary", errors, required=True, limit=MAX_SUMMARY
    )
    source = _string(payload, "source", "payload.source", errors, limit=255)
    occurred_at = parse_timestamp(payload.get("timestamp"), "payload.timestamp", errors)
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict):
        errors.append("'payload.custom_details' must be an object")
    links = check_links(doc.get("links"), "links", errors)
    if errors:
        raise EventError("Event object is invalid", errors)
    raw = {k: v for k, v in doc.items() if k != "routing_key"}
    return ChangeEventIn(
        summary=summary,
        source=source,
        occurred_at=occurred_at,
        details=scrub(details or {}) if dirty else details or {},
        links=links,
        raw=scrub(raw) if dirty else raw,
    )
