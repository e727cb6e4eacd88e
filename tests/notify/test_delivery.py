"""Paging a user end to end: plan, durable jobs, real receivers, retries, cancellation."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import orjson
from sqlalchemy import select, update

from tests.incidents.helpers import acting, reading, timeline_kinds
from tests.notify.conftest import BASE_URL
from tests.notify.helpers import (
    attempts,
    delivery,
    make_incident,
    make_user,
    page,
    work,
)
from tests.notify.receivers import Mailbox, http_receiver
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.incidents import service as incidents
from watchbill.incidents.models import Incident
from watchbill.jobs.models import CANCELLED as JOB_CANCELLED
from watchbill.jobs.models import Job
from watchbill.notify.channels.webhook import destination_secret
from watchbill.notify.service import cancel_pending, job_key
from watchbill.settings import Settings


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, exactly as docs/notifications.md describes it."""
    timestamp = headers["X-Watchbill-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Watchbill-Signature"], f"sha256={expected}")


def test_webhook_retried_after_500s_with_backoff_and_every_attempt_logged(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    with http_receiver(500, 500) as hook:
        make_user(db, clock, "ada", [("hook", "webhook", hook.url)])
        iid = make_incident(db, clock)
        [did] = page(db, clock, iid, "ada")
        t0 = clock.now()

        assert work(db, clock) == 1
        assert (delivery(db, did).status, delivery(db, did).attempts) == ("queued", 1)
        with db.read() as session:
            job = session.scalar(select(Job).where(Job.idempotency_key == job_key(did)))
            assert job is not None and job.run_at == t0 + timedelta(seconds=1)
        assert work(db, clock) == 0  # not due before the backoff ends

        clock.advance(seconds=1)
        assert work(db, clock) == 1
        with db.read() as session:
            job = session.scalar(select(Job).where(Job.idempotency_key == job_key(did)))
            assert job is not None and job.run_at == t0 + timedelta(seconds=3)
        clock.advance(seconds=2)
        assert work(db, clock) == 1

        d = delivery(db, did)
        assert (d.status, d.attempts, d.response_code, d.sent_at) == (
            "sent",
            3,
            200,
            t0 + timedelta(seconds=3),
        )
        log = attempts(db, did)
        assert [(a.number, a.ok, a.response_code) for a in log] == [
            (1, False, 500),
            (2, False, 500),
            (3, True, 200),
        ]
        assert [a.at - t0 for a in log] == [
            timedelta(0),
            timedelta(seconds=1),
            timedelta(seconds=3),
        ]
        assert "HTTP 500" in log[0].error

        assert len(hook.requests) == 3
        secret = destination_secret(settings.secret_key.encode(), "ada", "hook", hook.url)  # type: ignore[union-attr]
        for req in hook.requests:
            assert _verify(secret, req.headers, req.body)
            assert req.headers["X-Watchbill-Delivery"] == str(did)
        body = orjson.loads(hook.requests[-1].body)
        assert body["event"] == "incident.page"
        assert body["incident"]["number"] == iid
        assert body["service"] == {"name": "checkout"}
        assert body["urgency"] == "high"
        assert body["links"]["acknowledge"].startswith(f"{BASE_URL}/act/")
        assert body["links"]["incident"] == f"{BASE_URL}/incidents/{iid}"

        # A tampered body no longer verifies.
        assert not _verify(secret, hook.requests[-1].headers, hook.requests[-1].body + b" ")

        # Sent is final: running the job again sends nothing.
        clock.advance(seconds=60)
        assert work(db, clock) == 0
        assert len(hook.requests) == 3
    assert timeline_kinds(db, iid)[-2:] == ["notification.queued", "notification.sent"]


def test_gives_up_after_the_attempt_limit_and_refused_4xx_is_not_retried(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    with http_receiver(*([503] * 10)) as flaky, http_receiver(404) as gone:
        make_user(db, clock, "ada", [("flaky", "webhook", flaky.url), ("gone", "slack", gone.url)])
        iid = make_incident(db, clock)
        flaky_id, gone_id = page(db, clock, iid, "ada")
        for _ in range(8):
            work(db, clock)
            clock.advance(seconds=600)
        assert (delivery(db, flaky_id).status, delivery(db, flaky_id).attempts) == ("failed", 8)
        assert len(flaky.requests) == 8
        assert (delivery(db, gone_id).status, delivery(db, gone_id).attempts) == ("failed", 1)
        assert delivery(db, gone_id).response_code == 404
        assert len(gone.requests) == 1
    kinds = timeline_kinds(db, iid)
    assert kinds.count("notification.failed") == 2


def test_rules_delay_deliveries_and_acknowledge_cancels_the_rest(
    db: Database, clock: FakeClock, settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    with http_receiver() as hook:
        make_user(
            db,
            clock,
            "ada",
            [("hook", "webhook", hook.url), ("mail", "email", "ada@example.com")],
            {"high": [{"contactMethod": "hook"}, {"contactMethod": "mail", "delayMinutes": 5}]},
        )
        iid = make_incident(db, clock)
        hook_id, mail_id = page(db, clock, iid, "ada")
        assert delivery(db, mail_id).send_at == clock.now() + timedelta(minutes=5)
        assert work(db, clock) == 1  # only the webhook is due
        assert delivery(db, hook_id).status == "sent"

        clock.advance(minutes=2)
        with acting(db, clock) as ctx:
            incidents.acknowledge(ctx, incident_id=iid)
            assert cancel_pending(ctx.session, iid, clock.now()) == 1
        assert delivery(db, mail_id).status == "cancelled"
        with db.read() as session:
            job = session.scalar(select(Job).where(Job.idempotency_key == job_key(mail_id)))
            assert job is not None and job.status == JOB_CANCELLED
        clock.advance(minutes=10)
        assert work(db, clock) == 1  # the acknowledgement's own job: nothing left to cancel
    assert smtp[1].messages == []
    assert timeline_kinds(db, iid)[-1] == "notification.cancelled"


def test_the_job_rechecks_the_incident_and_skips_a_handled_one(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    with http_receiver() as hook:
        make_user(db, clock, "ada", [("hook", "webhook", hook.url)])
        iid = make_incident(db, clock)
        [did] = page(db, clock, iid, "ada")
        with db.engine.begin() as conn:  # resolved behind escalation's back: no job, no cancel
            conn.execute(update(Incident).where(Incident.id == iid).values(status="resolved"))
        assert work(db, clock) == 1
        assert hook.requests == []
        assert delivery(db, did).status == "cancelled"


def test_a_crash_after_sending_was_recorded_sends_again_with_the_same_delivery_id(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    """The worker died after `sending` committed: the lease expires, the job runs again
    and sends once more, marked with the same id so the receiver can drop it."""
    from watchbill.notify.delivery import prepare

    with http_receiver() as hook:
        make_user(db, clock, "ada", [("hook", "webhook", hook.url)])
        iid = make_incident(db, clock)
        [did] = page(db, clock, iid, "ada")
        with db.transaction() as session:  # what the dead worker got done
            assert prepare(session, did, clock.now(), settings) is not None
        assert delivery(db, did).status == "sending"
        assert work(db, clock) == 1
        d = delivery(db, did)
        assert (d.status, d.attempts) == ("sent", 2)
        assert d.last_error is None
        assert [r.headers["X-Watchbill-Delivery"] for r in hook.requests] == [str(did)]


def test_email_page_reaches_a_real_smtp_server_with_working_links(
    db: Database, clock: FakeClock, settings: Settings, smtp: tuple[int, Mailbox], client
) -> None:  # type: ignore[no-untyped-def]
    make_user(db, clock, "ada", [("mail", "email", "ada.pager@example.com")])
    iid = make_incident(db, clock, "checkout is down")
    [did] = page(db, clock, iid, "ada")
    assert work(db, clock) == 1
    assert delivery(db, did).status == "sent"

    [mail] = smtp[1].messages
    assert smtp[1].envelopes == [("pager@watchbill.example.test", ["ada.pager@example.com"])]
    assert mail["Subject"] == f"[Watchbill] [SEV1] #{iid} checkout is down (checkout)"
    assert mail["Message-ID"] == f"<delivery-{did}@watchbill.example.test>"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    ack = next(w for w in text.split() if w.startswith(f"{BASE_URL}/act/"))
    assert ack in html and f"{BASE_URL}/incidents/{iid}" in text

    path = ack.removeprefix(BASE_URL)
    page_html = client.get(path, headers={"Accept": "text/html"})
    assert page_html.status_code == 200 and "Acknowledge this incident as" in page_html.text
    done = client.post(path, headers={"Accept": "text/html"})
    assert done.status_code == 200
    assert f"Incident #{iid} acknowledged as ada." in done.text
    with reading(db, clock) as ctx:
        assert incidents.get(ctx, incident_id=iid).status == "acknowledged"
