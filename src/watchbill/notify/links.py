"""Signed, expiring one-click links to acknowledge or resolve an incident as a user.

A token is `<payload>.<signature>`, both base64url: the payload names the action, the
incident, the user and the expiry (Unix seconds); the signature is HMAC-SHA256 over the
payload with the server key and a purpose prefix, so a token cannot be forged, altered
or reused for another purpose. Knowing the link is the credential, as with any
one-click link in an email; it expires (WATCHBILL_ACTION_LINK_HOURS) and acting needs a
POST from the confirmation page, so a mail scanner that fetches links does nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from watchbill.errors import WatchbillError

_PURPOSE = b"watchbill.action-link.v1\n"
_B64 = re.compile(r"[A-Za-z0-9_-]{1,512}")


class LinkAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class ActionClaim:
    action: LinkAction
    incident_id: int
    user: str
    expires_at: datetime


class BadLink(WatchbillError):
    """A link that cannot be used; the message names why (malformed, forged, expired)."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail, status=status, title="Link not usable")


def sign(key: bytes, claim: ActionClaim) -> str:
    payload = (
        f"{claim.action.value}|{claim.incident_id}|{claim.user}|{int(claim.expires_at.timestamp())}"
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(key: bytes, token: str, now: datetime) -> ActionClaim:
    """The claim in `token`; raises BadLink naming what is wrong with it."""
    try:
        encoded, signature = token.split(".")
        payload = _unb64(encoded)
        given = _unb64(signature)
    except (ValueError, binascii.Error):
        raise BadLink("this link is malformed; copy the whole link from the message") from None
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise BadLink("this link's signature does not match: it was altered or not made here")
    try:
        action, incident, user, expires = payload.decode().split("|")
        claim = ActionClaim(
            LinkAction(action), int(incident), user, datetime.fromtimestamp(int(expires), UTC)
        )
    except (ValueError, UnicodeDecodeError):
        raise BadLink("this link is malformed; copy the whole link from the message") from None
    if now >= claim.expires_at:
        raise BadLink(
            f"this link expired at {claim.expires_at:%Y-%m-%d %H:%M} UTC; "
            "open the incident in Watchbill instead",
            status=410,
        )
    return claim


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _PURPOSE + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    # Strict: the decoder would skip stray characters, letting an altered link pass.
    if not _B64.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
