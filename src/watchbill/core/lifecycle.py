"""Incident status transitions as a table: what each action does from each status."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Action(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REOPEN = "reopen"


class TransitionError(ValueError):
    """The action makes no sense from the current status (e.g. acknowledge a resolved one)."""


# (from, action) -> to. Absent pairs are refused; a pair mapping to the same status is
# accepted as a no-op so that retried requests are idempotent.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.TRIGGERED, Action.TRIGGER): Status.TRIGGERED,
    (Status.TRIGGERED, Action.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.TRIGGERED, Action.RESOLVE): Status.RESOLVED,
    (Status.ACKNOWLEDGED, Action.TRIGGER): Status.TRIGGERED,
    (Status.ACKNOWLEDGED, Action.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.ACKNOWLEDGED, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.REOPEN): Status.TRIGGERED,
}


def transition(current: Status, action: Action) -> Status:
    """The status after `action`; raises TransitionError when it is not allowed."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise TransitionError(
            f"cannot {action.value} an incident that is {current.value}"
        ) from None
