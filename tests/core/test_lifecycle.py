"""The incident status table, pair by pair: every (status, action) is either a defined
transition or refused with TransitionError."""

from __future__ import annotations

import itertools

import pytest

from watchbill.core.lifecycle import TRANSITIONS, Action, Status, TransitionError, transition

T, A, R = Status.TRIGGERED, Status.ACKNOWLEDGED, Status.RESOLVED
REFUSED = None

EXPECTED: dict[tuple[Status, Action], Status | None] = {
    (T, Action.TRIGGER): T,
    (T, Action.ACKNOWLEDGE): A,
    (T, Action.RESOLVE): R,
    (T, Action.REOPEN): REFUSED,  # only a resolved incident can be reopened
    (A, Action.TRIGGER): T,  # re-triggered (e.g. when the acknowledgement times out)
    (A, Action.ACKNOWLEDGE): A,
    (A, Action.RESOLVE): R,
    (A, Action.REOPEN): REFUSED,
    (R, Action.TRIGGER): REFUSED,  # a new alert opens a new incident instead
    (R, Action.ACKNOWLEDGE): REFUSED,
    (R, Action.RESOLVE): R,  # idempotent: a retried resolve is fine
    (R, Action.REOPEN): T,
}


def test_the_expectation_covers_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(Status, Action))
    assert len(EXPECTED) == 12


@pytest.mark.parametrize(("pair", "expected"), list(EXPECTED.items()), ids=str)
def test_every_pair(pair: tuple[Status, Action], expected: Status | None) -> None:
    current, action = pair
    if expected is REFUSED:
        with pytest.raises(TransitionError) as info:
            transition(current, action)
        assert str(info.value) == f"cannot {action.value} an incident that is {current.value}"
        assert isinstance(info.value, ValueError)
    else:
        assert transition(current, action) is expected


def test_the_table_holds_exactly_the_allowed_pairs() -> None:
    allowed = {pair: to for pair, to in EXPECTED.items() if to is not REFUSED}
    assert allowed == TRANSITIONS


def test_same_status_pairs_are_idempotent_no_ops() -> None:
    for status, action in [(T, Action.TRIGGER), (A, Action.ACKNOWLEDGE), (R, Action.RESOLVE)]:
        assert transition(transition(status, action), action) is status


def test_values_are_the_stored_strings() -> None:
    assert [s.value for s in Status] == ["triggered", "acknowledged", "resolved"]
    assert Status("acknowledged") is A
    assert [a.value for a in Action] == ["trigger", "acknowledge", "resolve", "reopen"]
