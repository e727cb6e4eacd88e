"""Routing rules: the first rule, in explicit order, whose conditions all hold decides."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from watchbill.core.matchers import Matcher, all_match


@dataclass(frozen=True, slots=True)
class RuleActions:
    service: str | None = None
    severity: str | None = None
    priority: str | None = None
    urgency: str | None = None
    escalation_policy: str | None = None
    suppress: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    services: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    matchers: tuple[Matcher, ...] = ()
    text: re.Pattern[str] | None = None
    actions: RuleActions = field(default_factory=RuleActions)

    def matches(self, service: str, severity: str, labels: Mapping[str, str], text: str) -> bool:
        if self.services and service not in self.services:
            return False
        if self.severities and severity not in self.severities:
            return False
        if self.text is not None and not self.text.search(text):
            return False
        return all_match(self.matchers, labels)


def first_match(
    rules: Sequence[Rule], *, service: str, severity: str, labels: Mapping[str, str], text: str
) -> Rule | None:
    """Rules must be given in their order; the first whose conditions all hold wins."""
    for rule in rules:
        if rule.matches(service, severity, labels, text):
            return rule
    return None
