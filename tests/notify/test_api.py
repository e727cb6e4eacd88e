"""Notification API, rules on the User, providers: the happy paths and bad input."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from tests.notify.conftest import SECRET
from tests.notify.helpers import make_incident, make_user, page, work
from tests.notify.receivers import Mailbox, http_receiver
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.notify.channels.webhook import destination_secret
from watchbill.settings import Settings


def pointers(response: Any, status: int = 422) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e.get("pointer") or e["parameter"] for e in response.json().get("errors", [])]


USER = {
    "email": "ada@example.com",
    "timeZone": "America/New_York",
    "contactMethods": [
        {"label": "mail", "type": "email", "address": "ada@example.com"},
        {"label": "sms", "type": "sms", "address": "+15550100123"},
    ],
    "notificationRules": {
        "high": [
            {"contactMethod": "sms", "delayMinutes": 0},
            {"contactMethod": "mail", "delayMinutes": 1},
        ],
        "low": [{"contactMethod": "mail", "delayMinutes": 0}],
        "lowUrgencyWorkingHoursOnly": True,
        "workingHours": {"start": "08:30", "end": "17:00", "days": [5, 1, 2, 3, 4]},
    },
}


def test_notification_rules_round_trip_and_are_validated(
    client: TestClient, token_for: Any, settings: Settings
) -> None:
    admin = token_for(Role.ADMIN)
    created = client.post("/api/v1/users", json={"name": "ada", **USER}, headers=admin)
    assert created.status_code == 201, created.text
    rules = client.get("/api/v1/users/ada", headers=admin).json()["notificationRules"]
    assert rules["workingHours"]["days"] == [1, 2, 3, 4, 5]
    assert rules["high"][1] == {"contactMethod": "mail", "delayMinutes": 1}
    # Round trip: putting back what was read changes nothing.
    again = client.put(
        "/api/v1/users/ada", json={**USER, "notificationRules": rules}, headers=admin
    )
    assert again.status_code == 200

    bad_label = {**USER, "notificationRules": {"high": [{"contactMethod": "pager"}]}}
    assert pointers(client.put("/api/v1/users/ada", json=bad_label, headers=admin)) == [
        "#/notificationRules/high/0/contactMethod"
    ]
    bad_delay = {
        **USER,
        "notificationRules": {"low": [{"contactMethod": "mail", "delayMinutes": 1441}]},
    }
    assert pointers(client.put("/api/v1/users/ada", json=bad_delay, headers=admin)) == [
        "#/notificationRules/low/0/delayMinutes"
    ]
    backwards = {**USER, "notificationRules": {"workingHours": {"start": "18:00", "end": "09:00"}}}
    assert pointers(client.put("/api/v1/users/ada", json=backwards, headers=admin)) == [
        "#/notificationRules/workingHours"
    ]
    bad_time = {**USER, "notificationRules": {"workingHours": {"start": "9am"}}}
    assert pointers(client.put("/api/v1/users/ada", json=bad_time, headers=admin)) == [
        "#/notificationRules/workingHours/start"
    ]
    # A contact method still named by a rule cannot be removed.
    dropped = {**USER, "contactMethods": USER["contactMethods"][:1]}
    assert pointers(client.put("/api/v1/users/ada", json=dropped, headers=admin)) == [
        "#/notificationRules/high/0/contactMethod"
    ]
    assert client.get("/api/v1/users/ada", headers=admin).json()["notificationRules"] == rules


def test_incident_delivery_log(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient, token_for: Any
) -> None:
    make_user(db, clock, "ada", [("mail", "email", "ada@example.com")])
    iid = make_incident(db, clock)
    [did] = page(db, clock, iid, "ada")
    work(db, clock)
    viewer = token_for(Role.VIEWER)
    got = client.get(f"/api/v1/incidents/{iid}/notifications", headers=viewer)
    assert got.status_code == 200
    [item] = got.json()["items"]
    assert (item["id"], item["user"], item["channel"], item["status"]) == (
        did,
        "ada",
        "email",
        "sent",
    )
    assert [(a["number"], a["ok"], a["responseCode"]) for a in item["log"]] == [(1, True, 250)]

    assert client.get(f"/api/v1/incidents/{iid}/notifications").status_code == 401
    assert client.get("/api/v1/incidents/999/notifications", headers=viewer).status_code == 404
    assert pointers(client.get("/api/v1/incidents/0/notifications", headers=viewer))


def test_notify_test_sends_now_and_refuses_bad_input(
    db: Database,
    clock: FakeClock,
    settings: Settings,
    client: TestClient,
    token_for: Any,
    smtp: tuple[int, Mailbox],
) -> None:
    make_user(db, clock, "ada", [("mail", "email", "ada@example.com"), ("sms", "sms", "+1555")])
    make_user(db, clock, "bob", [])
    admin = token_for(Role.ADMIN)
    sent = client.post(
        "/api/v1/users/ada/notify-test", json={"contactMethod": "mail"}, headers=admin
    )
    assert sent.status_code == 200, sent.text
    [item] = sent.json()["items"]
    assert (item["status"], item["incidentId"], item["attempts"]) == ("sent", None, 1)
    [mail] = smtp[1].messages
    assert mail["Subject"] == "[Watchbill] Watchbill test notification for ada"

    # Without a provider, SMS fails at once and says why.
    both = client.post("/api/v1/users/ada/notify-test", headers=admin).json()["items"]
    assert [(i["contactMethod"], i["status"]) for i in both] == [
        ("mail", "sent"),
        ("sms", "failed"),
    ]
    assert "no NotificationProvider carries sms" in both[1]["lastError"]

    url = "/api/v1/users/ada/notify-test"
    assert client.post(url, json={"contactMethod": "pager"}, headers=admin).status_code == 422
    assert pointers(client.post(url, json={"contactMethod": "Bad Label"}, headers=admin))
    assert pointers(client.post(url, json={"extra": 1}, headers=admin))
    assert client.post("/api/v1/users/nobody/notify-test", headers=admin).status_code == 404
    assert pointers(client.post("/api/v1/users/bob/notify-test", headers=admin)) == [
        "#/contactMethod"
    ]
    assert client.post(url, headers=token_for(Role.RESPONDER)).status_code == 403
    assert client.post(url).status_code == 401
    assert len(smtp[1].messages) == 2


def test_signing_secret_for_webhook_contact_methods(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient, token_for: Any
) -> None:
    make_user(
        db,
        clock,
        "ada",
        [("hook", "webhook", "https://hooks.example.com/a"), ("mail", "email", "a@example.com")],
    )
    admin = token_for(Role.ADMIN)
    got = client.get("/api/v1/users/ada/contact-methods/hook/signing-secret", headers=admin)
    assert got.status_code == 200
    expected = destination_secret(SECRET.encode(), "ada", "hook", "https://hooks.example.com/a")
    assert got.json() == {"user": "ada", "contactMethod": "hook", "secret": expected}
    assert expected.startswith("whsec_")
    base = "/api/v1/users/ada/contact-methods"
    assert client.get(f"{base}/mail/signing-secret", headers=admin).status_code == 422
    assert client.get(f"{base}/nope/signing-secret", headers=admin).status_code == 404
    assert (
        client.get(f"{base}/hook/signing-secret", headers=token_for(Role.RESPONDER)).status_code
        == 403
    )


PROVIDER = {
    "contactTypes": ["sms"],
    "url": "",
    "format": "form",
    "form": {
        "To": "{{ address }}",
        "From": "+15550000000",
        "Body": "{{ headline }} ack: {{ links.acknowledge }}",
    },
    "headers": {"X-Account": "AC123"},
    "secretHeaders": {"Authorization": "WATCHBILL_TEST_SMS_AUTH"},
}


def test_sms_through_a_provider_template(
    db: Database,
    clock: FakeClock,
    settings: Settings,
    client: TestClient,
    token_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = token_for(Role.ADMIN)
    monkeypatch.setenv("WATCHBILL_TEST_SMS_AUTH", "Basic c2VjcmV0")
    with http_receiver() as sms:
        body = {**PROVIDER, "url": sms.url}
        made = client.put("/api/v1/notification-providers/twilio", json=body, headers=admin)
        assert made.status_code in (200, 201), made.text
        make_user(db, clock, "ada", [("phone", "sms", "+15550100123")])
        iid = make_incident(db, clock)
        page(db, clock, iid, "ada")
        assert work(db, clock) == 1
    [req] = sms.requests
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (req.headers["Authorization"], req.headers["X-Account"]) == ("Basic c2VjcmV0", "AC123")
    form = parse_qs(req.body.decode())
    assert form["To"] == ["+15550100123"]
    assert form["Body"][0].startswith(f"[SEV1] #{iid} checkout is down")
    assert "/act/" in form["Body"][0]

    # Bad provider definitions are refused and change nothing.
    url = "/api/v1/notification-providers/other"
    second = {**body, "contactTypes": ["sms", "phone"]}
    assert pointers(client.put(url, json=second, headers=admin)) == ["#/contactTypes"]
    broken = {**body, "contactTypes": ["phone"], "form": {"Body": "{{ headline"}}
    assert pointers(client.put(url, json=broken, headers=admin)) == ["#/form"]
    mixed = {**body, "contactTypes": ["phone"], "body": "{{ text }}"}
    assert pointers(client.put(url, json=mixed, headers=admin))
    email = {**body, "contactTypes": ["email"]}
    assert pointers(client.put(url, json=email, headers=admin)) == ["#/contactTypes"]
    assert client.get(url, headers=admin).status_code == 404
    assert (
        client.put(
            url, json={**body, "contactTypes": ["phone"]}, headers=token_for(Role.RESPONDER)
        ).status_code
        == 403
    )
