"""NotificationProvider: an admin-defined HTTP provider for SMS and voice (or anything
with an HTTP API), reached through a sandboxed template so any vendor can be wired.

Secrets never sit in the spec (which is exported, audited and shown in the API):
headers that carry credentials and the signing key name environment variables, read
when a message is sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill.context import Ctx
from watchbill.errors import FieldError, Invalid
from watchbill.notify.models import NotificationProvider
from watchbill.resources.base import Resource
from watchbill.resources.schema import CamelModel, HttpUrl, Text
from watchbill.users.schemas import ContactType

TEMPLATES = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
"""Sandboxed: a template can read the message variables and nothing of the server."""

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,100}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=1000, pattern=r"^[^\r\n\x00]*$")]
PROVIDER_TYPES = (ContactType.SMS, ContactType.PHONE)


class BodyFormat(StrEnum):
    JSON = "json"
    FORM = "form"
    TEXT = "text"


CONTENT_TYPES = {
    BodyFormat.JSON: "application/json",
    BodyFormat.FORM: "application/x-www-form-urlencoded",
    BodyFormat.TEXT: "text/plain; charset=utf-8",
}


class ProviderSpec(CamelModel):
    contact_types: list[ContactType] = Field(min_length=1, max_length=2)
    url: HttpUrl
    method: Annotated[str, StringConstraints(pattern=r"^(POST|PUT)$")] = "POST"
    format: BodyFormat = BodyFormat.JSON
    body: Text = ""
    form: dict[HeaderName, Text] = Field(default_factory=dict, max_length=50)
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=50)
    secret_headers: dict[HeaderName, EnvName] = Field(default_factory=dict, max_length=20)
    signing_secret_env: EnvName | None = None

    @field_validator("contact_types")
    @classmethod
    def _phone_like(cls, value: list[ContactType]) -> list[ContactType]:
        if len(set(value)) != len(value) or not set(value) <= set(PROVIDER_TYPES):
            raise ValueError("providers carry sms and phone contact methods, each once")
        return value

    @field_validator("url")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value:
            raise ValueError("a provider needs a URL")
        return value

    @field_validator("body")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _compile(value)
        return value

    @field_validator("form")
    @classmethod
    def _fields_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for template in value.values():
            _compile(template)
        return value

    @model_validator(mode="after")
    def _one_body(self) -> ProviderSpec:
        if self.format == BodyFormat.FORM and (self.body or not self.form):
            raise ValueError("format form takes `form` (field: template), not `body`")
        if self.format != BodyFormat.FORM and (self.form or not self.body):
            raise ValueError(f"format {self.format.value} takes a `body` template, not `form`")
        return self


def _compile(template: str) -> None:
    try:
        TEMPLATES.from_string(template)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template error on line {exc.lineno}: {exc.message}") from None


class ProviderResource(Resource):
    kind = "NotificationProvider"
    plural = "notification-providers"
    model = NotificationProvider
    spec = ProviderSpec

    def to_spec(self, obj: NotificationProvider) -> ProviderSpec:
        return ProviderSpec.model_validate(obj.spec)

    def write_spec(self, ctx: Ctx, obj: NotificationProvider, spec: BaseModel) -> None:
        assert isinstance(spec, ProviderSpec)
        others = select(NotificationProvider.name, NotificationProvider.spec)
        if obj.id is not None:
            others = others.where(NotificationProvider.id != obj.id)
        for name, other in ctx.session.execute(others):
            shared = set(spec.contact_types) & set(other.get("contactTypes", []))
            if shared:
                raise Invalid(
                    "another provider already carries this contact type",
                    [
                        FieldError(
                            "contactTypes", f"{', '.join(sorted(shared))} is carried by {name!r}"
                        )
                    ],
                )
        obj.spec = spec.model_dump(mode="json", by_alias=True)


PROVIDERS = ProviderResource()


def provider_for(session: Session, contact_type: str) -> tuple[str, ProviderSpec] | None:
    """The provider carrying `contact_type` (name and spec), if one is defined."""
    for name, spec in session.execute(
        select(NotificationProvider.name, NotificationProvider.spec).order_by(
            NotificationProvider.name
        )
    ):
        if contact_type in spec.get("contactTypes", []):
            return name, ProviderSpec.model_validate(spec)
    return None
