"""Integration keys: generated or given, unique across services, rotated, and listed with
the URL each sender posts to (API and CLI)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.cli.helpers import COMMAND
from tests.conftest import OWNER, START
from tests.intake.helpers import ALL_TYPES, pd_event, put_service, rows
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.app.web import create_app
from watchbill.audit.models import AuditEvent
from watchbill.catalog.resources import SERVICES
from watchbill.catalog.schemas import IntegrationSpec, ServiceSpec
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.integrations.models import Integration
from watchbill.resources import service as resources
from watchbill.settings import Settings

HEX32 = re.compile(r"[0-9a-f]{32}")
GIVEN = "migrated-from-pagerduty-0123456789"


def test_keys_are_generated_when_absent(client, admin, db):
    keys = put_service(client, admin)
    assert set(keys) == {"pd", "am", "gen", "hb"}
    assert all(HEX32.fullmatch(k) for k in keys.values()), keys
    assert len(set(keys.values())) == 4
    assert {r["name"]: r["key"] for r in rows(db, "integrations")} == keys

    # a PUT that leaves the keys out keeps them
    assert put_service(client, admin) == keys


def test_a_given_key_is_kept_and_works(client, admin, db):
    keys = put_service(
        client, admin, integrations=[{"name": "pd", "type": "events-v2", "key": GIVEN}]
    )
    assert keys == {"pd": GIVEN}
    response = client.post("/v2/enqueue", json=pd_event(GIVEN, dedup_key="k"))
    assert response.status_code == 202
    assert len(rows(db, "alerts")) == 1


def test_a_key_used_by_another_service_is_refused_naming_the_field(client, admin, db):
    put_service(
        client, admin, "one", integrations=[{"name": "pd", "type": "events-v2", "key": GIVEN}]
    )
    response = client.put(
        "/api/v1/services/two",
        json={
            "integrations": [
                {"name": "mine", "type": "generic"},
                {"name": "stolen", "type": "events-v2", "key": GIVEN},
            ]
        },
        headers=admin,
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {"pointer": "#/integrations/1/key", "detail": "already used by service 'one'"}
    ]
    assert [r["name"] for r in rows(db, "services")] == ["one"]
    assert [(r["name"], r["key"]) for r in rows(db, "integrations")] == [("pd", GIVEN)]


def test_invalid_keys_are_refused(client, admin, db):
    cases = [
        ([{"name": "a", "type": "generic", "key": "short"}], "#/integrations/0/key"),
        (
            [{"name": "a", "type": "generic", "key": "has spaces in it 1234"}],
            "#/integrations/0/key",
        ),
        ([{"name": "a", "type": "generic", "key": "k" * 65}], "#/integrations/0/key"),
        (
            [
                {"name": "a", "type": "generic", "key": GIVEN},
                {"name": "b", "type": "generic", "key": GIVEN},
            ],
            "#/integrations",
        ),
        ([{"name": "a", "type": "heartbeat"}], "#/integrations/0"),
        ([{"name": "a", "type": "generic", "intervalSeconds": 60}], "#/integrations/0"),
        (
            [{"name": "a", "type": "heartbeat", "intervalSeconds": 5}],
            "#/integrations/0/intervalSeconds",
        ),
        ([{"name": "a", "type": "webhook"}], "#/integrations/0/type"),
        (
            [{"name": "a", "type": "generic"}, {"name": "a", "type": "alertmanager"}],
            "#/integrations",
        ),
    ]
    for integrations, pointer in cases:
        response = client.put(
            "/api/v1/services/svc", json={"integrations": integrations}, headers=admin
        )
        assert response.status_code == 422, (integrations, response.text)
        assert pointer in [e.get("pointer") for e in response.json()["errors"]], response.text
    assert rows(db, "integrations") == []


def test_rotation_invalidates_the_old_key(client, admin, db, clock):
    keys = put_service(client, admin)
    old = keys["pd"]
    response = client.post("/api/v1/services/checkout/integrations/pd/rotate", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    new = body["key"]
    assert HEX32.fullmatch(new) and new != old
    assert body == {
        "service": "checkout",
        "name": "pd",
        "type": "events-v2",
        "key": new,
        "url": "http://127.0.0.1:8080/v2/enqueue",
        "intervalSeconds": None,
        "lastEventAt": None,
    }

    refused = client.post("/v2/enqueue", json=pd_event(old, dedup_key="k"))
    assert refused.status_code == 400
    assert refused.json()["message"] == "Invalid routing key"
    assert rows(db, "alerts") == []
    assert client.post("/v2/enqueue", json=pd_event(new, dedup_key="k")).status_code == 202
    assert len(rows(db, "alerts")) == 1

    # the other integrations keep their keys; a later PUT without keys keeps the new one
    assert put_service(client, admin) == {**keys, "pd": new}

    # the audit trail names the rotation but holds no more than a prefix of either key
    with db.read() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "integration.rotate")
        ).all()
    assert event.object_id == "checkout/pd"
    assert event.actor == "token:ci-admin"
    assert event.before == {"keyPrefix": old[:6]}
    assert event.after == {"keyPrefix": new[:6]}


def test_rotation_of_a_url_key(client, admin, db):
    keys = put_service(client, admin)
    response = client.post("/api/v1/services/checkout/integrations/hb/rotate", headers=admin)
    new = response.json()["key"]
    assert response.json()["url"] == f"http://127.0.0.1:8080/integrations/{new}/heartbeat"
    assert client.get(f"/integrations/{keys['hb']}/heartbeat").status_code == 400
    assert client.get(f"/integrations/{new}/heartbeat").status_code == 202


def test_rotation_needs_admin_and_an_existing_integration(client, admin, db, clock, token_for):
    keys = put_service(client, admin)
    url = "/api/v1/services/checkout/integrations/pd/rotate"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=token_for(Role.RESPONDER)).status_code == 403
    assert client.post(url, headers=token_for(Role.VIEWER)).status_code == 403
    assert put_service(client, admin) == keys  # unchanged
    missing = client.post("/api/v1/services/checkout/integrations/nope/rotate", headers=admin)
    assert missing.status_code == 404
    assert (
        client.post("/api/v1/services/nope/integrations/pd/rotate", headers=admin).status_code
        == 404
    )


def test_removing_an_integration_revokes_its_key(client, admin, db):
    keys = put_service(client, admin)
    put_service(client, admin, integrations=[i for i in ALL_TYPES if i["name"] != "gen"])
    response = client.post(
        f"/integrations/{keys['gen']}/events", json={"dedupKey": "k", "summary": "s"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid routing key"


def test_the_list_shows_full_urls_per_type(settings, db, clock, admin):
    tuned = Settings(**{**settings.model_dump(), "base_url": "https://watchbill.example.com/"})
    with TestClient(create_app(tuned, db=db, clock=clock, run_worker=False)) as client:
        keys = put_service(client, admin)
        other = put_service(
            client, admin, "billing", integrations=[{"name": "pd", "type": "events-v2"}]
        )
        clock.advance(minutes=1)
        client.get(f"/integrations/{keys['hb']}/heartbeat")

        response = client.get("/api/v1/integrations", headers=admin)
        assert response.status_code == 200
        listed = response.json()
        base = "https://watchbill.example.com"  # the trailing slash is dropped
        assert listed == [
            {
                "service": "billing",
                "name": "pd",
                "type": "events-v2",
                "key": other["pd"],
                "url": f"{base}/v2/enqueue",
                "intervalSeconds": None,
                "lastEventAt": None,
            },
            {
                "service": "checkout",
                "name": "am",
                "type": "alertmanager",
                "key": keys["am"],
                "url": f"{base}/integrations/{keys['am']}/alertmanager",
                "intervalSeconds": None,
                "lastEventAt": None,
            },
            {
                "service": "checkout",
                "name": "gen",
                "type": "generic",
                "key": keys["gen"],
                "url": f"{base}/integrations/{keys['gen']}/events",
                "intervalSeconds": None,
                "lastEventAt": None,
            },
            {
                "service": "checkout",
                "name": "hb",
                "type": "heartbeat",
                "key": keys["hb"],
                "url": f"{base}/integrations/{keys['hb']}/heartbeat",
                "intervalSeconds": 60,
                "lastEventAt": "2026-03-02T09:01:00+00:00",
            },
            {
                "service": "checkout",
                "name": "pd",
                "type": "events-v2",
                "key": keys["pd"],
                "url": f"{base}/v2/enqueue",
                "intervalSeconds": None,
                "lastEventAt": None,
            },
        ]
        only = client.get("/api/v1/integrations?service=billing", headers=admin).json()
        assert [(i["service"], i["name"]) for i in only] == [("billing", "pd")]
        assert client.get("/api/v1/integrations?service=nope", headers=admin).json() == []
        assert client.get("/api/v1/integrations").status_code == 401


# ---------------------------------------------------------------- the CLI


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env.update(
        WATCHBILL_DATA_DIR=str(data_dir),
        WATCHBILL_BASE_URL="https://wb.example.com",
        WATCHBILL_LOG_LEVEL="warning",
    )
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_cli_lists_and_rotates_integrations(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'watchbill.db'}"
    migrations().upgrade(url)
    db = Database(url, pool_size=1)
    try:
        with db.transaction() as session:
            spec = ServiceSpec(
                integrations=[
                    IntegrationSpec(name="am", type="alertmanager"),
                    IntegrationSpec(name="pd", type="events-v2", key=GIVEN),
                    IntegrationSpec(name="cron", type="heartbeat", interval_seconds=3600),
                ]
            )
            resources.put(Ctx(session, OWNER, FakeClock(START)), SERVICES, "payments", spec)
        with db.read() as session:
            keys = dict(session.execute(select(Integration.name, Integration.key)).all())
    finally:
        db.dispose()
    assert HEX32.fullmatch(keys["am"]) and HEX32.fullmatch(keys["cron"])

    rotated = cli(data_dir, "integrations", "rotate", "payments", "am")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert HEX32.fullmatch(new) and new != keys["am"]

    listed = cli(data_dir, "integrations", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    base = "https://wb.example.com"
    assert json.loads(listed.stdout) == [
        {
            "service": "payments",
            "name": "am",
            "type": "alertmanager",
            "key": new,
            "url": f"{base}/integrations/{new}/alertmanager",
            "intervalSeconds": None,
            "lastEventAt": None,
        },
        {
            "service": "payments",
            "name": "cron",
            "type": "heartbeat",
            "key": keys["cron"],
            "url": f"{base}/integrations/{keys['cron']}/heartbeat",
            "intervalSeconds": 3600,
            "lastEventAt": None,
        },
        {
            "service": "payments",
            "name": "pd",
            "type": "events-v2",
            "key": GIVEN,
            "url": f"{base}/v2/enqueue",
            "intervalSeconds": None,
            "lastEventAt": None,
        },
    ]
