"""Incident actions, merge/split and listing, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.incidents.helpers import (
    VIC,
    acting,
    audit_actions,
    event,
    fire,
    maintenance,
    make_service,
    make_user,
    reading,
    resolve_alert,
    snapshot,
    timeline_kinds,
)
from watchbill.adapters.db.engine import Database
from watchbill.alerts.models import Alert
from watchbill.core.clock import FakeClock
from watchbill.errors import Conflict, Forbidden, Invalid, NotFound
from watchbill.incidents import service
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.incidents.schemas import parse_filters


def _incident(db: Database, incident_id: int) -> Incident:
    with db.read() as session:
        inc = session.get(Incident, incident_id)
        assert inc is not None
        return inc


def _one(db: Database, clock: FakeClock, key: str = "disk-full", **kw: object) -> int:
    sid = make_service(db, clock)
    outcome = fire(db, clock, sid, event(key, **kw))  # type: ignore[arg-type]
    assert outcome[0].incident_id is not None
    return outcome[0].incident_id


def test_lifecycle_with_idempotent_repeats_and_refused_transitions(
    db: Database, clock: FakeClock
) -> None:
    iid = _one(db, clock)
    assert _incident(db, iid).status == "triggered"

    clock.advance(minutes=3)
    with acting(db, clock) as ctx:
        change = service.acknowledge(ctx, incident_id=iid)
    assert change.changed
    inc = _incident(db, iid)
    assert (inc.status, inc.acknowledged_at) == ("acknowledged", clock.now())

    before = snapshot(db, iid)
    with acting(db, clock) as ctx:
        assert not service.acknowledge(ctx, incident_id=iid).changed
    assert snapshot(db, iid) == before, "a repeated acknowledge changes nothing"

    clock.advance(minutes=10)
    with acting(db, clock) as ctx:
        assert service.resolve(ctx, incident_id=iid).changed
        assert not service.resolve(ctx, incident_id=iid).changed
    inc = _incident(db, iid)
    assert (inc.status, inc.resolved_at) == ("resolved", clock.now())

    before = snapshot(db, iid)
    with pytest.raises(Conflict) as refused, acting(db, clock) as ctx:
        service.acknowledge(ctx, incident_id=iid)
    assert refused.value.status == 409
    assert "acknowledge" in refused.value.detail and "resolved" in refused.value.detail
    assert snapshot(db, iid) == before, "a refused transition changes nothing"

    with acting(db, clock) as ctx:
        assert service.reopen(ctx, incident_id=iid).changed
    inc = _incident(db, iid)
    assert (inc.status, inc.acknowledged_at, inc.resolved_at) == ("triggered", None, None)
    with pytest.raises(Conflict), acting(db, clock) as ctx:
        service.reopen(ctx, incident_id=iid)

    kinds = [k for k in timeline_kinds(db, iid) if k.startswith("status.")]
    assert kinds[-3:] == ["status.acknowledged", "status.resolved", "status.reopened"]
    assert audit_actions(db, iid) == [
        "incident.acknowledge",
        "incident.resolve",
        "incident.reopen",
    ]
    with db.read() as session:
        entries = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == iid, IncidentEvent.kind.like("status.%"))
            .order_by(IncidentEvent.id)
        ).all()
    assert [e.actor for e in entries] == ["user:ada"] * 3
    assert entries[0].at < entries[1].at == entries[2].at == clock.now()


def test_viewers_and_missing_incidents_are_refused(db: Database, clock: FakeClock) -> None:
    iid = _one(db, clock)
    before = snapshot(db, iid)
    for action in (service.acknowledge, service.resolve, service.reopen):
        with pytest.raises(Forbidden), acting(db, clock, VIC) as ctx:
            action(ctx, incident_id=iid)
    with pytest.raises(Forbidden), acting(db, clock, VIC) as ctx:
        service.add_note(ctx, incident_id=iid, text="hello")
    assert snapshot(db, iid) == before
    with pytest.raises(NotFound), acting(db, clock) as ctx:
        service.acknowledge(ctx, incident_id=iid + 1000)
    with pytest.raises(NotFound), reading(db, clock) as ctx:
        service.detail_view(ctx, incident_id=iid + 1000)


def test_notes_edits_and_assignees_are_on_the_timeline(db: Database, clock: FakeClock) -> None:
    iid = _one(db, clock, severity="warning")
    make_user(db, clock, "ada")
    make_user(db, clock, "bob")

    with acting(db, clock) as ctx:
        note = service.add_note(ctx, incident_id=iid, text="Rolled back <b>v42</b>\nwatching")
    assert (note.actor, note.at, note.kind) == ("user:ada", clock.now(), "note")
    with pytest.raises(Invalid), acting(db, clock) as ctx:
        service.add_note(ctx, incident_id=iid, text="   ")

    with acting(db, clock) as ctx:
        change = service.edit(
            ctx, incident_id=iid, changes={"severity": "SEV1", "priority": "P1", "title": "Disk"}
        )
    assert change.changed
    inc = _incident(db, iid)
    assert (inc.severity, inc.priority, inc.title) == ("SEV1", "P1", "Disk")
    before = snapshot(db, iid)
    with acting(db, clock) as ctx:
        assert not service.edit(ctx, incident_id=iid, changes={"severity": "SEV1"}).changed
    assert snapshot(db, iid) == before
    with acting(db, clock) as ctx:
        service.edit(ctx, incident_id=iid, changes={"priority": None})
    assert _incident(db, iid).priority is None

    with acting(db, clock) as ctx:
        assert service.assign(ctx, incident_id=iid, add=["ada", "bob"]).changed
        assert not service.assign(ctx, incident_id=iid, add=["bob"]).changed
        assert service.assign(ctx, incident_id=iid, remove=["ada"]).changed
        assert service.assignees(ctx, iid) == ["bob"]
    before = snapshot(db, iid)
    with pytest.raises(Invalid) as unknown, acting(db, clock) as ctx:
        service.assign(ctx, incident_id=iid, add=["ada", "nobody-here"])
    assert [e.loc for e in unknown.value.errors] == ["add[1]"]
    assert snapshot(db, iid) == before

    kinds = timeline_kinds(db, iid)
    assert kinds[-6:] == [
        "note",
        "incident.updated",
        "incident.updated",
        "assignee.added",
        "assignee.added",
        "assignee.removed",
    ]
    assert audit_actions(db, iid) == [
        "incident.note",
        "incident.update",
        "incident.update",
        "incident.assign",
        "incident.assign",
    ]


def test_merge_moves_alerts_and_resolves_the_sources(db: Database, clock: FakeClock) -> None:
    sid = make_service(db, clock)
    outcomes = fire(db, clock, sid, event("a"), event("b"), event("c"), event("d"))
    a, b, c, d = (o.incident_id for o in outcomes)
    assert a is not None and b is not None and c is not None and d is not None
    with acting(db, clock) as ctx:
        service.acknowledge(ctx, incident_id=c)

    clock.advance(minutes=5)
    with acting(db, clock) as ctx:
        target = service.merge(ctx, target_id=a, source_ids=[b, c])
        assert target.alert_count == 3
    with db.read() as session:
        on_a = session.scalars(select(Alert.dedup_key).where(Alert.incident_id == a)).all()
    assert sorted(on_a) == ["a", "b", "c"]
    for source in (b, c):
        inc = _incident(db, source)
        assert (inc.status, inc.merged_into_id, inc.alert_count) == ("resolved", a, 0)
        assert inc.resolved_at == clock.now()
        assert timeline_kinds(db, source)[-1] == "incident.merged_into"
        assert audit_actions(db, source)[-1] == "incident.merged_into"
    assert timeline_kinds(db, a)[-2:] == ["incident.merged", "incident.merged"]
    assert audit_actions(db, a) == ["incident.merge"]
    with reading(db, clock) as ctx:
        detail = service.detail_view(ctx, incident_id=a)
    assert detail["mergedFrom"] == [b, c]
    assert {x["dedupKey"] for x in detail["alerts"]["items"]} == {"a", "b", "c"}

    # A repeat of a moved alert now counts on the target; its resolve reaches it too.
    fire(db, clock, sid, event("b"))
    with db.read() as session:
        assert session.scalar(select(Alert.count).where(Alert.dedup_key == "b")) == 2

    refusals = [
        (Conflict, a, [b]),  # b is already merged
        (Invalid, a, [a]),  # into itself
        (NotFound, a, [d + 100]),
        (Conflict, b, [d]),  # b was merged away
    ]
    for error, into, sources in refusals:
        before = (snapshot(db, into), snapshot(db, d))
        with pytest.raises(error), acting(db, clock) as ctx:
            service.merge(ctx, target_id=into, source_ids=sources)
        assert (snapshot(db, into), snapshot(db, d)) == before
    with acting(db, clock) as ctx:
        service.resolve(ctx, incident_id=a)
    with pytest.raises(Conflict, match="reopen"), acting(db, clock) as ctx:
        service.merge(ctx, target_id=a, source_ids=[d])
    with pytest.raises(Conflict, match="merged into"), acting(db, clock) as ctx:
        service.reopen(ctx, incident_id=b)


def test_split_moves_chosen_alerts_to_a_new_incident(db: Database, clock: FakeClock) -> None:
    sid = make_service(db, clock, grouping={"by": ["cluster"]})
    labels = {"cluster": "eu-1"}
    outcomes = fire(
        db,
        clock,
        sid,
        event("x", labels=labels),
        event("y", labels=labels),
        event("z", labels=labels),
    )
    iid = outcomes[0].incident_id
    assert iid is not None and {o.incident_id for o in outcomes} == {iid}
    with db.read() as session:
        ids = {k: i for k, i in session.execute(select(Alert.dedup_key, Alert.id))}

    for bad in ([ids["x"], ids["y"], ids["z"]], [ids["x"], 99_999]):
        before = snapshot(db, iid)
        with pytest.raises(Invalid), acting(db, clock) as ctx:
            service.split(ctx, incident_id=iid, alert_ids=bad)
        assert snapshot(db, iid) == before

    with acting(db, clock) as ctx:
        new = service.split(ctx, incident_id=iid, alert_ids=[ids["y"], ids["z"]], title="DNS")
        new_id = new.id
    fresh = _incident(db, new_id)
    assert (fresh.title, fresh.status, fresh.alert_count, fresh.severity) == (
        "DNS",
        "triggered",
        2,
        "SEV1",
    )
    assert _incident(db, iid).alert_count == 1
    with db.read() as session:
        moved = session.scalars(select(Alert.dedup_key).where(Alert.incident_id == new_id)).all()
    assert sorted(moved) == ["y", "z"]
    assert timeline_kinds(db, new_id) == ["incident.split_from"]
    assert timeline_kinds(db, iid)[-1] == "incident.split"
    assert audit_actions(db, new_id) == ["incident.create"]

    # Auto-resolve keeps working per incident after the split.
    resolve_alert(db, clock, sid, "y")
    resolve_alert(db, clock, sid, "z")
    assert _incident(db, new_id).status == "resolved"
    assert _incident(db, iid).status == "triggered"


def test_suppressed_incidents_say_why(db: Database, clock: FakeClock) -> None:
    sid = make_service(db, clock)
    maintenance(db, clock, sid, "database upgrade")
    iid = fire(db, clock, sid, event("quiet"))[0].incident_id
    assert iid is not None
    with reading(db, clock) as ctx:
        view = service.detail_view(ctx, incident_id=iid)
    assert "maintenance" in view["suppressed"]
    assert "incident.suppressed" in [e["kind"] for e in view["timeline"]["items"]]
    with reading(db, clock) as ctx:
        rows, _ = service.list_incidents(ctx, filters=parse_filters(suppressed=True))
        assert [r.id for r in rows] == [iid]
        rows, _ = service.list_incidents(ctx, filters=parse_filters(suppressed=False))
        assert rows == []


def test_filters_and_pagination_walk_every_incident_once(db: Database, clock: FakeClock) -> None:
    checkout = make_service(db, clock, "checkout")
    search = make_service(db, clock, "search")
    make_user(db, clock, "ada")
    severities = ["critical", "error", "warning", "info"]
    for n in range(23):
        fire(
            db,
            clock,
            checkout if n % 3 else search,
            event(f"k{n}", f"Latency {'high' if n % 2 else 'ok'} #{n}", severity=severities[n % 4]),
        )
        clock.advance(seconds=1)
    with reading(db, clock) as ctx:
        everything, _ = service.list_incidents(ctx, filters=parse_filters(), limit=500)
    ids = [i.id for i in everything]
    assert len(ids) == 23 and ids == sorted(ids, reverse=True)
    with acting(db, clock) as ctx:
        for iid in ids[::4]:
            service.acknowledge(ctx, incident_id=iid)
        for iid in ids[1::5]:
            service.resolve(ctx, incident_id=iid)
        service.assign(ctx, incident_id=ids[2], add=["ada"])
        service.assign(ctx, incident_id=ids[7], add=["ada"])

    with reading(db, clock) as ctx:
        views = service.incident_views(
            ctx, service.list_incidents(ctx, filters=parse_filters(), limit=500)[0]
        )
        cases: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
            ({"status": ["triggered"]}, lambda v: v["status"] == "triggered"),
            ({"status": ["acknowledged,resolved"]}, lambda v: v["status"] != "triggered"),
            ({"status": ["resolved"]}, lambda v: v["status"] == "resolved"),
            ({"status": ["triggered,acknowledged"]}, lambda v: v["status"] != "resolved"),
            ({"status": ["resolved,triggered,acknowledged"]}, lambda v: True),
            ({"service": "search"}, lambda v: v["service"] == "search"),
            ({"severity": ["SEV1", "SEV4"]}, lambda v: v["severity"] in ("SEV1", "SEV4")),
            ({"urgency": "low"}, lambda v: v["urgency"] == "low"),
            ({"assignee": "ada"}, lambda v: v["assignees"] == ["ada"]),
            ({"q": "HIGH"}, lambda v: "high" in v["title"]),
            ({"q": "%"}, lambda v: "%" in v["title"]),
            (
                {"service": "checkout", "status": ["triggered"]},
                lambda v: v["service"] == "checkout" and v["status"] == "triggered",
            ),
            ({"service": "no-such-service"}, lambda v: False),
        ]
        for given, predicate in cases:
            filters = parse_filters(**given)
            walked: list[int] = []
            cursor = None
            while True:
                rows, cursor = service.list_incidents(ctx, filters=filters, cursor=cursor, limit=4)
                walked.extend(r.id for r in rows)
                if cursor is None:
                    break
            expected = [v["id"] for v in views if predicate(v)]
            assert walked == expected, given
    with pytest.raises(Invalid) as bad:
        parse_filters(status=["open"], severity=["SEV9"])
    assert {e.loc for e in bad.value.errors} == {"query.status.0", "query.severity.0"}
    with pytest.raises(Invalid), reading(db, clock) as ctx:
        service.list_incidents(ctx, filters=parse_filters(), cursor="not-a-cursor")
