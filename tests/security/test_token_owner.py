"""A token acts within its user's current rights (issue 9, high 3), against a real server.

The attack as found: an admin made a token, was demoted to viewer and deactivated, and
used the token to give herself the admin role back. Her page session also survived a
deactivate/reactivate cycle.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.server import Server
from tests.security.helpers import PASSWORD, login, page_csrf

pytestmark = pytest.mark.e2e


def _apply_user(server: Server, tmp_path: Path, name: str, role: str, active: bool) -> None:
    """Change a user as an operator would: a YAML document and `watchbill apply`."""
    doc = {
        "apiVersion": "watchbill/v1",
        "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": f"{name}@example.com", "role": role, "active": active},
    }
    path = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(doc))
    server.cli("apply", "-f", str(path))


def _token_from_the_tokens_page(pages: httpx.Client, name: str, role: str) -> str:
    made = pages.post("/tokens", data={"name": name, "role": role, "csrf": page_csrf(pages)})
    assert made.status_code == 200, made.text
    match = re.search(r'<pre class="secret" id="new-token">(wb_[^<]+)</pre>', made.text)
    assert match, made.text
    return match[1]


def test_a_demoted_deactivated_admin_cannot_use_her_token_to_restore_her_role(
    any_server: Server, tmp_path: Path
) -> None:
    alice = f"alice-{uuid.uuid4().hex[:6]}"
    any_server.cli(
        *("users", "create", alice, "--email", f"{alice}@example.com", "--role", "admin"),
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    with any_server.client() as pages:
        assert login(pages, alice).status_code == 303
        secret = _token_from_the_tokens_page(pages, f"{alice}-laptop", "admin")
        session_cookie = pages.cookies["wb_session"]
    with any_server.client(secret) as api:
        assert api.get("/api/v1/me").json()["role"] == "admin"

        _apply_user(any_server, tmp_path, alice, "viewer", active=True)
        assert api.get("/api/v1/me").json()["role"] == "viewer"
        restore = api.patch(f"/api/v1/users/{alice}", json={"role": "admin"})
        assert restore.status_code == 403, restore.text

        _apply_user(any_server, tmp_path, alice, "viewer", active=False)
        restore = api.patch(f"/api/v1/users/{alice}", json={"role": "admin", "active": True})
        assert restore.status_code == 401, restore.text
        assert api.get("/api/v1/me").status_code == 401

        # Reactivated (as a viewer): neither the old token nor the old session is back.
        _apply_user(any_server, tmp_path, alice, "viewer", active=True)
        assert api.get("/api/v1/me").status_code == 401
    with any_server.client(cookies={"wb_session": session_cookie}) as pages:
        resp = pages.get("/tokens", follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/login")

    with any_server.client(any_server.admin_token()) as admin:
        user = admin.get(f"/api/v1/users/{alice}").json()
        assert (user["role"], user["active"]) == ("viewer", True)
        tokens = {t["name"]: t for t in admin.get("/api/v1/tokens").json()}
        assert tokens[f"{alice}-laptop"]["revokedAt"] is not None
        assert tokens[f"{alice}-laptop"]["user"] == alice
        assert admin.get("/api/v1/me").json()["user"] is None  # a service account's
