"""The normalised alert event every intake format turns into, and shared text hygiene."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TRIGGER = "trigger"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
ACTIONS = (TRIGGER, ACKNOWLEDGE, RESOLVE)
SEVERITIES = ("critical", "error", "warning", "info")

MAX_LABELS = 256
MAX_LABEL_NAME = 256
MAX_LABEL_VALUE = 4096
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EventError(ValueError):
    """A payload that cannot be accepted; `errors` name each bad field."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


@dataclass(slots=True)
class AlertEvent:
    action: str
    dedup_key: str
    summary: str = ""
    severity: str = "warning"
    source: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    occurred_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChangeEventIn:
    summary: str
    source: str
    occurred_at: datetime | None
    details: dict[str, Any]
    links: list[dict[str, str]]
    raw: dict[str, Any]


def clean_text(value: str, limit: int) -> str:
    """Control characters become U+FFFD (PostgreSQL cannot store NUL) and the text is cut
    at `limit`: an odd summary must not cost the alert."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("\ufffd", value)
    return value[:limit]


def may_need_scrub(body: bytes) -> bool:
    """False when a JSON body provably holds no control characters: in JSON they can
    only appear escaped, so skipping the walk over every string is safe without these."""
    return b"\\u00" in body or b"\\b" in body or b"\\f" in body


def scrub(value: Any) -> Any:
    """NUL characters removed from every string in a JSON document (JSONB refuses them)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def check_labels(labels: Any, where: str, errors: list[str], dirty: bool = True) -> dict[str, str]:
    """A flat string-to-string map within size limits, or an error naming what is wrong."""
    if not isinstance(labels, dict):
        errors.append(f"'{where}' must be an object of string values")
        return {}
    if len(labels) > MAX_LABELS:
        errors.append(f"'{where}' has {len(labels)} entries; at most {MAX_LABELS} are accepted")
        return {}
    for name, value in labels.items():
        if not isinstance(value, str):
            errors.append(f"'{where}.{name[:64]}' must be a string")
            return {}
        if len(name) > MAX_LABEL_NAME or len(value) > MAX_LABEL_VALUE:
            errors.append(f"'{where}.{name[:64]}' is too long")
            return {}
    if not dirty:
        return labels
    return {
        clean_text(k, MAX_LABEL_NAME): clean_text(v, MAX_LABEL_VALUE) for k, v in labels.items()
    }


def parse_timestamp(value: Any, where: str, errors: list[str]) -> datetime | None:
    """ISO 8601 / RFC 3339 with an offset (Z, +00:00 and +0000 all work; nanoseconds too)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        errors.append(f"'{where}' must be an ISO 8601 timestamp")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.append(f"'{where}' is not a valid ISO 8601 timestamp: {value[:64]!r}")
        return None
    if parsed.tzinfo is None:
        errors.append(f"'{where}' needs a UTC offset (e.g. 2026-01-01T12:00:00Z)")
        return None
    return parsed


def check_links(value: Any, where: str, errors: list[str]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        errors.append(f"'{where}' must be a list of at most 50 objects")
        return []
    links = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("href", item.get("src")), str):
            errors.append(f"'{where}[{i}]' needs an 'href' (or 'src') string")
            continue
        links.append(
            {
                k: clean_text(v, 2048)
                for k, v in item.items()
                if k in ("href", "src", "text", "alt") and isinstance(v, str)
            }
        )
    return links
