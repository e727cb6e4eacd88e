"""Group keys (which alerts share an incident) and the grouping window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.grouping import accepts, group_key

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_without_group_by_each_alert_is_its_own_group() -> None:
    labels = {"alertname": "DiskFull"}
    assert group_key(labels, [], "k1") == "alert:k1"
    assert group_key(labels, [], "k1") != group_key(labels, [], "k2")


def test_ellipsis_groups_everything_together() -> None:
    assert group_key({"a": "1"}, ["..."], "k1") == group_key({"b": "2"}, ["..."], "k2") == "all"


def test_group_by_labels() -> None:
    by = ["alertname", "cluster"]
    a = group_key({"alertname": "DiskFull", "cluster": "eu", "instance": "db1"}, by, "k1")
    b = group_key({"alertname": "DiskFull", "cluster": "eu", "instance": "db2"}, by, "k2")
    c = group_key({"alertname": "DiskFull", "cluster": "us", "instance": "db1"}, by, "k3")
    d = group_key({"alertname": "CPUHigh", "cluster": "eu", "instance": "db1"}, by, "k4")
    assert a == b  # labels outside group_by and the dedup key do not matter
    assert len({a, c, d}) == 3


def test_the_order_of_group_by_does_not_matter() -> None:
    labels = {"alertname": "DiskFull", "cluster": "eu"}
    assert group_key(labels, ["alertname", "cluster"], "k") == group_key(
        labels, ["cluster", "alertname"], "k"
    )


def test_a_missing_label_groups_as_empty() -> None:
    by = ["alertname", "cluster"]
    assert group_key({"alertname": "X"}, by, "k1") == group_key(
        {"alertname": "X", "cluster": ""}, by, "k2"
    )
    assert group_key({"alertname": "X"}, by, "k1") != group_key(
        {"alertname": "X", "cluster": "eu"}, by, "k2"
    )


def test_the_key_names_each_label_and_value() -> None:
    key = group_key({"alertname": "DiskFull", "cluster": "eu"}, ["cluster", "alertname"], "k")
    assert key == "{alertname='DiskFull',cluster='eu'}"


tricky = st.text(st.sampled_from("ab,='\"{}\\ "), max_size=6)


@given(tricky, tricky, tricky, tricky)
def test_distinct_values_never_share_a_key(a1: str, b1: str, a2: str, b2: str) -> None:
    # Values holding the separators (, = ' " { }) cannot forge another group's key.
    by = ["a", "b"]
    same = group_key({"a": a1, "b": b1}, by, "x") == group_key({"a": a2, "b": b2}, by, "y")
    assert same is ((a1, b1) == (a2, b2))


@pytest.mark.parametrize(
    ("age", "window", "expected"),
    [
        (timedelta(0), None, True),
        (timedelta(days=365), None, True),  # no window: while the incident stays open
        (timedelta(0), timedelta(minutes=5), True),
        (timedelta(minutes=4, seconds=59), timedelta(minutes=5), True),
        (timedelta(minutes=5), timedelta(minutes=5), True),  # the boundary is inside
        (timedelta(minutes=5, microseconds=1), timedelta(minutes=5), False),
        (timedelta(hours=1), timedelta(minutes=5), False),
    ],
)
def test_window(age: timedelta, window: timedelta | None, expected: bool) -> None:
    assert accepts(T0, T0 + age, window) is expected


def test_a_long_key_is_hashed_to_fit_the_column() -> None:
    # incidents.group_key is VARCHAR(512); PostgreSQL refuses anything longer.
    by = ["alertname", "instance"]
    long_a = group_key({"alertname": "x" * 4096, "instance": "db1"}, by, "k1")
    long_b = group_key({"alertname": "x" * 4096, "instance": "db2"}, by, "k2")
    assert len(long_a) <= 512 and len(long_b) <= 512
    assert long_a.startswith("sha256:")
    assert long_a != long_b
    assert long_a == group_key({"instance": "db1", "alertname": "x" * 4096}, by, "k3")
    short = group_key({"alertname": "x" * 100}, ["alertname"], "k")
    assert not short.startswith("sha256:") and len(short) < 512
