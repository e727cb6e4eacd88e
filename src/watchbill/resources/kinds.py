"""The kinds of named objects an application holds, in the order `apply` writes them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from watchbill.resources.base import Resource


class Kinds:
    """Resources ordered so that every kind comes after the kinds it refers to.

    The order is computed, not hand-kept: slices declare their kinds in any order and
    each kind names what it refers to (`Resource.references`). Among kinds that are
    ready, the one declared first goes first, so the order is stable.
    """

    def __init__(self, resources: Iterable[Resource]) -> None:
        pending = list(resources)
        known = {r.kind for r in pending}
        for res in pending:
            unknown = [k for k in res.references if k not in known]
            if unknown:
                raise ValueError(f"{res.kind} refers to unknown kinds: {', '.join(unknown)}")
        self.ordered: list[Resource] = []
        placed: set[str] = set()
        while pending:
            ready = next(
                (r for r in pending if all(k in placed or k == r.kind for k in r.references)),
                None,
            )
            if ready is None:
                cycle = ", ".join(r.kind for r in pending)
                raise ValueError(f"kinds refer to each other in a cycle: {cycle}")
            pending.remove(ready)
            placed.add(ready.kind)
            self.ordered.append(ready)
        self.by_kind: dict[str, Resource] = {r.kind: r for r in self.ordered}
        self.by_plural: dict[str, Resource] = {r.plural: r for r in self.ordered}

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.ordered)

    def __len__(self) -> int:
        return len(self.ordered)

    def index(self, res: Resource) -> int:
        return self.ordered.index(res)
