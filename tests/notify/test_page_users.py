"""Paging many people at once: every delivery, job and timeline row belongs to the page
that asked for it, however the database returns the new rows."""

from __future__ import annotations

from sqlalchemy import select

from tests.incidents.helpers import event, fire, make_service
from tests.notify.helpers import make_user
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.jobs.models import Job
from watchbill.notify.models import Delivery
from watchbill.notify.service import PageRequest, job_key, page_users


def test_each_page_gets_its_own_deliveries_jobs_and_timeline_rows(
    db: Database, clock: FakeClock
) -> None:
    sid = make_service(db, clock)
    incidents = [fire(db, clock, sid, event(f"k{n}", f"down {n}"))[0].incident_id for n in range(4)]
    make_user(db, clock, "ada", [("hook", "webhook", "http://127.0.0.1:9/ada")])
    make_user(
        db,
        clock,
        "bob",
        [("hook", "webhook", "http://127.0.0.1:9/bob"), ("mail", "email", "bob@example.com")],
        # Two rules alike: two deliveries equal in every column the insert returns.
        {
            "high": [
                {"contactMethod": "hook"},
                {"contactMethod": "hook"},
                {"contactMethod": "mail", "delayMinutes": 3},
            ]
        },
    )
    requests = [
        PageRequest(iid, person, "high", f"level {level}")
        for level, iid in enumerate(incidents)
        for person in ("bob", "ada", "nobody")
    ]
    with db.transaction() as session:
        paged = page_users(session, requests, clock.now())
    with db.read() as session:
        deliveries = {d.id: d for d in session.scalars(select(Delivery))}
        jobs = {j.idempotency_key: j for j in session.scalars(select(Job))}
    seen: list[int] = []
    for req, result in zip(requests, paged, strict=True):
        expected = {"ada": 1, "bob": 3, "nobody": 0}[req.user]
        assert len(result.delivery_ids) == expected
        for delivery_id in result.delivery_ids:
            d = deliveries[delivery_id]
            assert (d.incident_id, d.user_name, d.reason) == (req.incident_id, req.user, req.reason)
            assert jobs[job_key(delivery_id)].payload == {"deliveryId": delivery_id}
            assert jobs[job_key(delivery_id)].run_at == d.send_at
        queued = [e for e in result.events if e["kind"] == "notification.queued"]
        assert [e["data"]["deliveryId"] for e in queued] == result.delivery_ids
        assert all(e["incident_id"] == req.incident_id for e in result.events)
        seen.extend(result.delivery_ids)
    assert sorted(seen) == sorted(deliveries)  # each delivery handed out exactly once
    skipped = [r for req, r in zip(requests, paged, strict=True) if req.user == "nobody"]
    assert all(r.events[0]["kind"] == "notification.skipped" for r in skipped)
