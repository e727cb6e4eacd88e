"""Page sign-in throttling, per account and per source address, kept in the database
so every API process counts the same failures.

Checked before the password, so a throttled request costs no scrypt and answers the
same whether or not the password was right. The account is the user's name when the
name or email typed belongs to someone, and what was typed otherwise, so unknown names
are throttled alike and throttling does not tell which names exist.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from watchbill.auth.models import SignInFailure
from watchbill.core.throttle import retry_after
from watchbill.settings import Settings

log = logging.getLogger(__name__)


def wait_needed(
    session: Session, settings: Settings, *, account: str, address: str, now: datetime
) -> timedelta | None:
    """How long this account or address must wait before trying again, or None."""
    window = timedelta(minutes=settings.signin_window_minutes)
    waits = []
    for column, value, limit in (
        (SignInFailure.account, account[:320], settings.signin_failures_per_account),
        (SignInFailure.address, address[:64], settings.signin_failures_per_address),
    ):
        recent = session.scalars(
            select(SignInFailure.at)
            .where(column == value, SignInFailure.at > now - window)
            .order_by(SignInFailure.at.desc())
            .limit(limit)
        ).all()
        wait = retry_after(recent, limit=limit, window=window, now=now)
        if wait is not None:
            waits.append(wait)
    return max(waits) if waits else None


def note_failure(
    session: Session, settings: Settings, *, account: str, address: str, now: datetime
) -> None:
    """Count a failed sign-in; failures older than the window are dropped on the way."""
    window = timedelta(minutes=settings.signin_window_minutes)
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - window))
    session.add(SignInFailure(account=account[:320], address=address[:64], at=now))
    log.warning("failed sign-in for %r from %s", account, address)


def note_success(session: Session, *, account: str) -> None:
    """A right password clears the account's failures (not the address's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.account == account[:320]))
