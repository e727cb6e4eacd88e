"""What a notification says, independent of the channel that carries it.

One `Message` is rendered by every channel (email, Slack, webhook, provider template),
so a page reads the same everywhere and carries the same links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class IncidentInfo:
    number: int
    title: str
    severity: str
    status: str
    urgency: str
    service: str


@dataclass(frozen=True, slots=True)
class Links:
    acknowledge: str
    resolve: str
    incident: str


@dataclass(frozen=True, slots=True)
class Message:
    """A page about an incident, or (incident None) a test notification."""

    delivery_id: int
    user: str
    contact_method: str
    urgency: str
    reason: str
    incident: IncidentInfo | None
    links: Links | None

    @property
    def headline(self) -> str:
        """One line: the email subject, the Slack header, the start of an SMS."""
        inc = self.incident
        if inc is None:
            return f"Watchbill test notification for {self.user}"
        return f"[{inc.severity.upper()}] #{inc.number} {inc.title} ({inc.service})"

    @property
    def text(self) -> str:
        """A short plain-text body for channels that carry one line or a few (SMS)."""
        if self.links is None:
            return f"{self.headline}: contact method {self.contact_method!r} works."
        return (
            f"{self.headline}. Acknowledge: {self.links.acknowledge} Resolve: {self.links.resolve}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The generic webhook body, and the variables of provider templates."""
        inc = self.incident
        return {
            "event": "test" if inc is None else "incident.page",
            "deliveryId": self.delivery_id,
            "user": self.user,
            "contactMethod": self.contact_method,
            "urgency": self.urgency,
            "reason": self.reason,
            "headline": self.headline,
            "text": self.text,
            "incident": None
            if inc is None
            else {
                "number": inc.number,
                "title": inc.title,
                "severity": inc.severity,
                "status": inc.status,
                "urgency": inc.urgency,
                "url": self.links.incident if self.links else "",
            },
            "service": None if inc is None else {"name": inc.service},
            "links": None
            if self.links is None
            else {
                "acknowledge": self.links.acknowledge,
                "resolve": self.links.resolve,
                "incident": self.links.incident,
            },
        }
