"""The User spec, shared by the API and YAML."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from watchbill.access import Role
from watchbill.resources.schema import CamelModel, Name, ShortText
from watchbill.users.notification_rules import NotificationRulesSpec


class ContactType(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    WEBHOOK = "webhook"
    SLACK = "slack"


def _time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]


class ContactMethodSpec(CamelModel):
    label: Name
    type: ContactType
    address: Annotated[str, StringConstraints(min_length=1, max_length=2048)]

    @field_validator("address")
    @classmethod
    def _no_whitespace(cls, value: str) -> str:
        if value != value.strip() or any(c in value for c in "\r\n\t\x00"):
            raise ValueError("must not contain surrounding whitespace or control characters")
        return value

    @model_validator(mode="after")
    def _url_for_http_types(self) -> ContactMethodSpec:
        # Webhook and Slack addresses are called; anything else would fail every page.
        if self.type in (ContactType.WEBHOOK, ContactType.SLACK) and not re.match(
            r"^https?://[^\s/$.?#][^\s]*$", self.address
        ):
            raise ValueError(f"a {self.type.value} address must be an http:// or https:// URL")
        return self


class UserSpec(CamelModel):
    full_name: ShortText = ""
    email: EmailStr
    time_zone: TimeZone = "UTC"
    role: Role = Role.RESPONDER
    active: bool = True
    contact_methods: list[ContactMethodSpec] = Field(default_factory=list, max_length=20)
    notification_rules: NotificationRulesSpec = Field(default_factory=NotificationRulesSpec)

    @field_validator("contact_methods")
    @classmethod
    def _unique_labels(cls, value: list[ContactMethodSpec]) -> list[ContactMethodSpec]:
        labels = [c.label for c in value]
        if len(labels) != len(set(labels)):
            raise ValueError("contact method labels must be unique")
        return value


class UserCreate(UserSpec):
    name: Name
