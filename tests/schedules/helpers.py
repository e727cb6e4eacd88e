"""A small organisation with two schedules, built through the API the way an admin would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PEOPLE = {
    "ann": "Europe/Berlin",
    "bob": "America/New_York",
    "cy": "Asia/Kolkata",
    "dee": "Australia/Sydney",
}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def override(
    client: TestClient, headers: dict[str, str], user: str, start: str, end: str
) -> dict[str, Any]:
    """Put `user` on call on `primary` from start to end (ISO instants); must succeed."""
    body = {"user": user, "start": start, "end": end}
    return ok(  # type: ignore[no-any-return]
        client.post("/api/v1/schedules/primary/overrides", json=body, headers=headers), 201
    )


def primary(**changes: Any) -> dict[str, Any]:
    """Ann and Bob a week each from Monday 2 March 2026 09:00 Berlin; Cy covers the
    nights (20:00-06:00 Berlin) on a layer above them."""
    spec: dict[str, Any] = {
        "timeZone": "Europe/Berlin",
        "description": "payments primary",
        "team": "payments",
        "layers": [
            {
                "name": "week",
                "users": ["ann", "bob"],
                "rotationStart": "2026-03-02",
                "handoffTime": "09:00",
                "turn": {"weeks": 1},
            },
            {
                "name": "nights",
                "users": ["cy"],
                "rotationStart": "2026-03-02",
                "turn": {"days": 1},
                "restrictions": [
                    {"type": "daily", "startTime": "20:00", "duration": {"hours": 10}}
                ],
            },
        ],
    }
    spec.update(changes)
    return spec


def seed(client: TestClient, admin: dict[str, str]) -> None:
    for name, zone in PEOPLE.items():
        ok(
            client.put(
                f"/api/v1/users/{name}",
                json={"email": f"{name}@example.com", "timeZone": zone},
                headers=admin,
            ),
            201,
        )
    ok(
        client.put("/api/v1/teams/payments", json={"members": list(PEOPLE)}, headers=admin),
        201,
    )
    ok(client.put("/api/v1/schedules/primary", json=primary(), headers=admin), 201)
