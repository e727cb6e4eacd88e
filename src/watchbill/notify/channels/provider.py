"""SMS and voice through a NotificationProvider: its templates render the request."""

from __future__ import annotations

import os
from datetime import datetime
from urllib.parse import urlencode

from jinja2 import TemplateError

from watchbill.notify.channels import http, webhook
from watchbill.notify.channels.result import SendResult
from watchbill.notify.message import Message
from watchbill.notify.providers import CONTENT_TYPES, TEMPLATES, BodyFormat, ProviderSpec


class ProviderSetupError(Exception):
    """The provider cannot be used as configured (a template or a variable fails)."""


def render(spec: ProviderSpec, message: Message, *, address: str) -> bytes:
    """The request body: template variables are the message's fields plus `address`
    (the contact method's phone number)."""
    variables = {**message.as_dict(), "address": address}
    try:
        if spec.format == BodyFormat.FORM:
            fields = {k: TEMPLATES.from_string(t).render(variables) for k, t in spec.form.items()}
            return urlencode(fields).encode()
        return TEMPLATES.from_string(spec.body).render(variables).encode()
    except TemplateError as exc:
        raise ProviderSetupError(f"template: {exc}") from None


def headers(spec: ProviderSpec, body: bytes, now: datetime, delivery_id: int) -> dict[str, str]:
    """Static headers, credentials read from the environment now, and the signature."""
    result = {"Content-Type": CONTENT_TYPES[spec.format], **spec.headers}
    for name, env in spec.secret_headers.items():
        result[name] = _env(env)
    if spec.signing_secret_env:
        secret = _env(spec.signing_secret_env).encode()
        result.update(webhook.signed_headers(secret, body, now, delivery_id))
    else:
        result["X-Watchbill-Delivery"] = str(delivery_id)
    return result


def send(
    name: str,
    spec: ProviderSpec,
    message: Message,
    *,
    address: str,
    now: datetime,
    timeout: float,
) -> SendResult:
    try:
        body = render(spec, message, address=address)
        head = headers(spec, body, now, message.delivery_id)
    except ProviderSetupError as exc:
        return SendResult.failed(f"provider {name!r}: {exc}", permanent=True)
    return http.send(spec.method, spec.url, content=body, headers=head, timeout=timeout)


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ProviderSetupError(f"environment variable {name} is not set")
    return value
