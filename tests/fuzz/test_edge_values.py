"""Regressions found by the fuzzer, pinned as plain examples on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from watchbill.access import Role

NUL_FILTERS = [
    {"actor": "\x00"},
    {"action": "token.\x00create"},
    {"objectType": "Service\x00"},
    {"objectId": "a\x00b"},
]


def test_nul_characters_in_audit_filters_are_a_client_error(
    client: TestClient,
    token_for,  # type: ignore[no-untyped-def]
) -> None:
    # PostgreSQL refuses NUL in text; that surfaced as a 500 until DataError became a 422.
    admin = token_for(Role.ADMIN)
    for query in NUL_FILTERS:
        resp = client.get("/api/v1/audit", params=query, headers=admin)
        assert resp.status_code in (200, 422), (query, resp.text)
        if resp.status_code == 422:
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.json()["status"] == 422
