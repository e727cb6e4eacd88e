"""Generic webhooks: the message as JSON, signed with HMAC-SHA256 over timestamp and body.

Headers: `X-Watchbill-Timestamp` (Unix seconds), `X-Watchbill-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, `X-Watchbill-Delivery` (the
delivery id, the same on every retry, for the receiver to drop duplicates). A receiver
recomputes the signature, compares in constant time and refuses old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import orjson

from watchbill.notify.channels import http
from watchbill.notify.channels.result import SendResult
from watchbill.notify.message import Message


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: datetime, delivery_id: int) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "X-Watchbill-Delivery": str(delivery_id),
        "X-Watchbill-Timestamp": str(timestamp),
        "X-Watchbill-Signature": signature(secret, timestamp, body),
    }


def destination_secret(server_key: bytes, user: str, label: str, url: str) -> str:
    """The signing secret of one user's webhook contact method, derived from the server
    key: nothing to store or leak from the database, and a new URL gets a new secret."""
    material = f"webhook\n{user}\n{label}\n{url}".encode()
    return "whsec_" + hmac.new(server_key, material, hashlib.sha256).hexdigest()


def send(message: Message, *, url: str, secret: str, now: datetime, timeout: float) -> SendResult:
    body = orjson.dumps(message.as_dict())
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secret.encode(), body, now, message.delivery_id),
    }
    return http.send("POST", url, content=body, headers=headers, timeout=timeout)
