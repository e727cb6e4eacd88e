"""The On-call health page through a signed-in session: the period picker in the
viewer's zone, warnings highlighted, team totals, the CSV download, linked from /oncall;
bad input as an error page; free text escaped (HTML) and defused (CSV)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.escalation.helpers import ok
from tests.notify.receivers import Receiver
from tests.oncall_health.week import PERIOD, live_the_week
from tests.security.helpers import login, make_user
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ops-admin')}"}


@pytest.fixture
def signed_in(
    client: TestClient, admin: dict[str, str], db: Database, clock: FakeClock, receiver: Receiver
) -> TestClient:
    live_the_week(client, admin, db, clock, receiver)
    assert login(client, make_user(db, clock, Role.VIEWER)).status_code == 303
    return client


def _row(html: str, user: str) -> str:
    found = re.search(rf'<tr[^>]*data-user="{user}">.*?</tr>', html, re.S)
    assert found, f"no row for {user}"
    return found[0]


def test_the_week_with_warnings_and_team_totals(signed_in: TestClient) -> None:
    assert 'href="/oncall/health"' in signed_in.get("/oncall").text
    page = signed_in.get("/oncall/health", params={"from": "2026-03-02", "to": "2026-03-08"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'value="2026-03-02"' in html and 'value="2026-03-08"' in html
    ada, bob, cleo = (_row(html, u) for u in ("ada", "bob", "cleo"))
    assert 'class="over-limit"' in ada and "168 hours on call, over the limit of 100" in ada
    assert 'class="over-limit"' in bob and "3 pages in sleep hours, over the limit of 2" in bob
    assert "over-limit" not in cleo and "warning" not in cleo
    assert re.search(r">67\.0<.*?>5<.*?>3<.*?>5<.*?>2<.*?2m 15s", bob, re.S)  # mtta 135 s
    assert "7m 00s" in cleo
    teams = re.search(r'<table id="health-teams">.*?</table>', html, re.S)
    assert teams and re.search(r'href="/teams/sre">sre</a>.*?>3<.*?>235\.0<', teams[0], re.S)
    link = re.search(r'<a id="csv" href="([^"]+)"', html)
    assert link and link[1] == "/oncall/health.csv?from=2026-03-02&amp;to=2026-03-08"


def test_csv_download_is_the_apis_csv(signed_in: TestClient, admin: dict[str, str]) -> None:
    page_csv = signed_in.get(
        "/oncall/health.csv", params={"from": "2026-03-02", "to": "2026-03-08", "team": "sre"}
    )
    assert page_csv.status_code == 200
    assert "oncall-health-sre-20260302-20260309.csv" in page_csv.headers["content-disposition"]
    api_csv = signed_in.get(
        "/api/v1/oncall/health.csv", params={**PERIOD, "team": "sre"}, headers=admin
    )
    assert page_csv.text == api_csv.text


def test_free_text_is_escaped_and_defused(signed_in: TestClient, admin: dict[str, str]) -> None:
    ok(signed_in.patch("/api/v1/users/ada", json={"fullName": EVIL}, headers=admin))
    html = signed_in.get("/oncall/health", params={"from": "2026-03-02", "to": "2026-03-08"}).text
    assert EVIL not in html and "&lt;script&gt;" in html
    formula = '=HYPERLINK("http://evil.example","x")'
    ok(signed_in.patch("/api/v1/users/ada", json={"fullName": formula}, headers=admin))
    text = signed_in.get("/oncall/health.csv", params={"from": "2026-03-02"}).text
    [ada] = [r for r in csv.DictReader(io.StringIO(text)) if r["user"] == "ada"]
    assert ada["full_name"] == "'" + formula


def test_default_period_and_bad_input(signed_in: TestClient) -> None:
    page = signed_in.get("/oncall/health")
    assert page.status_code == 200
    # the clock stands at Sunday 8 March 22:36 UTC: the 28 days up to and including it
    assert 'value="2026-02-09"' in page.text and 'value="2026-03-08"' in page.text
    for params, status, words in (
        ({"from": "March"}, 422, "from"),
        ({"from": "2026-03-09", "to": "2026-03-02"}, 422, "must be after from"),
        ({"from": "2024-01-01", "to": "2026-03-02"}, 422, "at most 366 days"),
        ({"team": "nobody-here"}, 422, "team &#39;nobody-here&#39; does not exist"),
    ):
        response = signed_in.get("/oncall/health", params=params)
        assert response.status_code == status and words in response.text, (params, response.text)


def test_signed_out_goes_to_the_login_page(client: TestClient) -> None:
    for path in ("/oncall/health", "/oncall/health.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
