"""Routing rules: every condition of a rule must hold; the first such rule in order wins."""

from __future__ import annotations

import re

import pytest

from watchbill.core.matchers import parse_matcher
from watchbill.core.routing import Rule, RuleActions, first_match

LABELS = {"alertname": "DiskFull", "env": "prod", "team": "db", "service": "billing"}


def hit(rule: Rule, service: str = "billing", severity: str = "critical", text: str = "") -> bool:
    return rule.matches(service, severity, LABELS, text or "Disk full on db1")


def test_a_rule_without_conditions_matches_everything() -> None:
    assert hit(Rule("any"))
    assert Rule("any").matches("", "", {}, "")


def test_services() -> None:
    rule = Rule("r", services=("billing", "ledger"))
    assert hit(rule, service="billing")
    assert hit(rule, service="ledger")
    assert not hit(rule, service="checkout")
    assert not hit(rule, service="bill")  # no prefix matching


def test_severities() -> None:
    rule = Rule("r", severities=("critical", "error"))
    assert hit(rule, severity="error")
    assert not hit(rule, severity="warning")


def test_text_is_searched_not_anchored() -> None:
    rule = Rule("r", text=re.compile("disk", re.IGNORECASE))
    assert hit(rule, text="Disk full on db1")
    assert hit(rule, text="the DISK is full")
    assert not hit(rule, text="CPU high")


def test_matchers_all_hold() -> None:
    ok = Rule("r", matchers=(parse_matcher('env="prod"'), parse_matcher('team=~"d.*"')))
    assert hit(ok)
    no = Rule("r", matchers=(parse_matcher('env="prod"'), parse_matcher('team!="db"')))
    assert not hit(no)


@pytest.mark.parametrize("failing", ["services", "severities", "text", "matchers"])
def test_every_condition_must_hold(failing: str) -> None:
    conditions = {
        "services": ("billing",),
        "severities": ("critical",),
        "text": re.compile("disk", re.IGNORECASE),
        "matchers": (parse_matcher('env="prod"'),),
    }
    assert hit(Rule("all", **conditions))  # type: ignore[arg-type]
    broken = {
        "services": ("other",),
        "severities": ("info",),
        "text": re.compile("nothing-like-this"),
        "matchers": (parse_matcher('env="dev"'),),
    }
    assert not hit(Rule("one-fails", **{**conditions, failing: broken[failing]}))  # type: ignore[arg-type]


def test_the_first_matching_rule_in_order_wins() -> None:
    rules = [
        Rule("dev-only", matchers=(parse_matcher('env="dev"'),)),
        Rule("db", matchers=(parse_matcher('team="db"'),), actions=RuleActions(priority="P1")),
        Rule("catch-all", actions=RuleActions(suppress=True)),
    ]
    kwargs = {"service": "billing", "severity": "critical", "labels": LABELS, "text": "x"}
    chosen = first_match(rules, **kwargs)  # type: ignore[arg-type]
    assert chosen is rules[1]
    assert chosen.actions.priority == "P1"
    assert first_match(list(reversed(rules)), **kwargs) is rules[2]  # type: ignore[arg-type]
    assert first_match(rules[:1], **kwargs) is None  # type: ignore[arg-type]
    assert first_match([], **kwargs) is None  # type: ignore[arg-type]


def test_actions_default_to_changing_nothing() -> None:
    acts = RuleActions()
    assert (acts.service, acts.severity, acts.priority, acts.urgency) == (None,) * 4
    assert acts.escalation_policy is None and acts.suppress is False
