"""Issuing, checking and revoking API tokens, page sessions and setup links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from watchbill.access import Principal, Role
from watchbill.audit.service import record
from watchbill.auth.credentials import hash_password, hash_token, new_token, verify_password
from watchbill.auth.models import ApiToken, SetupLink, WebSession
from watchbill.context import Ctx
from watchbill.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from watchbill.resources.schema import check_name
from watchbill.users.models import User

LAST_USED_RESOLUTION = timedelta(minutes=1)
SETUP_LINK_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as created: the secret appears here once and is never stored."""

    token: ApiToken
    secret: str


def create_token(
    ctx: Ctx,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None = None,
    user: User | None = None,
) -> IssuedToken:
    """A token for `user`, or else for the caller's own user. A caller that is no user
    (the server's command line, a service account's token) makes a service-account
    token, which belongs to nobody and acts with its own role.

    A user's token acts with the lesser of its role and the user's current role, and
    stops when the user is deactivated, so a credential never outlives its owner's
    rights.
    """
    check_name(name, "name")
    if not ctx.principal.can(Role.ADMIN):
        raise Forbidden("creating tokens needs the admin role")
    if not ctx.principal.can(role):
        raise Forbidden(f"a {ctx.principal.role} cannot create a token with the {role} role")
    if user is None and ctx.principal.user_id is not None:
        user = ctx.session.get(User, ctx.principal.user_id)
        if user is None:
            raise Forbidden("the caller's user no longer exists")
    if user is not None:
        if not user.active:
            raise Invalid(f"user {user.name!r} is deactivated", [FieldError("user", "inactive")])
        if not Role(user.role).allows(role):
            raise Invalid(
                f"user {user.name!r} is a {user.role}; their token cannot have the {role} role",
                [FieldError("role", f"at most {user.role}")],
            )
    if expires_at is not None and expires_at <= ctx.now():
        raise Invalid("expiry in the past", [FieldError("expiresAt", "must be in the future")])
    if ctx.session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} already exists")
    secret = new_token()
    token = ApiToken(
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:8],
        role=role.value,
        user=user,
        created_by=ctx.principal.label,
        created_at=ctx.now(),
        expires_at=expires_at,
    )
    ctx.session.add(token)
    ctx.session.flush()
    record(
        ctx, action="token.create", object_type="ApiToken", object_id=name, after=token_view(token)
    )
    return IssuedToken(token, secret)


def revoke_token(ctx: Ctx, name: str) -> ApiToken:
    if not ctx.principal.can(Role.ADMIN):
        raise Forbidden("revoking tokens needs the admin role")
    token = ctx.session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise NotFound(f"token {name!r} does not exist")
    _revoke(ctx, token)
    return token


def _revoke(ctx: Ctx, token: ApiToken) -> None:
    if token.revoked_at is None:
        before = token_view(token)
        token.revoked_at = ctx.now()
        record(
            ctx,
            action="token.revoke",
            object_type="ApiToken",
            object_id=token.name,
            before=before,
            after=token_view(token),
        )


def withdraw_credentials(ctx: Ctx, user: User) -> None:
    """What deactivating a user does: end their page sessions and revoke their tokens,
    so reactivating them later brings back neither (both are audited)."""
    tokens = ctx.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        _revoke(ctx, token)
    end_sessions(ctx, user)


def end_sessions(ctx: Ctx, user: User) -> None:
    """Sign a user out everywhere (deactivation, a new password)."""
    ended = ctx.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    if ended.rowcount:
        record(
            ctx,
            action="session.end_all",
            object_type="User",
            object_id=user.name,
            after={"sessions": ended.rowcount},
        )


def list_tokens(session: Session) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.name)
        )
    )


def token_view(token: ApiToken) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "name": token.name,
        "prefix": token.prefix,
        "role": token.role,
        "user": token.user.name if token.user is not None else None,
        "createdBy": token.created_by,
        "createdAt": iso(token.created_at),
        "expiresAt": iso(token.expires_at),
        "lastUsedAt": iso(token.last_used_at),
        "revokedAt": iso(token.revoked_at),
    }


