"""Every bad request gets its documented 4xx and writes nothing.

The bad cases of one endpoint run in one test (each test builds an application and a
service, which is the slow part); every case compares the whole intake state, including
the integrations' last-event times, before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.intake.helpers import counts, payload, pd_event, put_service, snapshot
from watchbill.adapters.db.engine import Database
from watchbill.app.web import create_app
from watchbill.core.clock import FakeClock
from watchbill.intake.pagerduty import MAX_BODY
from watchbill.settings import Settings

Case = tuple[str, Any, str]  # name, body (bytes are sent as they are), expected error text


def send(client: TestClient, url: str, body: Any) -> Any:
    if isinstance(body, bytes):
        return client.post(url, content=body, headers={"Content-Type": "application/json"})
    return client.post(url, json=body)


def check_rejections(
    client: TestClient, db: Database, url: str, cases: list[Case], message: str | None = None
) -> None:
    """Each case: 400 in PagerDuty's error shape, an error naming the problem, no writes."""
    before = snapshot(db)
    for name, body, expected in cases:
        response = send(client, url, body)
        assert response.status_code == 400, (name, response.text)
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        assert set(answer) == {"status", "message", "errors"}, name
        assert answer["status"] == "invalid event", name
        if message is not None:
            assert answer["message"] == message, (name, answer)
        assert answer["errors"] and all(isinstance(e, str) for e in answer["errors"]), name
        assert any(expected in e for e in answer["errors"]), (name, answer["errors"])
        assert snapshot(db) == before, f"{name} wrote to the database"


# ---------------------------------------------------------------- /v2/enqueue


def enqueue_cases(keys: dict[str, str]) -> Iterator[Case]:
    pd = keys["pd"]
    yield "payload missing", pd_event(pd, payload=None), "'payload' is missing or not an object"
    yield "payload a list", pd_event(pd, payload=[]), "'payload' is missing or not an object"
    yield "summary missing", payload(pd, summary=None), "'payload.summary' is missing or blank"
    yield "summary blank", payload(pd, summary="   "), "'payload.summary' is missing or blank"
    yield "summary a number", payload(pd, summary=5), "'payload.summary' must be a string"
    yield "summary too long", payload(pd, summary="x" * 1025), "longer than 1024"
    yield "source missing", payload(pd, source=None), "'payload.source' is missing or blank"
    yield "source a list", payload(pd, source=["a"]), "'payload.source' must be a string"
    yield "severity missing", payload(pd, severity=None), "'payload.severity' must be one of"
    yield "severity unknown", payload(pd, severity="fatal"), "'payload.severity' must be one of"
    yield "severity upper", payload(pd, severity="CRITICAL"), "'payload.severity' must be one of"
    yield "timestamp bogus", payload(pd, timestamp="yesterday"), "not a valid ISO 8601"
    yield "timestamp naive", payload(pd, timestamp="2026-03-02T09:00:00"), "needs a UTC offset"
    yield "timestamp number", payload(pd, timestamp=1700000000), "must be an ISO 8601"
    yield "component object", payload(pd, component={}), "'payload.component' must be a string"
    yield "action missing", pd_event(pd, event_action=None), "'event_action' must be one of"
    yield "action unknown", pd_event(pd, event_action="explode"), "'event_action' must be one of"
    yield "action wrong case", pd_event(pd, event_action="TRIGGER"), "'event_action' must be"
    yield "dedup_key too long", pd_event(pd, dedup_key="k" * 256), "at most 255 characters"
    yield "dedup_key a number", pd_event(pd, dedup_key=5), "'dedup_key' must be a string"
    yield "ack without key", pd_event(pd, "acknowledge"), "'dedup_key' is required to acknowledge"
    yield "resolve without key", pd_event(pd, "resolve"), "'dedup_key' is required to resolve"
    yield "resolve empty key", pd_event(pd, "resolve", dedup_key=""), "required to resolve"
    yield "links a string", pd_event(pd, links="x"), "'links' must be a list"
    yield "link without href", pd_event(pd, links=[{"text": "t"}]), "'links[0]' needs an 'href'"
    yield "images bad", pd_event(pd, images=[{"alt": "a"}]), "'images[0]' needs an 'href'"
    yield "client a number", pd_event(pd, client=5), "'client' must be a string"
    yield "client_url a list", pd_event(pd, client_url=[]), "'client_url' must be a string"


def test_enqueue_refuses_bad_events(client, keys, db):
    check_rejections(
        client, db, "/v2/enqueue", list(enqueue_cases(keys)), "Event object is invalid"
    )


