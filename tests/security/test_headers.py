"""Pages send security headers (issue 9, low), checked on a real server: a policy that
allows no inline script and no framing, no MIME sniffing, no Referer, HSTS under TLS."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "watchbill"
PATHS = ["/login", "/", "/services", "/static/htmx.min.js", "/api/v1/me", "/healthz", "/nowhere"]


def _policy(resp: httpx.Response) -> dict[str, list[str]]:
    directives = resp.headers["content-security-policy"].split(";")
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in directives) if d}


def _check_common(resp: httpx.Response) -> dict[str, list[str]]:
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["x-frame-options"] == "DENY"
    policy = _policy(resp)
    assert policy["frame-ancestors"] == ["'none'"]
    return policy


def test_every_response_carries_the_page_policy(server: Server) -> None:
    with server.client() as http:
        for path in PATHS:
            resp = http.get(path, follow_redirects=False)
            policy = _check_common(resp)
            assert policy["script-src"] == ["'self'"], path
            assert policy["default-src"] == ["'none'"]
            assert policy["base-uri"] == ["'none'"]
            assert "'unsafe-inline'" not in policy["style-src"]
            assert "strict-transport-security" not in resp.headers, "plain HTTP: no HSTS"


def test_the_api_docs_keep_their_cdn_but_not_framing(server: Server) -> None:
    with server.client() as http:
        for path in ("/api/docs", "/api/redoc"):
            resp = http.get(path)
            assert resp.status_code == 200
            assert "https://cdn.jsdelivr.net" in _check_common(resp)["script-src"]


def test_hsts_under_tls(tls_server: Server) -> None:
    with tls_server.client() as http:
        for path in ("/login", "/healthz"):
            resp = http.get(path)
            _check_common(resp)
            assert resp.headers["strict-transport-security"] == "max-age=31536000"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
HTMX_EVAL = re.compile(r"\bhx-on|\bhx-vars|\bjs:|javascript:", re.IGNORECASE)


@pytest.mark.parametrize(
    "template",
    sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.name),
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_templates_hold_no_inline_script(template: Path) -> None:
    """What the policy would block: inline scripts, handlers, htmx's eval features."""
    html = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(html)
    assert not HANDLER.search(html)
    assert not HTMX_EVAL.search(html)
