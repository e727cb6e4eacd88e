"""What the notification API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from watchbill.resources.schema import CamelModel, Name

DeliveryStatus = Literal["queued", "sending", "sent", "failed", "cancelled"]


class AttemptOut(CamelModel):
    number: int
    at: datetime
    ok: bool
    response_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(CamelModel):
    id: int
    incident_id: int | None
    user: str
    contact_method: str
    channel: str
    address: str
    urgency: str
    reason: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    last_error: str | None
    response_code: int | None
    send_at: datetime
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    log: list[AttemptOut]


class DeliveryList(CamelModel):
    items: list[DeliveryOut]


class NotifyTestIn(CamelModel):
    contact_method: Name | None = None


class SigningSecretOut(CamelModel):
    user: str
    contact_method: str
    secret: str
