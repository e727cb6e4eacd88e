"""`watchbill incidents ...`: a few runs as a real subprocess (the way an operator runs
it), the rest in-process with Typer's runner, since each subprocess start costs seconds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.helpers import run
from tests.incidents.helpers import event, fire, make_service, make_user, timeline_kinds
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def wb(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """`watchbill incidents ARGS` in this process: (exit code, stdout, stderr)."""
    from watchbill.app.cli import app
    from watchbill.settings import get_settings

    monkeypatch.setenv("WATCHBILL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WATCHBILL_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["incidents", *args])
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), result.exception
        return result.exit_code, result.stdout, result.stderr

    yield invoke
    get_settings.cache_clear()


def test_list_show_ack_note_assign_merge(
    db: Database, db_url: str, clock: FakeClock, tmp_path: Path, wb: Invoke
) -> None:
    sid = make_service(db, clock)
    make_user(db, clock, "ada")
    a, b = (o.incident_id for o in fire(db, clock, sid, event("cpu"), event("mem")))
    assert a is not None and b is not None

    def sub(*args: str) -> tuple[int, str, str]:
        result = run("incidents", *args, data_dir=tmp_path, database_url=db_url)
        assert "Traceback" not in result.err
        return result.code, result.out, result.err

    code, out, _ = sub("list", "--status", "triggered", "--json")
    assert code == 0
    assert [i["id"] for i in json.loads(out)] == [b, a]

    assert sub("ack", str(a))[:2] == (0, f"incident {a} acknowledged\n")
    code, out, _ = wb("ack", str(a))
    assert code == 0 and "already acknowledged" in out
    assert wb("note", str(a), "rolled back v42")[0] == 0
    assert wb("assign", str(a), "ada")[0] == 0
    code, out, _ = wb("merge", str(a), str(b))
    assert code == 0 and f"merged {b} into incident {a}" in out

    code, out, _ = sub("show", str(a))
    assert code == 0
    assert "acknowledged" in out and "rolled back v42" in out and "ada" in out
    assert "cpu is failing" in out and "mem is failing" in out
    code, out, _ = wb("list", "--service", "checkout")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "STATUS", "SEVERITY"]
    assert timeline_kinds(db, a)[-4:] == [
        "status.acknowledged",
        "note",
        "assignee.added",
        "incident.merged",
    ]


def test_errors_are_messages_with_a_non_zero_exit(
    db: Database, db_url: str, clock: FakeClock, tmp_path: Path, wb: Invoke
) -> None:
    sid = make_service(db, clock)
    (iid,) = (o.incident_id for o in fire(db, clock, sid, event("cpu")))
    before = timeline_kinds(db, iid)  # type: ignore[arg-type]
    cases = [
        (["show", "424242"], "does not exist"),
        (["resolve", "424242"], "does not exist"),
        (["reopen", str(iid)], "cannot reopen"),
        (["note", str(iid), "   "], "text"),
        (["assign", str(iid), "nobody"], "no user named"),
        (["merge", str(iid), str(iid)], "itself"),
        (["list", "--status", "open"], "status"),
    ]
    for args, message in cases:
        code, out, err = wb(*args)
        assert code == 1, (args, out, err)
        assert message in err, (args, err)
    result = run("incidents", "resolve", "424242", data_dir=tmp_path, database_url=db_url)
    assert result.code == 1 and "does not exist" in result.err
    assert "Traceback" not in result.err
    assert timeline_kinds(db, iid) == before  # type: ignore[arg-type]
