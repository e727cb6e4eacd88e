"""The pages under their Content-Security-Policy in a real browser: no violation reported
on the pages people use, and htmx (search, live refresh, load more) still works."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PAGES = [
    "/services",
    "/services/checkout-api",
    "/teams",
    "/users",
    "/incidents",
    "/alerts",
    "/silences",
    "/maintenance",
    "/oncall",
    "/oncall/health",
    "/escalation-policies",
    "/tokens",
    "/audit",
    "/audit/verify",
]


def _watch_violations(page: Any) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' "
        "+ e.blockedURI))"
    )
    return seen


def test_pages_raise_no_policy_violation_and_htmx_still_searches(page: Any) -> None:
    violations = _watch_violations(page)
    sign_in(page, "/services")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox", name="Filter").fill("api")
    expect(page.locator("#rows")).to_contain_text("api")
    for path in PAGES:
        resp = page.goto(path)
        assert resp is not None and resp.status < 500, path
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    expect(page).to_have_url(re.compile(r"/audit/verify$"))
    expect(page.get_by_text("Intact.")).to_be_visible()
    assert violations == []
