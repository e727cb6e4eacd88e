"""The On-call health page in a real browser against the demo organisation: reached from
the On-call page, a period picked in the form, the over-limit row highlighted.

identity-primary is a plain weekly rotation of four, handing over on Tuesday at 10:00 New
York time: hannah-price holds the week from 13 January 2026, 153 of its hours inside the
UTC week picked here, far over the default limit of 42 a week; olivia-tran hands over to
her that morning."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_week_with_someone_over_the_hours_limit(page: Any) -> None:
    sign_in(page, "/oncall")
    page.get_by_role("link", name="On-call health").click()
    expect(page.get_by_role("heading", name="On-call health", level=1)).to_be_visible()
    expect(page.locator("nav summary.active")).to_have_text("On-call")
    expect(page.locator("nav a.active")).to_have_text("On-call health")

    page.get_by_label("From").fill("2026-01-13")
    page.get_by_label("To (included)").fill("2026-01-19")
    page.get_by_label("Team").select_option("identity")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"from=2026-01-13&to=2026-01-19&team=identity"))

    people = page.locator("#health-people tbody tr")
    expect(people).to_have_count(4)  # every member of the team
    hannah = people.filter(has=page.get_by_role("link", name="hannah-price", exact=True))
    expect(hannah).to_have_class("over-limit")
    expect(hannah.locator(".warning")).to_have_text(
        re.compile(r"^153 hours on call, over the limit of 42 for this period$")
    )
    # highlighted: the row's cells are tinted, unlike a row within the limits
    tinted = hannah.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    olivia = people.filter(has=page.get_by_role("link", name="olivia-tran", exact=True))
    expect(olivia.locator(".warning")).to_have_count(0)
    plain = olivia.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert tinted != plain, (tinted, plain)

    teams = page.locator("#health-teams tbody tr")
    expect(teams).to_have_count(1)
    expect(teams.first.locator("td").last).to_have_text("1")  # members over a limit
    expect(page.locator("#csv")).to_have_attribute(
        "href", "/oncall/health.csv?from=2026-01-13&to=2026-01-19&team=identity"
    )
