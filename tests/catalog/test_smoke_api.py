from watchbill.auth.roles import Role


def test_admin_creates_service_and_reads_it_back(client, token_for):
    admin = token_for(Role.ADMIN)
    r = client.post("/api/v1/teams", json={"name": "payments"}, headers=admin)
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/services",
        json={"name": "checkout", "ownerTeam": "payments", "tier": 1},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.get("/api/v1/services/checkout", headers=admin)
    assert r.json()["ownerTeam"] == "payments"
    assert r.json()["tier"] == 1
