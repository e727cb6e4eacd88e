"""The audit chain: sealed at commit, linear under concurrent processes, checked by verify."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import OWNER, TEST_SERVER_KEY
from watchbill.adapters.db.engine import Database
from watchbill.audit import chain
from watchbill.audit.models import AuditEvent
from watchbill.audit.service import record
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock

REPO = Path(__file__).resolve().parents[2]


def _append(db: Database, clock: FakeClock, object_id: str, **fields: Any) -> None:
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, clock)
        record(ctx, action="test.x", object_type="T", object_id=object_id, **fields)


def _chain(db: Database) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _verify(db: Database, extra: list[bytes] | None = None) -> chain.Verdict:
    with db.read() as session:
        return chain.verify(session, extra or [])


def test_entries_are_sealed_in_order_at_commit(db: Database, clock: FakeClock) -> None:
    for name in ("a", "b", "c"):
        _append(db, clock, name, after={"n": name})
    rows = _chain(db)
    assert [r.id for r in rows] == [1, 2, 3]
    assert all(len(r.hash) == 64 and r.key_id == chain.derive_key(TEST_SERVER_KEY).id for r in rows)
    verdict = _verify(db)
    assert verdict.intact and verdict.entries == 3
    assert (verdict.head_id, verdict.head_hash) == (3, rows[-1].hash)


def test_rolled_back_work_leaves_no_entry(db: Database, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        record(Ctx(session, OWNER, clock), action="gone", object_type="T", object_id="1")
        raise RuntimeError
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, clock)
        record(ctx, action="kept", object_type="T", object_id="1")
        with pytest.raises(RuntimeError), session.begin_nested():
            record(ctx, action="gone", object_type="T", object_id="2")
            raise RuntimeError
        with session.begin_nested():  # released, not rolled back: kept
            record(ctx, action="kept", object_type="T", object_id="3")
        # A query in between flushes the session: the entries must wait for the commit.
        session.execute(select(AuditEvent.id)).all()
        record(ctx, action="kept", object_type="T", object_id="4")
    assert [(r.id, r.action, r.object_id) for r in _chain(db)] == [
        (1, "kept", "1"),
        (2, "kept", "3"),
        (3, "kept", "4"),
    ]
    assert _verify(db).intact


def test_time_never_runs_backwards_along_the_chain(db: Database, clock: FakeClock) -> None:
    _append(db, clock, "later")
    behind = FakeClock(clock.now() - timedelta(hours=1))  # another process, its clock behind
    _append(db, behind, "earlier")
    first, second = _chain(db)
    assert second.at == first.at == clock.now()
    assert _verify(db).intact


def test_values_keep_their_seal_through_either_database(db: Database, clock: FakeClock) -> None:
    """JSONB rewrites numbers (1e100 comes back as its digits) and reorders keys."""
    awkward = {
        "z": 1,
        "a": [0.1, 1.0, 1e100, 2.5e-7, 2**60, -0.0, True, None],
        "text": 'naïve ☃ \t \\ "quoted"',
        "nested": {"b": {"c": [{"d": 1.5}]}, "a": []},
        "when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    }
    _append(db, clock, "awkward", before=awkward, after={"n": 12345678901234567})
    _append(db, clock, "next")
    assert _verify(db).intact


def test_verify_names_an_entry_sealed_without_the_key(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    _append(db, clock, "keyed")
    keyless = Database(db_url, pool_size=1)
    try:
        _append(keyless, clock, "keyless")
    finally:
        keyless.dispose()
    _append(db, clock, "keyed again")
    broken = _verify(db).broken
    assert broken is not None and broken.id == 2
    assert "without the server key" in broken.reason


def test_after_a_key_rotation_old_entries_verify_with_the_old_key(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    _append(db, clock, "old key")
    new_key = b"a brand new server key, also 32+ bytes"
    rotated = Database(db_url, pool_size=1, info=chain.session_info(new_key))
    try:
        _append(rotated, clock, "new key")
        verdict = _verify(rotated)
        assert verdict.broken is not None and verdict.broken.id == 1
        assert "not among the keys given" in verdict.broken.reason
        assert _verify(rotated, [TEST_SERVER_KEY]).intact
    finally:
        rotated.dispose()


@pytest.mark.parametrize(
    "values",
    [
        "3, '2026-03-02 09:00:00.000000', 'x', 'x', 'x', 'x', '', '{h}', ''",  # skips an id
        "1, '2026-03-02 09:00:00.000000', 'x', 'x', 'x', 'x', '', '{h}', ''",  # reuses an id
        "2, '2026-03-02 08:59:59.000000', 'x', 'x', 'x', 'x', '', '{h}', ''",  # dated earlier
        "2, '2026-03-02 09:00:00.000000', 'x', 'x', 'x', 'x', '', '', ''",  # no seal
    ],
)
def test_inserts_out_of_order_are_refused(db: Database, clock: FakeClock, values: str) -> None:
    _append(db, clock, "first")
    statement = (
        "INSERT INTO audit_events (id, at, actor, action, object_type, object_id, source_ip, "
        f"hash, key_id) VALUES ({values.format(h='a' * 64)})"
    )
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert len(_chain(db)) == 1


def test_concurrent_processes_append_one_linear_chain(db_url: str, tmp_path: Path) -> None:
    """Several processes appending at once (PostgreSQL: truly in parallel) still make one
    chain: consecutive ids, each entry sealed over the one before it."""
    go = tmp_path / "go"
    count, names = 30, ["a1", "a2", "a3", "a4"]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.audit.appender",
                "--url",
                db_url,
                "--name",
                name,
                "--count",
                str(count),
                "--go",
                str(go),
            ],
            cwd=REPO,
        )
        for name in names
    ]
    go.write_text("go")
    for proc in procs:
        assert proc.wait(timeout=180) == 0
    db = Database(db_url, pool_size=1, info=chain.session_info(TEST_SERVER_KEY))
    try:
        rows = _chain(db)
        per_process = count + (count + 1) // 2
        assert len(rows) == len(names) * per_process
        assert [r.id for r in rows] == list(range(1, len(rows) + 1))
        assert not [r for r in rows if r.action == "test.undone"]
        assert all(a.at <= b.at for a, b in itertools.pairwise(rows))
        for name in names:
            mine = [
                int(r.object_id.split("-")[1])
                for r in rows
                if r.action == "test.append" and r.object_id.startswith(f"{name}-")
            ]
            assert mine == list(range(count))
        verdict = _verify(db)
        assert verdict.intact and verdict.entries == len(rows)
    finally:
        db.dispose()
