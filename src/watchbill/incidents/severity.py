"""Severity tiers, priorities and urgency, and how an alert's severity maps onto them."""

from __future__ import annotations

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
URGENCIES = ("high", "low")

_FROM_ALERT = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"}


def severity_from_alert(alert_severity: str) -> str:
    """critical → SEV1 … info → SEV4; routing rules may set another."""
    return _FROM_ALERT.get(alert_severity, "SEV3")


def default_urgency(alert_severity: str) -> str:
    """High urgency pages at once; low may wait for working hours (see on-call rules)."""
    return "high" if alert_severity in ("critical", "error") else "low"
