"""The pages in a real browser: sign-in, the demo catalog, HTMX search, tokens, audit,
sign-out, the phone layout, and escaping of hostile text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OWNER, PASSWORD, XSS_SERVICE
from tests.e2e.server import Server, demo_documents

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def demo_services() -> dict[str, dict[str, Any]]:
    services = {d["metadata"]["name"]: d["spec"] for d in demo_documents("Service")}
    assert len(services) >= 5, "the demo organisation should have services"
    return services


def all_services() -> dict[str, dict[str, Any]]:
    spec = {k: v for k, v in XSS_SERVICE.items() if k != "name"}
    return {**demo_services(), XSS_SERVICE["name"]: spec}


def listed_names(page: Any) -> set[str]:
    return set(page.locator("#rows td:first-child .sub").all_inner_texts())


def sign_in(page: Any, next_path: str = "/services") -> None:
    """Open a page signed out, get sent to the login form, sign in, land on the page."""
    page.goto(next_path)
    expect(page).to_have_url(re.compile(rf"/login\?next={re.escape(next_path)}$"))
    page.get_by_label("Name or email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^https?://[^/]+{re.escape(next_path)}$"))


def test_sign_in_lands_on_the_requested_page_listing_the_demo_services(page: Any) -> None:
    sign_in(page, "/services")
    expect(page.get_by_role("heading", name="Services", level=1)).to_be_visible()
    expect(page.locator("#rows td:first-child .sub")).to_have_count(len(all_services()))
    assert listed_names(page) == set(all_services())
    for spec in demo_services().values():
        if spec.get("displayName"):
            expect(
                page.locator("#rows").get_by_text(spec["displayName"], exact=True)
            ).to_be_visible()
    expect(page.locator("nav a.active")).to_have_text("Services")


def _search_term(services: dict[str, dict[str, Any]]) -> tuple[str, set[str]]:
    """A word from the demo's service names that matches some services but not all."""

    def matches(term: str) -> set[str]:
        return {
            n
            for n, s in services.items()
            if term in n.lower() or term in str(s.get("displayName", "")).lower()
        }

    for name in sorted(services):
        for word in name.split("-"):
            hits = matches(word)
            if len(word) >= 3 and 1 < len(hits) < len(services):
                return word, hits
    first = sorted(services)[0]
    return first, matches(first)


def test_search_box_narrows_the_list_without_reloading(page: Any) -> None:
    sign_in(page, "/services")
    services = all_services()
    term, expected = _search_term(services)
    assert 0 < len(expected) < len(services)
    search = page.get_by_role("searchbox", name="Filter")
    page.evaluate("window.__sameDocument = true")  # gone if the page were reloaded

    with page.expect_request(
        lambda r: f"q={term}" in r.url and r.headers.get("hx-request") == "true"
    ):
        search.fill(term)
    rows = page.locator("#rows td:first-child .sub")
    expect(rows).to_have_count(len(expected))
    assert listed_names(page) == expected
    assert page.evaluate("window.__sameDocument") is True
    expect(page).to_have_url(re.compile(r"/services$"))

    search.fill("no-such-service-anywhere")
    expect(page.locator("#rows")).to_contain_text("Nothing here yet.")
    search.fill("")
    expect(rows).to_have_count(len(services))