def test_enqueue_lists_every_problem_at_once(client, keys, db):
    event = payload(keys["pd"], summary=None, severity="fatal", timestamp="nope")
    response = client.post("/v2/enqueue", json=event)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 3
    assert any("payload.summary" in e for e in errors)
    assert any("payload.severity" in e for e in errors)
    assert any("payload.timestamp" in e for e in errors)


def test_enqueue_refuses_bodies_and_keys(client, keys, db):
    ok = pd_event(keys["pd"])
    without_key = {k: v for k, v in ok.items() if k != "routing_key"}
    check_rejections(
        client,
        db,
        "/v2/enqueue",
        [
            ("malformed JSON", b'{"routing_key": ', "the body is not valid JSON"),
            ("trailing garbage", json.dumps(ok).encode() + b"}", "the body is not valid JSON"),
            ("empty body", b"", "the body is not valid JSON"),
            ("not UTF-8", b'{"a": "\xff"}', "the body is not valid JSON"),
        ],
        "Could not parse JSON",
    )
    check_rejections(
        client,
        db,
        "/v2/enqueue",
        [
            ("a list", [ok], "the body must be a JSON object"),
            ("a string", "event", "the body must be a JSON object"),
            ("null", b"null", "the body must be a JSON object"),
            ("a number", b"42", "the body must be a JSON object"),
            ("routing_key missing", without_key, "'routing_key' is missing or blank"),
            ("routing_key blank", {**ok, "routing_key": "  "}, "'routing_key' is missing"),
            ("routing_key a number", {**ok, "routing_key": 5}, "'routing_key' is missing"),
        ],
        "Event object is invalid",
    )
    unknown = {**ok, "routing_key": "0" * 32}
    nul = {**ok, "routing_key": keys["pd"] + "\x00"}
    check_rejections(
        client,
        db,
        "/v2/enqueue",
        [
            ("unknown key", unknown, "'routing_key' is unknown or has been revoked"),
            ("key with NUL", nul, "'routing_key' is unknown or has been revoked"),
        ],
        "Invalid routing key",
    )
    check_rejections(
        client,
        db,
        "/v2/enqueue",
        [
            ("heartbeat key", {**ok, "routing_key": keys["hb"]}, "of type heartbeat"),
            ("alertmanager key", {**ok, "routing_key": keys["am"]}, "of type alertmanager"),
            ("generic key", {**ok, "routing_key": keys["gen"]}, "of type generic"),
        ],
        "Wrong integration type for this endpoint",
    )


def test_change_enqueue_refuses_bad_events(client, keys, db):
    pd = keys["pd"]
    good = {"routing_key": pd, "payload": {"summary": "Deployed v2", "source": "ci"}}
    check_rejections(
        client,
        db,
        "/v2/change/enqueue",
        [
            ("not an object", [good], "the body must be a JSON object"),
            ("no routing_key", {"payload": good["payload"]}, "'routing_key' is missing"),
            ("payload missing", {"routing_key": pd}, "'payload' is missing or not an object"),
            ("summary missing", {**good, "payload": {"source": "ci"}}, "'payload.summary' is"),
            (
                "details not an object",
                {**good, "payload": {**good["payload"], "custom_details": [1]}},
                "'payload.custom_details' must be an object",
            ),
            (
                "bad timestamp",
                {**good, "payload": {**good["payload"], "timestamp": "soon"}},
                "'payload.timestamp'",
            ),
            ("bad links", {**good, "links": [{}]}, "'links[0]' needs an 'href'"),
            ("unknown key", {**good, "routing_key": "f" * 32}, "is unknown or has been revoked"),
            ("heartbeat key", {**good, "routing_key": keys["hb"]}, "of type heartbeat"),
        ],
    )


# ---------------------------------------------------------------- body size