def principal_for_token(session: Session, secret: str, now: datetime, ip: str) -> Principal | None:
    """The caller a bearer token stands for, or None if unknown, revoked or expired, or
    if its user is deactivated. A user's token acts with the lesser of its own role and
    the user's role now."""
    found = session.execute(
        select(ApiToken, User)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    role = Role(token.role)
    if token.user_id is not None:
        if user is None or not user.active:
            return None
        role = min(role, Role(user.role), key=lambda r: r.rank)
    return Principal(kind="token", name=token.name, role=role, user_id=token.user_id, source_ip=ip)


def touch_token(session: Session, secret: str, now: datetime) -> None:
    """Record last use, at most once a minute per token, so reads stay cheap."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret))
        .where(
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - LAST_USED_RESOLUTION)
        )
        .values(last_used_at=now)
    )


def _find_user(session: Session, name_or_email: str) -> User | None:
    key = name_or_email.strip().lower()
    return session.scalar(
        select(User).where((func.lower(User.name) == key) | (func.lower(User.email) == key))
    )


def account_key(session: Session, name_or_email: str) -> str:
    """What sign-in failures are counted against: the user's name, whichever of name or
    email was typed, or the typed text when nobody has it."""
    user = _find_user(session, name_or_email)
    return user.name if user is not None else name_or_email.strip().lower()


def check_password(session: Session, name_or_email: str, password: str) -> User | None:
    """The active user with this name or email and password, or None.

    The password is checked (scrypt) whether or not the account exists, is active or has
    a password, so the answer takes the same time either way and does not tell which
    names exist.
    """
    user = _find_user(session, name_or_email)
    account = user if user is not None and user.active and user.password_hash else None
    stored = account.password_hash if account is not None else None
    matches = verify_password(password, stored or _decoy_hash())
    return account if matches else None


def start_session(
    session: Session, user_id: int, *, now: datetime, ttl: timedelta, ip: str
) -> tuple[str, WebSession] | None:
    """A page session for a user whose password was checked: the cookie secret and the
    stored session, or None if they were deactivated meanwhile."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    secret = secrets.token_urlsafe(32)
    web = WebSession(
        token_hash=hash_token(secret),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        expires_at=now + ttl,
        source_ip=ip,
    )
    session.add(web)
    session.flush()
    return secret, web


@cache
def _decoy_hash() -> str:
    """A hash to check passwords against when there is no account: same cost, never a match."""
    return hash_password(secrets.token_urlsafe(32))


def session_for_cookie(session: Session, secret: str, now: datetime) -> WebSession | None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(secret)))
    if web is None or web.expires_at <= now or not web.user.active:
        return None
    return web


def logout(session: Session, secret: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(secret)))
    if web is not None:
        session.delete(web)


def owner_exists(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.role == Role.OWNER.value).limit(1)) is not None


def create_setup_link(session: Session, now: datetime) -> str:
    """A one-time secret that lets the first visitor create the owner account."""
    secret = secrets.token_urlsafe(24)
    session.add(
        SetupLink(token_hash=hash_token(secret), created_at=now, expires_at=now + SETUP_LINK_TTL)
    )
    return secret


def redeem_setup_link(session: Session, secret: str, now: datetime) -> bool:
    """Use up a setup link; False if unknown, used, expired, or an owner already exists."""
    if owner_exists(session):
        return False
    link = session.scalar(select(SetupLink).where(SetupLink.token_hash == hash_token(secret)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return False
    link.used_at = now
    return True


def set_password(ctx: Ctx, user: User, password: str) -> None:
    if len(password) < 12:
        raise Invalid("password too short", [FieldError("password", "at least 12 characters")])
    if ctx.principal.user_id != user.id and not ctx.principal.can(Role.ADMIN):
        raise Forbidden("only an admin can set another user's password")
    if (
        user.role == Role.OWNER
        and ctx.principal.user_id != user.id
        and not ctx.principal.can(Role.OWNER)
    ):
        raise Forbidden("only an owner can set another owner's password")
    user.password_hash = hash_password(password)
    record(ctx, action="user.set_password", object_type="User", object_id=user.name)
    end_sessions(ctx, user)
