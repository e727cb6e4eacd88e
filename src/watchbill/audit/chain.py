"""The audit log as a keyed hash chain, so that tampering shows even to its owner.

Each entry is sealed with HMAC-SHA256 over the previous entry's seal and its own
contents, under a key derived from the server key (which lives in the environment or
the data directory, never in the database). Someone holding only the database can drop
the triggers and rewrite, insert or remove rows, but cannot compute a seal, so
`verify` names the first entry that no longer fits. Removing entries from the end is
the one change the chain cannot show by itself: compare the head with one recorded
elsewhere (`watchbill audit verify --expect-head`).

Entries are sealed when their transaction commits, not when they are recorded: the
seal needs the entry before it, so appenders take turns (PostgreSQL: an advisory lock
held to the commit; SQLite: its single writer), and taking that turn last, after every
other row lock of the transaction, means it cannot deadlock against them. Entries
recorded inside a savepoint that is rolled back are dropped with it. The entry's id is
its place in the chain (the last id + 1) and its time is never earlier than the entry
before it; the database's triggers refuse any insert that breaks either rule.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, SessionTransaction

from watchbill.audit.models import AuditEvent

GENESIS = "0" * 64
KEY_INFO = b"watchbill audit chain v1"
SESSION_KEY = "watchbill.audit_key"
PENDING = "watchbill.audit_pending"
# pg_advisory_xact_lock's key: any constant shared by every process on the database.
PG_LOCK = 0x57424155  # "WBAU"
_EXACT = 2**53


@dataclass(frozen=True, slots=True)
class SealKey:
    """The key entries are sealed with, and its public id (stored on each entry, so
    `verify` can tell an entry sealed under a rotated key from a forged one)."""

    secret: bytes
    id: str


UNKEYED = SealKey(b"", "")
"""What a database opened without the server key seals with; `verify` refuses it."""


def derive_key(server_key: bytes) -> SealKey:
    """A key for the audit chain alone, derived so the server key serves one purpose each."""
    secret = hmac.new(server_key, KEY_INFO, hashlib.sha256).digest()
    return SealKey(secret, hashlib.sha256(b"key id\n" + secret).hexdigest()[:16])


def session_info(server_key: bytes | None) -> dict[str, object]:
    """The `info` for a Database whose sessions seal audit entries with this key."""
    return {SESSION_KEY: derive_key(server_key)} if server_key else {}


def _normal(value: Any) -> Any:
    """Numbers as both databases give them back: PostgreSQL's JSONB writes 1e100 as
    digits, so integral values are compared as ints below 2**53 and floats above."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value) if abs(value) >= _EXACT else value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _EXACT else value
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _stored(value: Any) -> Any:
    """The JSON value as the database will hold it (datetimes as text, and so on)."""
    return None if value is None else orjson.loads(orjson.dumps(value))


@dataclass(frozen=True, slots=True)
class Entry:
    """The sealed fields of one audit event."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    source_ip: str
    key_id: str

    def canonical(self) -> bytes:
        fields = [
            self.id,
            self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            self.actor,
            self.action,
            self.object_type,
            self.object_id,
            _normal(_stored(self.before)),
            _normal(_stored(self.after)),
            self.source_ip,
            self.key_id,
        ]
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def seal(key: SealKey, previous: str, entry: Entry) -> str:
    """The entry's seal: HMAC-SHA256 of the previous seal and the entry's contents."""
    return hmac.new(key.secret, previous.encode() + b"\n" + entry.canonical(), "sha256").hexdigest()


# ------------------------------------------------------------------ appending


def append(session: Session, event: AuditEvent) -> None:
    """Queue an event to be sealed and inserted when the session's transaction commits."""
    current = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append((event, current))


def _within(txn: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while txn is not None:
        if txn is ended:
            return True
        txn = txn.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        pending[:] = [(e, t) for e, t in pending if not _within(t, previous)]


@event.listens_for(Session, "before_commit")
def _seal_pending(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint: its entries wait for the outermost commit
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    key: SealKey = session.info.get(SESSION_KEY, UNKEYED)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
    last = conn.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.at)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    last_id, previous, last_at = (last[0], last[1], last[2]) if last else (0, GENESIS, None)
    for row, _txn in pending:
        last_id += 1
        row.id = last_id
        if last_at is not None and row.at < last_at:
            row.at = last_at
        last_at = row.at
        row.key_id = key.id
        row.hash = previous = seal(key, previous, _entry(row))
        session.add(row)


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        before=row.before,
        after=row.after,
        source_ip=row.source_ip,
        key_id=row.key_id,
    )


# ------------------------------------------------------------------ verifying


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry that does not fit the chain, and why."""

    id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    entries: int
    head_id: int | None
    head_hash: str | None
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def keys_for(session: Session, extra: Iterable[bytes] = ()) -> dict[str, SealKey]:
    """The session's own key and any older server keys given, by key id."""
    keys = [session.info.get(SESSION_KEY, UNKEYED), *(derive_key(k) for k in extra)]
    return {k.id: k for k in keys if k.id}


def check_rows(rows: Iterable[Any], keys: Mapping[str, SealKey]) -> Verdict:
    """Walk the rows in id order; stop at the first whose seal does not match."""
    previous, prev_id, count = GENESIS, None, 0
    for row in rows:
        count += 1
        broken = _check(row, previous, prev_id, keys)
        if broken is not None:
            return Verdict(count, prev_id, previous, broken)
        previous, prev_id = row.hash, row.id
    return Verdict(count, prev_id, None if prev_id is None else previous, None)


def _check(
    row: Any, previous: str, prev_id: int | None, keys: Mapping[str, SealKey]
) -> Break | None:
    if not row.key_id:
        return Break(row.id, "sealed without the server key (written by a process not given it)")
    key = keys.get(row.key_id)
    if key is None:
        return Break(row.id, f"sealed with key {row.key_id}, which is not among the keys given")
    if hmac.compare_digest(seal(key, previous, _entry(row)), row.hash):
        return None
    if prev_id is not None and row.id != prev_id + 1:
        return Break(
            row.id,
            f"seal does not match: entries between #{prev_id} and #{row.id} were removed, "
            "or this entry was changed",
        )
    if prev_id is None and row.id != 1:
        return Break(row.id, "seal does not match: earlier entries were removed")
    return Break(row.id, "seal does not match: this entry, or the one before it, was changed")


def verify(session: Session, extra_keys: Iterable[bytes] = ()) -> Verdict:
    """Check the whole chain, reading it in batches."""
    cols = AuditEvent.__table__.c
    rows = session.execute(select(AuditEvent.__table__).order_by(cols.id)).yield_per(2000)
    return check_rows(rows, keys_for(session, extra_keys))


def holds(session: Session, entry_id: int, entry_hash: str) -> bool:
    """Whether the log still holds an entry recorded elsewhere as its head then: the
    check that shows entries removed from the end."""
    stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == entry_id))
    return stored is not None and hmac.compare_digest(stored, entry_hash)


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    """The verdict as the API, the page and `watchbill audit verify --json` show it."""
    return {
        "intact": verdict.intact,
        "entries": verdict.entries,
        "head": None
        if verdict.head_id is None
        else {"id": verdict.head_id, "hash": verdict.head_hash},
        "firstBad": None
        if verdict.broken is None
        else {"id": verdict.broken.id, "reason": verdict.broken.reason},
    }
