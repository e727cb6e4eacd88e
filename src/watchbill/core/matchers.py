"""Label matchers with Alertmanager's semantics: `=`, `!=`, `=~`, `!~`, regexes anchored.

Silences and routing rules use them; a label that is absent matches as the empty string,
as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_OPS = ("=~", "!~", "!=", "=")
_FLAGS = re.compile(r"^\(\?[ims]+\)")
MAX_PATTERN = 1024


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled."""


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN:
        raise MatcherError(f"regex longer than {MAX_PATTERN} characters")
    try:
        # \Z, not $: Python's $ also matches before a final newline, Go's does not.
        # Leading inline flags such as (?i), valid anywhere in Go, must lead in Python.
        flags = _FLAGS.match(pattern)
        lead = flags.group(0) if flags else ""
        return re.compile(f"{lead}^(?:{pattern[len(lead) :]})\\Z")
    except re.error as exc:
        raise MatcherError(f"invalid regex {pattern!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise MatcherError(f"invalid label name {self.name!r}")
        if self.is_regex:
            object.__setattr__(self, "_regex", _compile(self.value))

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is not None:
            hit = self._regex.match(actual) is not None
        else:
            hit = actual == self.value
        return hit if self.is_equal else not hit

    @property
    def op(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.is_regex, self.is_equal)
        ]

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """`name=value`, `name!=value`, `name=~regex`, `name!~regex`; value may be quoted."""
    text = text.strip()
    for op in _OPS:
        name, sep, value = text.partition(op)
        if sep and name and _NAME.match(name.strip()):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            return Matcher(
                name=name.strip(),
                value=value,
                is_regex=op in ("=~", "!~"),
                is_equal=op in ("=", "=~"),
            )
    raise MatcherError(f"cannot parse matcher {text!r}; use name=value, !=, =~ or !~")


def all_match(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
