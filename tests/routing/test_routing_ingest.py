"""Routing rules decide an alert's fate in intake: reroute, reclassify or suppress, the
first matching rule in explicit order winning (on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from tests.routing.helpers import fire, make_policy, make_rule, make_services
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.routing.models import RoutingRule


def test_rule_reroutes_to_another_service_and_sets_its_fields(
    db: Database, clock: FakeClock
) -> None:
    ids = make_services(db, clock, "api", "db", policies={"api": "api-oncall", "db": "db-oncall"})
    make_rule(
        db,
        clock,
        "disk-to-db",
        order=10,
        match={"services": ["api"], "labels": ['alertname=~"Disk.*"'], "severities": ["warning"]},
        set={"service": "db", "severity": "SEV2", "priority": "P2", "urgency": "high"},
    )
    with db.read() as s:
        row = s.scalar(select(RoutingRule).where(RoutingRule.name == "disk-to-db"))
        assert row is not None and row.position == 10
        # Exactly the stored format compile_rule reads.
        assert row.match == {
            "services": ["api"],
            "severities": ["warning"],
            "labels": ['alertname=~"Disk.*"'],
            "text": "",
        }
        assert row.actions == {
            "set": {"service": "db", "severity": "SEV2", "priority": "P2", "urgency": "high"},
            "suppress": False,
        }

    moved = fire(
        db, clock, ids["api"], key="k1", severity="warning", labels={"alertname": "DiskFull"}
    )
    assert moved.service == "db"
    assert moved.alert.service_id == ids["db"]
    assert (moved.incident.severity, moved.incident.priority, moved.incident.urgency) == (
        "SEV2",
        "P2",
        "high",
    )
    assert moved.incident.escalation_policy == "db-oncall"  # the new service's policy
    assert moved.paged and moved.incident.suppressed == ""

    # Not matching (another alertname, or another severity): stays, with its defaults.
    for key, severity, name in [("k2", "warning", "CPUHigh"), ("k3", "critical", "DiskFull")]:
        stays = fire(db, clock, ids["api"], key=key, severity=severity, labels={"alertname": name})
        assert stays.service == "api"
        assert stays.incident.priority is None
        assert stays.incident.escalation_policy == "api-oncall"
    assert fire(db, clock, ids["api"], key="k4", severity="warning").incident.severity == "SEV3"


def test_rule_sets_escalation_policy_and_matches_text(db: Database, clock: FakeClock) -> None:
    ids = make_services(db, clock, "web", policies={"web": "web-oncall"})
    make_policy(db, clock, "payments-oncall")
    make_rule(
        db,
        clock,
        "payments",
        match={"text": "payment|checkout"},
        set={"escalationPolicy": "payments-oncall", "urgency": "low"},
    )
    hit = fire(db, clock, ids["web"], key="p1", summary="Checkout latency high", severity="error")
    assert hit.incident.escalation_policy == "payments-oncall"
    assert hit.incident.urgency == "low"
    assert hit.incident.severity == "SEV2"  # not set by the rule: from the alert's severity
    miss = fire(db, clock, ids["web"], key="p2", summary="Login latency high", severity="error")
    assert miss.incident.escalation_policy == "web-oncall"
    assert miss.incident.urgency == "high"


def test_suppressing_rule_records_the_alert_but_pages_nobody(
    db: Database, clock: FakeClock
) -> None:
    ids = make_services(db, clock, "batch")
    make_rule(
        db,
        clock,
        "quiet-staging",
        order=5,
        match={"labels": ["env=staging"]},
        suppress=True,
    )
    quiet = fire(db, clock, ids["batch"], key="s1", labels={"env": "staging"})
    assert quiet.alert.status == "firing"
    assert quiet.alert.suppressed == "suppressed by routing rule 'quiet-staging'"
    assert quiet.incident.suppressed == "suppressed by routing rule 'quiet-staging'"
    assert not quiet.paged
    kinds = [e.kind for e in quiet.timeline]
    assert "incident.suppressed" in kinds and "escalation.queued" not in kinds
    assert any("quiet-staging" in e.message for e in quiet.timeline)

    loud = fire(db, clock, ids["batch"], key="s2", labels={"env": "production"})
    assert loud.paged and loud.incident.suppressed == ""
    assert "escalation.queued" in [e.kind for e in loud.timeline]


def test_first_match_wins_in_explicit_order_not_name_order(db: Database, clock: FakeClock) -> None:
    ids = make_services(db, clock, "api")
    # "a-..." sorts first by name, but its order puts it after "z-...".
    make_rule(db, clock, "a-broad", order=20, match={}, set={"priority": "P5"})
    make_rule(
        db, clock, "z-specific", order=10, match={"labels": ["team=db"]}, set={"priority": "P1"}
    )
    assert fire(db, clock, ids["api"], key="f1", labels={"team": "db"}).incident.priority == "P1"
    assert fire(db, clock, ids["api"], key="f2", labels={"team": "web"}).incident.priority == "P5"

    # Same order: the name breaks the tie.
    clock.advance(1)
    make_rule(
        db, clock, "z-specific", order=20, match={"labels": ["team=db"]}, set={"priority": "P1"}
    )
    assert fire(db, clock, ids["api"], key="f3", labels={"team": "db"}).incident.priority == "P5"

    # Reordering changes the winner at once.
    clock.advance(1)
    make_rule(
        db, clock, "z-specific", order=1, match={"labels": ["team=db"]}, set={"priority": "P1"}
    )
    assert fire(db, clock, ids["api"], key="f4", labels={"team": "db"}).incident.priority == "P1"


def test_a_matching_rule_without_actions_stops_the_search(db: Database, clock: FakeClock) -> None:
    ids = make_services(db, clock, "api")
    make_rule(db, clock, "exempt-canary", order=1, match={"labels": ["canary=true"]})
    make_rule(db, clock, "suppress-all", order=2, match={}, suppress=True)
    assert fire(db, clock, ids["api"], key="c1", labels={"canary": "true"}).paged
    assert not fire(db, clock, ids["api"], key="c2").paged