def test_service_detail_page_shows_owner_and_dependencies(page: Any) -> None:
    services = demo_services()
    dependents: dict[str, list[str]] = {n: [] for n in services}
    for name, spec in services.items():
        for dep in spec.get("dependsOn") or []:
            dependents.setdefault(dep, []).append(name)
    name = max(
        (n for n in services if services[n].get("dependsOn")),
        key=lambda n: (len(dependents[n]), n),
    )
    spec = services[name]
    sign_in(page, "/services")
    page.locator("#rows").get_by_role(
        "link", name=spec.get("displayName") or name, exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/services/{name}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(spec.get("displayName") or name)
    facts = page.locator("dl.facts")
    if spec.get("ownerTeam"):
        expect(facts.get_by_role("link", name=spec["ownerTeam"], exact=True)).to_have_attribute(
            "href", f"/teams/{spec['ownerTeam']}"
        )
    depends_on = facts.locator("dt:text-is('Depends on') + dd a")
    expect(depends_on).to_have_text(list(spec["dependsOn"]))
    depended_by = facts.locator("dt:text-is('Depended on by') + dd a")
    expect(depended_by).to_have_text(sorted(dependents[name]))
    if spec.get("description"):
        expect(facts).to_contain_text(spec["description"])


def test_token_is_created_shown_once_revoked_and_audited(page: Any, demo_server: Server) -> None:
    sign_in(page, "/tokens")
    page.get_by_label("Name").fill("browser-ci")
    page.get_by_label("Role").select_option("responder")
    page.get_by_role("button", name="Create token").click()
    secret_box = page.locator("#new-token")
    expect(secret_box).to_have_text(re.compile(r"^wb_[A-Za-z0-9_-]{40,}$"))
    secret = secret_box.inner_text().strip()
    row = page.locator("tbody tr", has_text="browser-ci")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("responder")

    with demo_server.client(secret) as http:
        me = http.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["role"] == "responder"

    page.goto("/tokens")  # shown once: a fresh load of the page does not show it again
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()

    row = page.locator("tbody tr", has_text="browser-ci")
    row.get_by_role("button", name="Revoke").click()
    row = page.locator("tbody tr", has_text="browser-ci")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    with demo_server.client(secret) as http:
        assert http.get("/api/v1/me").status_code == 401

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Admin", exact=True).click()
    nav.get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile(r"/audit$"))
    for action in ("token.create", "token.revoke"):
        entry = page.locator("tbody tr", has=page.locator("code", has_text=action)).filter(
            has_text="browser-ci"
        )
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text(f"user:{OWNER}")


def test_navigation_fits_one_line_and_every_entry_is_a_real_page(page: Any) -> None:
    """At 1280 px the menu is one row; every link in it opens a page that exists."""
    sign_in(page, "/incidents")
    nav = page.get_by_role("navigation", name="Main")
    tops = {
        round(box["y"])
        for box in nav.locator(":scope > *").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().toJSON())"
        )
    }
    assert len(tops) == 1, f"the menu wraps onto {len(tops)} rows"
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 60
    hrefs = nav.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert "/escalation-policies" in hrefs and "/incidents" in hrefs
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200, href
        assert "not part of this release" not in response.text(), href


def test_sign_out_ends_the_session(page: Any) -> None:
    sign_in(page, "/")
    expect(page.get_by_text(OWNER, exact=False).first).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "wb_session"]
    page.goto("/services")
    expect(page).to_have_url(re.compile(r"/login\?next=/services$"))


def test_phone_layout_hides_the_menu_behind_a_toggle(browser: Any, demo_server: Server) -> None:
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=demo_server.base_url,
    )
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        sign_in(page, "/services")
        expect(page.locator("#rows td:first-child .sub")).to_have_count(len(all_services()))
        nav = page.locator("header nav")
        expect(nav).to_have_count(1)
        expect(nav).to_be_hidden()
        expect(nav.get_by_role("link", name="Teams")).to_be_hidden()
        toggle = page.locator("label.nav-button")
        expect(toggle).to_be_visible()
        toggle.click()
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="Teams")).to_be_hidden()
        nav.get_by_text("Catalog", exact=True).click()
        expect(nav.get_by_role("link", name="Teams")).to_be_visible()
        # The page itself does not scroll sideways (wide tables scroll in their own box).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        nav.get_by_role("link", name="Teams").click()
        expect(page).to_have_url(re.compile(r"/teams$"))
        expect(page.locator("header nav")).to_be_hidden()
        expect(page.locator("header nav a.active")).to_have_text("Teams")
    finally:
        ctx.close()


def test_hostile_text_is_shown_as_text_never_run(page: Any, dialogs: list[str]) -> None:
    name = XSS_SERVICE["name"]
    sign_in(page, "/services")
    expect(
        page.locator("#rows").get_by_text(XSS_SERVICE["displayName"], exact=True)
    ).to_be_visible()

    page.goto(f"/services/{name}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(XSS_SERVICE["displayName"])
    description = page.locator("dl.facts dt:text-is('Description') + dd")
    expect(description).to_have_text(XSS_SERVICE["description"])
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0

    page.goto("/services?q=%3Cscript%3Ealert(3)%3C/script%3E")
    expect(page.get_by_role("searchbox", name="Filter")).to_have_value("<script>alert(3)</script>")
    page.get_by_role("searchbox", name="Filter").fill("<img src=x onerror=alert(4)>")
    expect(page.locator("#rows")).to_contain_text("Nothing here yet.")
    assert dialogs == []