def test_a_body_over_512_kb_is_refused_with_413(client, keys, db):
    event = json.dumps(pd_event(keys["pd"], dedup_key="big")).encode()
    exactly = event + b" " * (MAX_BODY - len(event))  # trailing whitespace is valid JSON
    assert len(exactly) == MAX_BODY == 512 * 1024
    before = snapshot(db)

    over = client.post("/v2/enqueue", content=exactly + b" ")
    assert over.status_code == 413
    assert over.json() == {
        "status": "invalid event",
        "message": "Request body is larger than 524288 bytes",
    }

    # without a Content-Length (chunked), the limit holds while reading
    def chunks() -> Iterator[bytes]:
        for _ in range(9):
            yield b" " * 65536

    chunked = client.post(
        "/v2/enqueue", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    assert snapshot(db) == before

    at_limit = client.post("/v2/enqueue", content=exactly)
    assert at_limit.status_code == 202, at_limit.text
    assert counts(db)["alerts"] == 1


# ---------------------------------------------------------------- Alertmanager


def am_alert(**labels: str) -> dict[str, Any]:
    return {"status": "firing", "labels": {"alertname": "DiskFull", **labels}}


def test_alertmanager_refuses_bad_payloads(client, keys, db):
    url = f"/integrations/{keys['am']}/alertmanager"
    many_labels = {f"l{i}": "v" for i in range(10_000)}
    cases: list[Case] = [
        ("malformed JSON", b"{", "the body is not valid JSON"),
        ("not an object", [am_alert()], "the body must be a JSON object"),
        ("alerts missing", {"version": "4"}, "'alerts' is missing or not a list"),
        ("alerts an object", {"alerts": {}}, "'alerts' is missing or not a list"),
        ("10,000 labels", {"alerts": [{"labels": many_labels}]}, "at most 256 are accepted"),
        ("257 labels", {"alerts": [{"labels": dict(list(many_labels.items())[:257])}]}, "257"),
        ("alert not an object", {"alerts": ["x"]}, "'alerts[0]' must be an object"),
        ("bad status", {"alerts": [{**am_alert(), "status": "pending"}]}, "firing or resolved"),
        ("labels a list", {"alerts": [{"labels": ["a"]}]}, "'alerts[0].labels' must be an object"),
        ("label not a string", {"alerts": [{"labels": {"a": 1}}]}, "'alerts[0].labels.a' must"),
        ("label too long", {"alerts": [am_alert(x="v" * 4097)]}, "'alerts[0].labels.x' is too"),
        (
            "annotation not a string",
            {"alerts": [{**am_alert(), "annotations": {"summary": None}}]},
            "'alerts[0].annotations.summary' must be a string",
        ),
        ("bad startsAt", {"alerts": [{**am_alert(), "startsAt": "x"}]}, "'alerts[0].startsAt'"),
        ("fingerprint a number", {"alerts": [{**am_alert(), "fingerprint": 1}]}, "fingerprint"),
        # one bad alert fails the whole batch: nothing of it is written
        ("second alert bad", {"alerts": [am_alert(), {"labels": 5}]}, "'alerts[1].labels'"),
    ]
    check_rejections(client, db, url, cases)
    assert send(client, url, {"alerts": [{"labels": dict(list(many_labels.items())[:256])}]})


def test_alertmanager_limits_alerts_per_payload(client, keys, db):
    url = f"/integrations/{keys['am']}/alertmanager"
    too_many = {"alerts": [am_alert(i=str(i)) for i in range(10_001)]}
    check_rejections(client, db, url, [("10,001 alerts", too_many, "more than 10000 alerts")])


# ---------------------------------------------------------------- generic


def test_generic_refuses_bad_events_naming_the_field(client, keys, db):
    url = f"/integrations/{keys['gen']}/events"
    ok = {"dedupKey": "k", "summary": "s"}
    check_rejections(
        client,
        db,
        url,
        [
            ("empty list", [], "send 1 to 1000 events"),
            ("1,001 events", [ok] * 1001, "send 1 to 1000 events"),
            ("a string", "x", "Input should be a valid dictionary"),
            ("dedupKey missing", {"summary": "s"}, "'dedupKey': Field required"),
            ("dedupKey empty", {**ok, "dedupKey": ""}, "'dedupKey': String should have at least"),
            ("dedupKey too long", {**ok, "dedupKey": "k" * 256}, "'dedupKey': String should"),
            ("summary missing", {"dedupKey": "k"}, "'summary' is required to trigger"),
            ("summary too long", {**ok, "summary": "s" * 1025}, "'summary': String should"),
            ("bad action", {**ok, "action": "explode"}, "'action': Input should be"),
            ("bad severity", {**ok, "severity": "fatal"}, "'severity': Input should be"),
            ("naive timestamp", {**ok, "timestamp": "2026-03-02T09:00:00"}, "'timestamp'"),
            ("labels a list", {**ok, "labels": []}, "'labels': Input should be"),
            ("label a number", {**ok, "labels": {"team": 1}}, "'labels.team' must be a string"),
            ("details a list", {**ok, "details": []}, "'details': Input should be"),
            ("link without href", {**ok, "links": [{"text": "x"}]}, "'links[0]' needs an 'href'"),
            ("second bad", [ok, {"summary": "s"}], "'[1].dedupKey': Field required"),
            ("second no summary", [ok, {"dedupKey": "j"}], "'[1].summary' is required"),
        ],
        "invalid payload",
    )
    check_rejections(
        client,
        db,
        url,
        [("malformed JSON", b"[{", "the body is not valid JSON")],
        "Could not parse JSON",
    )


# ---------------------------------------------------------------- keys in the URL


def test_keyed_endpoints_refuse_unknown_keys_and_other_types(client, keys, db):
    am = {"alerts": [am_alert()]}
    gen = {"dedupKey": "k", "summary": "s"}
    before = snapshot(db)
    cases = [
        (f"/integrations/{'0' * 32}/alertmanager", am, "Invalid routing key"),
        (f"/integrations/{'0' * 32}/events", gen, "Invalid routing key"),
        (f"/integrations/{'0' * 32}/heartbeat", None, "Invalid routing key"),
        ("/integrations/abc%00def/heartbeat", None, "Invalid routing key"),
        (f"/integrations/{keys['am']}%00/alertmanager", am, "Invalid routing key"),
        (
            f"/integrations/{keys['gen']}/alertmanager",
            am,
            "Wrong integration type for this endpoint",
        ),
        (
            f"/integrations/{keys['pd']}/alertmanager",
            am,
            "Wrong integration type for this endpoint",
        ),
        (f"/integrations/{keys['am']}/events", gen, "Wrong integration type for this endpoint"),
        (f"/integrations/{keys['hb']}/events", gen, "Wrong integration type for this endpoint"),
        (f"/integrations/{keys['pd']}/heartbeat", None, "Wrong integration type for this endpoint"),
        (f"/integrations/{keys['am']}/heartbeat", None, "Wrong integration type for this endpoint"),
    ]
    for url, body, message in cases:
        response = client.post(url, json=body) if body is not None else client.get(url)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["message"] == message, url
        assert response.json()["status"] == "invalid event"
        assert snapshot(db) == before, url


def test_intake_needs_no_token_and_ignores_one(client, keys, db, admin):
    # The key authenticates; a stray Authorization header neither helps nor hurts.
    response = client.post(
        f"/integrations/{keys['gen']}/events",
        json={"dedupKey": "k", "summary": "s"},
        headers={"Authorization": "Bearer nonsense"},
    )
    assert response.status_code == 202, response.text


# ---------------------------------------------------------------- 429


@pytest.fixture
def throttled_client(
    settings: Settings, db: Database, clock: FakeClock
) -> Callable[..., TestClient]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        tuned = Settings(**{**settings.model_dump(), **overrides})
        c = TestClient(create_app(tuned, db=db, clock=clock, run_worker=False))
        clients.append(c.__enter__())
        return c

    yield make  # type: ignore[misc]
    for c in clients:
        c.__exit__(None, None, None)


def test_429_when_a_key_sends_faster_than_its_rate(throttled_client, admin, db):
    client = throttled_client(intake_rate_per_key=0.001, intake_burst_per_key=2)
    keys = put_service(client, admin)
    for i in range(2):
        assert (
            client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key=f"k{i}")).status_code
            == 202
        )
    before = snapshot(db)
    limited = client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key="k2"))
    assert limited.status_code == 429
    assert limited.json() == {
        "status": "throttle exceeded",
        "message": "Requests for this integration are arriving too quickly. Please retry later.",
    }
    assert client.post(f"/integrations/{keys['hb']}/heartbeat").status_code == 202  # own bucket
    client.post(f"/integrations/{keys['hb']}/heartbeat")
    assert client.post(f"/integrations/{keys['hb']}/heartbeat").status_code == 429
    after = snapshot(db)
    assert {t: v for t, v in after.items() if t != "integrations"} == {
        t: v for t, v in before.items() if t != "integrations"
    }
    assert counts(db)["alerts"] == 2

    # an Alertmanager batch costs one token per alert, but a batch larger than the burst
    # still goes through on a full bucket
    batch = {"alerts": [am_alert(i=str(i)) for i in range(5)]}
    url = f"/integrations/{keys['am']}/alertmanager"
    assert client.post(url, json=batch).status_code == 202
    assert client.post(url, json=batch).status_code == 429
    assert counts(db)["alerts"] == 7


def test_429_when_the_writer_queue_is_full(settings, db, clock, admin):
    tuned = Settings(**{**settings.model_dump(), "intake_queue": 1})
    app = create_app(tuned, db=db, clock=clock, run_worker=False)
    client = TestClient(app)  # no lifespan: the writer thread is not running
    keys = put_service(client, admin)
    writer = app.state.intake
    writer._thread = object()  # pretend it runs, but busy: the queue is not drained
    writer.queue.put_nowait(None)
    try:
        before = snapshot(db)
        response = client.post("/v2/enqueue", json=pd_event(keys["pd"]))
        assert response.status_code == 429
        assert response.json() == {
            "status": "unavailable",
            "message": "Intake queue is full. Please retry later.",
        }
        assert snapshot(db) == before
    finally:
        writer.queue.get_nowait()
        writer._thread = None
