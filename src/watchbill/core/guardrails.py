"""Guardrails for what Watchbill does on its own (automated remediation, automated
rollback): a cap on runs per hour and a cooldown after each run, so that an action
that does not help cannot run in a loop while an incident keeps firing.

Human approval and dry-run are decisions of the slices that run actions; this module
answers only "may it run now, and if not, why and from when".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Guardrails:
    max_runs_per_hour: int
    cooldown: timedelta

    def __post_init__(self) -> None:
        if self.max_runs_per_hour < 0:
            raise ValueError("max_runs_per_hour must be 0 or more")
        if self.cooldown < timedelta(0):
            raise ValueError("cooldown must not be negative")


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str = ""
    retry_at: datetime | None = None
    """When the same request would be allowed, if nothing else runs meanwhile."""


def check(rails: Guardrails, runs: Iterable[datetime], now: datetime) -> Verdict:
    """May the action run at `now`, given when it ran before (in any order)?

    A run counts against the hourly cap for one hour after it started; the cooldown
    starts at the latest run. Runs recorded in the future (clock skew between
    processes) count as if they happened now.
    """
    started = sorted(min(t, now) for t in runs)
    if rails.max_runs_per_hour == 0:
        return Verdict(False, "the action is disabled: 0 runs per hour allowed")
    if not started:
        return Verdict(True)
    cooled = started[-1] + rails.cooldown
    recent = [t for t in started if now - t < HOUR]
    if len(recent) >= rails.max_runs_per_hour:
        retry = recent[len(recent) - rails.max_runs_per_hour] + HOUR
        reason = f"ran {len(recent)} times in the last hour (the cap is {rails.max_runs_per_hour})"
        return Verdict(False, reason, max(retry, cooled))
    if now < cooled:
        return Verdict(False, f"cooling down until {cooled.isoformat()}", cooled)
    return Verdict(True)
