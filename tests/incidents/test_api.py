"""/api/v1/incidents: roles, problem+json errors, and every action over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.incidents.helpers import event, fire, make_service, make_user, snapshot
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock

TokenFor = Callable[[Role], dict[str, str]]
PROBLEM = "application/problem+json"
BASE = "/api/v1/incidents"


def _problem(resp: Any, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = resp.json()
    assert body["status"] == status and body["detail"]
    return body


def _incidents(db: Database, clock: FakeClock, n: int) -> list[int]:
    sid = make_service(db, clock)
    outcomes = fire(db, clock, sid, *(event(f"alert-{i}") for i in range(n)))
    return [o.incident_id for o in outcomes if o.incident_id is not None]


def test_read_list_detail_timeline_and_alerts_as_a_viewer(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    ids = _incidents(db, clock, 5)
    viewer = token_for(Role.VIEWER)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(BASE, params=params, headers=viewer)
        assert page.status_code == 200, page.text
        seen.extend(i["id"] for i in page.json()["items"])
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    item = client.get(BASE, headers=viewer).json()["items"][0]
    assert {"status", "severity", "priority", "urgency", "service", "suppressed"} <= set(item)
    assert (item["service"], item["severity"], item["urgency"]) == ("checkout", "SEV1", "high")

    detail = client.get(f"{BASE}/{ids[0]}", headers=viewer).json()
    assert detail["timeline"]["items"][0]["kind"] == "incident.triggered"
    assert detail["alerts"]["items"][0]["dedupKey"] == "alert-0"
    timeline = client.get(f"{BASE}/{ids[0]}/timeline", params={"limit": 1}, headers=viewer)
    assert timeline.status_code == 200 and timeline.json()["nextCursor"]
    rest = client.get(
        f"{BASE}/{ids[0]}/timeline",
        params={"cursor": timeline.json()["nextCursor"]},
        headers=viewer,
    ).json()["items"]
    assert [e["kind"] for e in timeline.json()["items"] + rest] == [
        e["kind"] for e in detail["timeline"]["items"]
    ]
    alerts = client.get(f"{BASE}/{ids[0]}/alerts", headers=viewer).json()
    assert [a["summary"] for a in alerts["items"]] == ["alert-0 is failing"]

    filtered = client.get(BASE, params={"status": "triggered,acknowledged"}, headers=viewer)
    assert len(filtered.json()["items"]) == 5


def test_actions_need_the_responder_role(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    (iid,) = _incidents(db, clock, 1)
    viewer, responder = token_for(Role.VIEWER), token_for(Role.RESPONDER)
    before = snapshot(db, iid)
    actions: list[tuple[str, Any]] = [
        ("acknowledge", None),
        ("resolve", None),
        ("reopen", None),
        ("notes", {"text": "hi"}),
        ("assign", {"add": ["ada"]}),
        ("merge", {"sources": [iid + 1]}),
        ("split", {"alertIds": [1]}),
    ]
    for path, body in actions:
        _problem(client.post(f"{BASE}/{iid}/{path}", json=body, headers=viewer), 403)
    _problem(client.patch(f"{BASE}/{iid}", json={"severity": "SEV2"}, headers=viewer), 403)
    _problem(client.post(f"{BASE}/{iid}/acknowledge"), 401)
    assert snapshot(db, iid) == before

    ack = client.post(f"{BASE}/{iid}/acknowledge", headers=responder)
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = client.post(f"{BASE}/{iid}/acknowledge", headers=responder)
    assert again.status_code == 200 and again.json() == ack.json()
    assert client.post(f"{BASE}/{iid}/resolve", headers=responder).json()["status"] == "resolved"
    before = snapshot(db, iid)
    refused = _problem(client.post(f"{BASE}/{iid}/acknowledge", headers=responder), 409)
    assert "resolved" in str(refused["detail"])
    assert snapshot(db, iid) == before
    assert client.post(f"{BASE}/{iid}/reopen", headers=responder).json()["status"] == "triggered"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_ids_and_bodies_are_clear_4xx_and_change_nothing(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    (iid,) = _incidents(db, clock, 1)
    h = token_for(Role.RESPONDER)
    _problem(client.get(f"{BASE}/{iid + 999}", headers=h), 404)
    _problem(client.post(f"{BASE}/{iid + 999}/acknowledge", headers=h), 404)
    _problem(client.get(f"{BASE}/{iid + 999}/timeline", headers=h), 404)
    _problem(client.get(f"{BASE}/{iid + 999}/alerts", headers=h), 404)
    _problem(client.get(f"{BASE}/not-a-number", headers=h), 422)
    _problem(client.get(f"{BASE}/0", headers=h), 422)
    _problem(client.get(BASE, params={"status": "open"}, headers=h), 422)
    _problem(client.get(BASE, params={"severity": "SEV9"}, headers=h), 422)
    _problem(client.get(BASE, params={"cursor": "garbage"}, headers=h), 422)
    _problem(client.get(BASE, params={"limit": 0}, headers=h), 422)

    before = snapshot(db, iid)
    bad = [
        ("post", "notes", {}),
        ("post", "notes", {"text": ""}),
        ("post", "notes", {"text": "   "}),
        ("post", "notes", {"text": "x", "extra": 1}),
        ("post", "notes", {"text": "nul\x00"}),
        ("post", "notes", {"text": "x" * 4001}),
        ("patch", "", {}),
        ("patch", "", {"severity": "SEV9"}),
        ("patch", "", {"severity": None}),
        ("patch", "", {"title": "two\nlines"}),
        ("patch", "", {"title": "   "}),
        ("patch", "", {"priority": "P0"}),
        ("post", "assign", {}),
        ("post", "assign", {"add": ["Not A Name"]}),
        ("post", "assign", {"add": ["nobody"]}),
        ("post", "assign", {"add": ["x"], "remove": ["x"]}),
        ("post", "merge", {"sources": []}),
        ("post", "merge", {"sources": [iid]}),
        ("post", "merge", {"sources": [0]}),
        ("post", "merge", {"sources": [5, 5]}),
        ("post", "split", {"alertIds": []}),
        ("post", "split", {"alertIds": [12345]}),
    ]
    for method, path, body in bad:
        url = f"{BASE}/{iid}/{path}".rstrip("/")
        resp = client.request(method.upper(), url, json=body, headers=h)
        _problem(resp, 422)
    resp = client.post(
        f"{BASE}/{iid}/notes",
        content=b"{not json",
        headers={**h, "content-type": "application/json"},
    )
    assert resp.status_code == 400
    _problem(client.post(f"{BASE}/{iid}/merge", json={"sources": [iid + 50]}, headers=h), 404)
    assert snapshot(db, iid) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_patch_note_assign_merge_split_over_http(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    a, b, c = _incidents(db, clock, 3)
    make_user(db, clock, "ada")
    h = token_for(Role.RESPONDER)

    patched = client.patch(
        f"{BASE}/{a}", json={"priority": "P2", "title": " New title "}, headers=h
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["priority"], patched.json()["title"]) == ("P2", "New title")
    cleared = client.patch(f"{BASE}/{a}", json={"priority": None}, headers=h).json()
    assert cleared["priority"] is None

    note = client.post(f"{BASE}/{a}/notes", json={"text": "<script>alert(1)</script>"}, headers=h)
    assert note.status_code == 201
    assert note.json()["kind"] == "note" and note.json()["actor"].startswith("token:")

    assigned = client.post(f"{BASE}/{a}/assign", json={"add": ["ada"]}, headers=h).json()
    assert assigned["assignees"] == ["ada"]
    assert [
        i["id"] for i in client.get(BASE, params={"assignee": "ada"}, headers=h).json()["items"]
    ] == [a]

    merged = client.post(f"{BASE}/{a}/merge", json={"sources": [b, c]}, headers=h)
    assert merged.status_code == 200, merged.text
    assert merged.json()["alertCount"] == 3
    assert client.get(f"{BASE}/{b}", headers=h).json()["mergedIntoId"] == a
    detail = client.get(f"{BASE}/{a}", headers=h).json()
    assert detail["mergedFrom"] == [b, c]

    alert_ids = [x["id"] for x in detail["alerts"]["items"]]
    split = client.post(f"{BASE}/{a}/split", json={"alertIds": alert_ids[:1]}, headers=h)
    assert split.status_code == 201, split.text
    assert split.json()["alertCount"] == 1 and split.json()["id"] > c
    assert client.get(f"{BASE}/{a}", headers=h).json()["alertCount"] == 2

    audit = client.get(
        "/api/v1/audit", params={"objectType": "Incident"}, headers=token_for(Role.ADMIN)
    ).json()["items"]
    actions = {e["action"] for e in audit}
    assert {
        "incident.update",
        "incident.note",
        "incident.assign",
        "incident.merge",
        "incident.merged_into",
        "incident.split",
        "incident.create",
    } <= actions
