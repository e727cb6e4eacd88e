"""Escalation policy pages through a signed-in session: the list, a policy's levels in
words with links to its people and schedules, the services using it, and escaping."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.escalation.helpers import person, policy, schedule, service
from tests.notify.receivers import Receiver
from tests.security.helpers import login, make_user
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
EVIL = "<script>alert(1)</script>"


def test_policy_list_and_detail(
    client: TestClient, receiver: Receiver, db: Database, clock: FakeClock
) -> None:
    admin = {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='a')}"}
    person(client, admin, "ada", receiver.url)
    person(client, admin, "bob", receiver.url)
    schedule(client, admin, "primary", ["bob"])
    policy(
        client,
        admin,
        "checkout-oncall",
        description=EVIL,
        repeat=1,
        ackTimeoutMinutes=45,
        levels=[
            {"targets": [{"type": "user", "name": "ada"}], "delayMinutes": 5},
            {
                "targets": [
                    {"type": "schedule", "name": "primary"},
                    {"type": "user", "name": "ada"},
                ],
                "roundRobin": True,
                "delayMinutes": 10,
            },
        ],
    )
    service(client, admin, "checkout-oncall")
    assert login(client, make_user(db, clock, Role.VIEWER)).status_code == 303

    listing = client.get("/escalation-policies")
    assert listing.status_code == 200
    assert 'href="/escalation-policies/checkout-oncall"' in listing.text
    assert EVIL not in listing.text and "&lt;script&gt;" in listing.text

    detail = client.get("/escalation-policies/checkout-oncall")
    assert detail.status_code == 200
    text = detail.text
    assert 'href="/users/ada"' in text and 'href="/oncall/schedules/primary"' in text
    assert "then wait 5 minutes for an acknowledgement" in text
    assert "one of, in turn," in text
    assert "45 minutes" in text and 'href="/services/checkout"' in text
    assert EVIL not in text

    svc = client.get("/services/checkout")
    assert 'href="/escalation-policies/checkout-oncall"' in svc.text
    assert client.get("/escalation-policies/nope").status_code == 404
