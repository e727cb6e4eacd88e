"""`watchbill oncall ...` and the Schedule kind in apply/export: in-process with Typer's
runner, one real subprocess; the CLI reads the real clock, so instants are explicit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from typer.testing import CliRunner

from tests.cli.helpers import run
from tests.schedules.helpers import PEOPLE, primary

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def wb(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    from watchbill.app.cli import app
    from watchbill.settings import get_settings

    monkeypatch.setenv("WATCHBILL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WATCHBILL_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), result.exception
        return result.exit_code, result.stdout, result.stderr

    yield invoke
    get_settings.cache_clear()


def _docs() -> list[dict[str, object]]:
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "watchbill/v1",
            "kind": "User",
            "metadata": {"name": name},
            "spec": {"email": f"{name}@example.com", "timeZone": zone},
        }
        for name, zone in PEOPLE.items()
    ]
    docs.append(
        {
            "apiVersion": "watchbill/v1",
            "kind": "Team",
            "metadata": {"name": "payments"},
            "spec": {"members": list(PEOPLE)},
        }
    )
    docs.append(
        {
            "apiVersion": "watchbill/v1",
            "kind": "Schedule",
            "metadata": {"name": "primary"},
            "spec": primary(),
        }
    )
    return docs


@pytest.fixture
def applied(wb: Invoke, tmp_path: Path) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump_all(_docs(), sort_keys=False))
    code, out, err = wb("apply", "-f", str(path))
    assert code == 0, err
    assert "+ Schedule primary (created)" in out
    return path


def test_apply_export_round_trip(wb: Invoke, applied: Path, tmp_path: Path) -> None:
    code, out, _ = wb("export", "--kind", "Schedule")
    assert code == 0
    (doc,) = list(yaml.safe_load_all(out))
    assert doc["spec"]["layers"][0]["handoffTime"] == "09:00"
    assert 'startTime: "20:00"' in out or "startTime: '20:00'" in out  # quoted for YAML 1.1
    exported = tmp_path / "exported.yaml"
    exported.write_text(out)
    code, out, _ = wb("apply", "-f", str(exported))
    assert code == 0 and "1 unchanged" in out
    # Unquoted YAML dates and times come back as YAML's own types; they still apply.
    raw = applied.read_text().replace("'2026-03-02'", "2026-03-02")
    applied.write_text(raw)
    code, out, err = wb("apply", "-f", str(applied), "--dry-run")
    assert code == 0, err
    code, out, _ = wb("schedules", "list")
    assert "primary" in out and "Europe/Berlin" in out and "week, nights" in out


def test_apply_names_the_bad_field(wb: Invoke, applied: Path, tmp_path: Path) -> None:
    docs = _docs()
    spec = docs[-1]["spec"]
    assert isinstance(spec, dict)
    spec["layers"][0]["users"] = ["ann", "ghost"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    code, _, err = wb("apply", "-f", str(bad))
    assert code == 1
    assert "spec.layers.0.users.1" in err and "'ghost' does not exist" in err
    spec["layers"][0]["users"] = ["ann"]
    spec["layers"][1]["restrictions"][0]["startTime"] = 1020  # what YAML makes of 17:00
    bad.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    code, _, err = wb("apply", "-f", str(bad))
    assert code == 1 and "quoted string" in err


def test_now_shifts_gaps(wb: Invoke, applied: Path) -> None:
    code, out, _ = wb("oncall", "now", "--at", "2026-03-02T22:00:00+01:00", "--json")
    assert code == 0
    assert json.loads(out)["items"] == [
        {
            "schedule": "primary",
            "team": "payments",
            "at": "2026-03-02T21:00:00+00:00",
            "user": "cy",
            "until": None,
        }
    ]
    code, out, _ = wb("oncall", "now", "-s", "primary", "--at", "2026-03-09T10:00:00+01:00")
    assert code == 0 and "bob" in out and "primary" in out
    code, out, _ = wb(
        "oncall", "shifts", "-s", "primary", "--from", "2026-03-02", "--to", "+1d", "--json"
    )
    assert code == 0
    # Midnight Berlin is 23:00 UTC. Cy's nights layer starts at midnight, inside a window
    # that opened the evening before; the week layer starts at its 09:00 handoff.
    assert [(s["user"], s["start"], s["end"]) for s in json.loads(out)] == [
        ("cy", "2026-03-01T23:00:00+00:00", "2026-03-02T05:00:00+00:00"),
        ("ann", "2026-03-02T08:00:00+00:00", "2026-03-02T19:00:00+00:00"),
        ("cy", "2026-03-02T19:00:00+00:00", "2026-03-02T23:00:00+00:00"),
    ]
    code, out, _ = wb("oncall", "shifts", "-s", "primary", "--from", "2026-03-02", "--to", "+1d")
    assert "Mon 2026-03-02 20:00 CET" in out
    code, out, _ = wb("oncall", "gaps", "-s", "primary", "--from", "2026-03-01", "--to", "+2d")
    assert code == 3 and "Mon 2026-03-02 06:00 CET" in out  # before the first handoff
    code, out, _ = wb("oncall", "gaps", "-s", "primary", "--from", "2026-03-03", "--to", "+30d")
    assert code == 0 and "covered" in out
    code, _, err = wb("oncall", "gaps", "-s", "primary", "--from", "2026-03-03", "--to", "+400d")
    assert code == 1 and "one year" in err
    code, _, err = wb(
        "oncall", "shifts", "-s", "primary", "--from", "2026-03-03", "--to", "2026-03-01"
    )
    assert code == 1 and "must be after from" in err
    code, _, err = wb("oncall", "shifts", "-s", "nope")
    assert code == 1 and "does not exist" in err


def test_overrides_and_feed(wb: Invoke, applied: Path, tmp_path: Path) -> None:
    code, out, err = wb(
        "oncall", "override", "-s", "primary", "-u", "dee", "--from", "now", "--to", "+2h"
    )
    assert code == 0, err
    ident = out.split()[1].rstrip(":")
    code, out, _ = wb("oncall", "now", "-s", "primary", "--json")
    assert json.loads(out)["user"] == "dee"
    code, out, _ = wb("oncall", "overrides", "-s", "primary", "--json")
    assert [o["user"] for o in json.loads(out)] == ["dee"]
    code, _, err = wb(
        "oncall", "override", "-s", "primary", "-u", "ghost", "--from", "now", "--to", "+2h"
    )
    assert code == 1 and "'ghost' does not exist" in err
    code, _, err = wb(
        "oncall", "override", "-s", "primary", "-u", "dee", "--from", "now", "--to", "2020-01-01"
    )
    assert code == 1 and "after start" in err
    code, out, _ = wb("oncall", "override-delete", "-s", "primary", ident)
    assert code == 0
    code, out, _ = wb("oncall", "overrides", "-s", "primary", "--json")
    assert json.loads(out) == []

    code, out, err = wb("oncall", "feed", "-s", "primary")
    assert code == 0 and "shown only now" in err
    assert out.strip().startswith("http") and "/ical/wbcal_" in out
    code, _, err = wb("oncall", "feed")
    assert code == 1 and "--schedule or --user" in err
    code, out, _ = wb("oncall", "feed", "-u", "ann", "--revoke")
    assert code == 1


def test_the_operator_records_a_past_swap_marked_everywhere(wb: Invoke, applied: Path) -> None:
    # The command line acts as the owner, who may write a past swap down (the real clock
    # is past March 2026): on 3 March dee covered ann from 10:00 to 13:00 Berlin.
    code, out, err = wb(
        "oncall",
        "override",
        "-s",
        "primary",
        "-u",
        "dee",
        "--from",
        "2026-03-03T10:00:00+01:00",
        "--to",
        "+3h",
    )
    assert code == 0, err
    assert out.rstrip().endswith("to Tue 2026-03-03 13:00 CET (entered after the fact)")
    day = ("--from", "2026-03-03", "--to", "+1d")
    code, out, _ = wb("oncall", "overrides", "-s", "primary", *day)
    assert code == 0 and "ENTERED" in out and "after the fact" in out
    code, out, _ = wb("oncall", "overrides", "-s", "primary", *day, "--json")
    assert [(o["user"], o["enteredAfterTheFact"]) for o in json.loads(out)] == [("dee", True)]
    code, out, _ = wb("oncall", "shifts", "-s", "primary", *day)
    assert "override (entered after the fact)" in out
    code, out, _ = wb("oncall", "shifts", "-s", "primary", *day, "--json")
    assert [(s["user"], s["source"], s["enteredAfterTheFact"]) for s in json.loads(out)] == [
        ("cy", "nights", False),
        ("ann", "week", False),
        ("dee", "override", True),
        ("ann", "week", False),
        ("cy", "nights", False),
    ]


def test_recipes_print_yaml_that_applies(wb: Invoke, applied: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "sun.yaml"
    code, _, err = wb(
        "oncall",
        "recipe",
        "follow-the-sun",
        "--name",
        "sun",
        "--start",
        "2026-03-02",
        "--region",
        "apac=dee@22:00-06:00",
        "--region",
        "emea=ann,cy@06:00-14:00",
        "--region",
        "amer=bob@14:00-22:00",
        "-o",
        str(out_file),
    )
    assert code == 0 and "every hour of the first year is covered" in err
    code, out, err = wb("apply", "-f", str(out_file))
    assert code == 0 and "+ Schedule sun (created)" in out
    code, out, err = wb(
        "oncall",
        "recipe",
        "follow-the-sun",
        "--name",
        "sun",
        "--start",
        "2026-03-02",
        "--region",
        "apac=dee@22:00-06:00",
        "--region",
        "emea=ann@06:00-13:00",
    )
    assert code == 3 and "gap(s)" in err and "kind: Schedule" in out
    code, _, err = wb(
        "oncall",
        "recipe",
        "follow-the-sun",
        "--name",
        "x",
        "--start",
        "2026-03-02",
        "--region",
        "apac=dee",
    )
    assert code == 1 and "--region.0" in err
    code, out, err = wb(
        "oncall",
        "recipe",
        "weekday-weekend",
        "--name",
        "split",
        "--start",
        "2026-03-02",
        "--weekday",
        "ann,bob",
        "--weekend",
        "cy,dee",
        "--time-zone",
        "Europe/Berlin",
    )
    assert code == 0 and "covered" in err
    assert yaml.safe_load(out)["spec"]["layers"][1]["restrictions"][0]["startDay"] == "friday"


def test_subprocess_feed_is_a_calendar(db_url: str, tmp_path: Path, applied: Path) -> None:
    """The real command end to end: a feed URL whose calendar the server would serve."""
    result = run("oncall", "now", "--json", data_dir=tmp_path, database_url=db_url)
    assert result.code == 0 and "Traceback" not in result.err
    assert [i["schedule"] for i in json.loads(result.out)["items"]] == ["primary"]
    result = run("oncall", "feed", "-s", "primary", data_dir=tmp_path, database_url=db_url)
    assert result.code == 0
    secret = result.out.strip().rsplit("/", 1)[1].removesuffix(".ics")
    from fastapi.testclient import TestClient

    from watchbill.app.web import create_app
    from watchbill.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, database_url=db_url), run_worker=False)
    with TestClient(app) as client:
        resp = client.get(f"/ical/{secret}.ics")
    assert resp.status_code == 200
    assert Calendar.from_ical(resp.content).walk("VEVENT")
