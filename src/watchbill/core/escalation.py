"""How an incident climbs its escalation policy: which level pages whom, and when.

A policy is ordered levels; each level names targets (users, or schedules whose on-call
person is paged) and how long to wait for an acknowledgement before the next level. The
whole policy repeats `repeat` more times. A level may page all its targets, or one of
them in turn (round robin: each new incident goes to the next). An acknowledgement
stops the climb; with an acknowledgement timeout, an incident still unresolved that
long after its acknowledgement triggers again and the climb restarts.

The incident keeps a snapshot of its policy (`to_snapshot`), so editing a policy does
not disturb incidents in flight. Everything here is pure; the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

USER = "user"
SCHEDULE = "schedule"
MAX_LEVELS = 20
MAX_REPEAT = 9


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # user | schedule
    name: str

    def __post_init__(self) -> None:
        if self.kind not in (USER, SCHEDULE):
            raise ValueError("a target is a user or a schedule")


@dataclass(frozen=True, slots=True)
class Level:
    targets: tuple[Target, ...]
    delay: timedelta  # waited after paging this level before the next one is paged
    round_robin: bool = False

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("a level needs at least one target")
        if self.delay < timedelta(0):
            raise ValueError("a level's delay cannot be negative")


@dataclass(frozen=True, slots=True)
class Policy:
    levels: tuple[Level, ...]
    repeat: int = 0
    ack_timeout: timedelta | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.levels) <= MAX_LEVELS:
            raise ValueError(f"a policy has 1 to {MAX_LEVELS} levels")
        if not 0 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"a policy repeats 0 to {MAX_REPEAT} times")
        if self.ack_timeout is not None and self.ack_timeout <= timedelta(0):
            raise ValueError("an acknowledgement timeout must be positive")


@dataclass(frozen=True, slots=True, order=True)
class Step:
    """One paging of one level: `cycle` counts the repeats of the whole policy (0 first)."""

    cycle: int
    level: int


FIRST = Step(0, 0)


def next_step(policy: Policy, step: Step) -> Step | None:
    """The step after this one, or None when the policy (with its repeats) is done."""
    if step.level + 1 < len(policy.levels):
        return Step(step.cycle, step.level + 1)
    if step.cycle < policy.repeat:
        return Step(step.cycle + 1, 0)
    return None


def delay_after(policy: Policy, step: Step) -> timedelta:
    return policy.levels[step.level].delay


def steps(policy: Policy) -> list[Step]:
    """Every step in order: what an incident nobody acknowledges goes through."""
    out, step = [], FIRST
    while True:
        out.append(step)
        following = next_step(policy, step)
        if following is None:
            return out
        step = following


def whom(level: Level, resolved: Sequence[str], turn: int) -> list[str]:
    """The people this level pages, from its targets resolved to user names in target
    order (a schedule resolved to whoever is on call; duplicates and gaps allowed):
    everyone once, or with round robin the `turn`-th of them."""
    unique = list(dict.fromkeys(name for name in resolved if name))
    if not unique:
        return []
    if level.round_robin:
        return [unique[turn % len(unique)]]
    return unique


def retrigger_at(policy: Policy, acknowledged_at: datetime) -> datetime | None:
    """When an acknowledged incident triggers again, or None if it never does."""
    if policy.ack_timeout is None:
        return None
    return acknowledged_at + policy.ack_timeout


def to_snapshot(policy: Policy, name: str) -> dict[str, Any]:
    """The policy as the incident keeps it (JSON): what escalation runs on from then."""
    return {
        "name": name,
        "repeat": policy.repeat,
        "ackTimeoutSeconds": (
            int(policy.ack_timeout.total_seconds()) if policy.ack_timeout is not None else None
        ),
        "levels": [
            {
                "delaySeconds": int(level.delay.total_seconds()),
                "roundRobin": level.round_robin,
                "targets": [{"type": t.kind, "name": t.name} for t in level.targets],
            }
            for level in policy.levels
        ],
    }


def from_snapshot(doc: dict[str, Any]) -> Policy:
    ack = doc.get("ackTimeoutSeconds")
    return Policy(
        levels=tuple(
            Level(
                targets=tuple(Target(t["type"], t["name"]) for t in level["targets"]),
                delay=timedelta(seconds=level["delaySeconds"]),
                round_robin=bool(level.get("roundRobin", False)),
            )
            for level in doc["levels"]
        ),
        repeat=int(doc.get("repeat", 0)),
        ack_timeout=timedelta(seconds=ack) if ack else None,
    )
