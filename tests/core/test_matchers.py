"""Label matchers with Alertmanager's semantics: =, !=, =~, !~, anchored regexes, and an
absent label matching as the empty string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.matchers import MAX_PATTERN, Matcher, MatcherError, all_match, parse_matcher

LABELS = {"alertname": "DiskFull", "env": "prod", "job": "api-server", "team": "db"}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # =
        ('env="prod"', LABELS, True),
        ("env=prod", LABELS, True),
        ('env="pro"', LABELS, False),  # no prefix match
        ('env="prod "', LABELS, False),  # quoted whitespace is part of the value
        ('env="PROD"', LABELS, False),  # case-sensitive
        # !=
        ('env!="dev"', LABELS, True),
        ('env!="prod"', LABELS, False),
        # =~ is anchored at both ends
        ('job=~"api"', LABELS, False),
        ('job=~"server"', LABELS, False),
        ('job=~"api.*"', LABELS, True),
        ('job=~".*-server"', LABELS, True),
        ('job=~"api-server|web"', LABELS, True),
        ('env=~"pr|xx"', LABELS, False),  # the group is anchored, not only the first branch
        ('env=~"xx|od"', LABELS, False),
        ('env=~"p.*d"', LABELS, True),
        # !~
        ('job!~"api.*"', LABELS, False),
        ('job!~"api"', LABELS, True),  # anchored, so "api" does not match "api-server"
        # an absent label is the empty string
        ('missing=""', LABELS, True),
        ('missing!=""', LABELS, False),
        ('missing="x"', LABELS, False),
        ('missing!="x"', LABELS, True),
        ('missing=~".*"', LABELS, True),
        ('missing=~".+"', LABELS, False),
        ('missing!~"prod"', LABELS, True),
        ('missing!~".*"', LABELS, False),
        # a present but empty label behaves the same as an absent one
        ('blank=""', {"blank": ""}, True),
        ('blank=~".+"', {"blank": ""}, False),
    ],
)
def test_semantics(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_anchoring_does_not_let_a_trailing_newline_through() -> None:
    # Go's $ (Alertmanager) matches only at the very end; Python's also before a last "\n".
    assert not parse_matcher('env=~"prod"').matches({"env": "prod\n"})
    assert parse_matcher('env!~"prod"').matches({"env": "prod\n"})
    assert parse_matcher('env=~"prod\\n"').matches({"env": "prod\n"})


@pytest.mark.parametrize(
    ("text", "name", "value", "op"),
    [
        ('a="b"', "a", "b", "="),
        ("a!=b", "a", "b", "!="),
        ('a=~"b.*"', "a", "b.*", "=~"),
        ('a!~"b|c"', "a", "b|c", "!~"),
        ('  a  =  "b"  ', "a", "b", "="),
        ('a="x=~y"', "a", "x=~y", "="),  # operators inside the quoted value stay there
        ('a="x!=y"', "a", "x!=y", "="),
        ('a!="x=~y"', "a", "x=~y", "!="),
        ('a=~"x!~y"', "a", "x!~y", "=~"),
        ("a=b=c", "a", "b=c", "="),
        ('a=""', "a", "", "="),
        ('a="say \\"hi\\""', "a", 'say "hi"', "="),
        ("_private=1", "_private", "1", "="),
    ],
)
def test_parsing(text: str, name: str, value: str, op: str) -> None:
    m = parse_matcher(text)
    assert (m.name, m.value, m.op) == (name, value, op)
    assert m.is_regex is (op in ("=~", "!~"))
    assert m.is_equal is (op in ("=", "=~"))


@pytest.mark.parametrize(
    "text",
    ["", "env", '"env"="prod"', "1env=prod", "en-v=prod", "=prod", "env~prod"],
)
def test_unparseable_matchers_are_refused(text: str) -> None:
    with pytest.raises(MatcherError):
        parse_matcher(text)


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{2,1}", "*", "(?P<x>a)(?P<x>b)"])
def test_a_bad_regex_is_an_error_naming_it(pattern: str) -> None:
    with pytest.raises(MatcherError, match="invalid regex"):
        parse_matcher(f'env=~"{pattern}"')
    with pytest.raises(MatcherError, match="invalid regex"):
        Matcher("env", pattern, is_regex=True, is_equal=False)


def test_a_bad_regex_is_fine_as_a_plain_value() -> None:
    assert parse_matcher('env="("').matches({"env": "("})


def test_regex_length_is_limited() -> None:
    assert parse_matcher(f'env=~"{"a" * MAX_PATTERN}"').matches({"env": "a" * MAX_PATTERN})
    with pytest.raises(MatcherError, match="longer"):
        parse_matcher(f'env=~"{"a" * (MAX_PATTERN + 1)}"')


@pytest.mark.parametrize("name", ["", "1a", "a-b", "a.b", "é", "a b"])
def test_label_names_are_validated(name: str) -> None:
    with pytest.raises(MatcherError, match="invalid label name"):
        Matcher(name, "x")


def test_all_match_needs_every_matcher() -> None:
    ms = [parse_matcher('env="prod"'), parse_matcher('team=~"d.*"')]
    assert all_match(ms, LABELS)
    assert not all_match([*ms, parse_matcher('job="web"')], LABELS)
    assert all_match([], LABELS)  # no matchers: everything matches
    assert all_match([], {})


def test_equality_ignores_the_compiled_regex() -> None:
    assert parse_matcher('a=~"b"') == Matcher("a", "b", is_regex=True)
    assert parse_matcher('a=~"b"') != parse_matcher('a="b"')


@pytest.mark.parametrize(
    ("matcher", "shown"),
    [
        (Matcher("a", "b"), 'a="b"'),
        (Matcher("a", "b", is_equal=False), 'a!="b"'),
        (Matcher("a", "b.*", is_regex=True), 'a=~"b.*"'),
        (Matcher("a", "b.*", is_regex=True, is_equal=False), 'a!~"b.*"'),
    ],
)
def test_str_is_alertmanager_syntax(matcher: Matcher, shown: str) -> None:
    assert str(matcher) == shown
    assert parse_matcher(shown) == matcher


names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
values = st.text(st.characters(codec="utf-8", exclude_characters="\\"), max_size=20)


@given(names, values, st.booleans(), values)
def test_plain_matchers_round_trip_and_mean_string_equality(
    name: str, value: str, is_equal: bool, actual: str
) -> None:
    m = Matcher(name, value, is_equal=is_equal)
    assert parse_matcher(str(m)) == m
    assert m.matches({name: actual}) is ((actual == value) is is_equal)
