"""The on-call pages in a real browser against the demo organisation: who is on call now,
and a schedule's timeline with its layers, overrides and final schedule."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import sign_in
from tests.e2e.server import demo_documents

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_who_is_on_call_and_a_schedule_timeline(page: Any) -> None:
    schedules = {d["metadata"]["name"]: d["spec"] for d in demo_documents("Schedule")}
    assert len(schedules) >= 2, "the demo organisation should have schedules"
    sign_in(page, "/oncall")
    expect(page.get_by_role("heading", name="Who is on call now", level=1)).to_be_visible()
    expect(page.locator("nav summary.active")).to_have_text("On-call")
    expect(page.locator("nav a.active")).to_have_text("Who is on call")
    rows = page.locator("#oncall-now tbody tr")
    expect(rows).to_have_count(len(schedules))
    for name, spec in schedules.items():
        row = rows.filter(has=page.get_by_role("link", name=name, exact=True))
        members = {u for layer in spec["layers"] for u in layer["users"]}
        on_call = row.locator("td.who-now a").inner_text().strip()
        assert on_call in members, (name, on_call)

    name = "payments-primary"
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    chart = page.get_by_role("table", name="Schedule timeline", exact=False)
    expect(chart).to_be_visible()
    for label in ("Layer weekdays", "Layer weekend", "Overrides", "Final schedule"):
        expect(chart.get_by_role("rowheader", name=label)).to_be_visible()
    final = page.locator(".tl-final .tl-bar")
    week_bars = final.count()
    assert week_bars >= 2
    # The final bars tile the week shown: their widths add up to the whole track.
    widths = final.evaluate_all("bars => bars.map(b => b.getBoundingClientRect().width)")
    track = page.locator(".tl-final .tl-track").evaluate("t => t.getBoundingClientRect().width")
    assert abs(sum(widths) - track) < 3, (sum(widths), track)
    expect(page.locator("#gaps")).to_have_text("Someone is on call the whole time shown.")

    page.get_by_role("link", name="28 days").click()
    expect(page).to_have_url(re.compile(r"days=28"))
    assert final.count() > week_bars
