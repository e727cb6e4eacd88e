"""The incident page's notifications section and the user page's rules, signed in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.notify.helpers import make_incident, make_user, page, work
from tests.security.helpers import login
from tests.security.helpers import make_user as make_login_user
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.settings import Settings

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_incident_page_lists_deliveries_and_user_page_shows_rules(
    client: TestClient, db: Database, clock: FakeClock, settings: Settings
) -> None:
    make_user(
        db,
        clock,
        "ada",
        [("mail", "email", "ada@example.com"), ("sms", "sms", "+1555")],
        {
            "high": [{"contactMethod": "mail"}, {"contactMethod": "sms", "delayMinutes": 5}],
            "lowUrgencyWorkingHoursOnly": True,
        },
    )
    iid = make_incident(db, clock)
    page(db, clock, iid, "ada")
    work(db, clock)
    assert login(client, make_login_user(db, clock, Role.VIEWER)).status_code == 303

    html = client.get(f"/incidents/{iid}").text
    assert 'id="notifications"' in html
    assert "email (mail)" in html and "sms (sms)" in html
    assert "sent" in html and "queued" in html
    assert "notification.queued" in html

    user = client.get("/users/ada").text
    assert "mail after 0 min, sms after 5 min" in user
    assert "waits for working hours: 09:00" in user and "18:00, days 1, 2, 3, 4, 5" in user
