"""Applying documents (idempotently, all or nothing) and exporting the catalog back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select

from watchbill.config.documents import API_VERSION, Document
from watchbill.context import Ctx
from watchbill.errors import FieldError, WatchbillError
from watchbill.resources import service
from watchbill.resources.base import Resource
from watchbill.resources.kinds import Kinds


@dataclass(frozen=True, slots=True)
class Change:
    doc: Document
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self) -> list[str]:
        """Human-readable diff lines, as `apply --dry-run` prints them."""
        sign = {"created": "+", "updated": "~", "unchanged": "="}[self.action]
        lines = [f"{sign} {self.doc.resource.kind} {self.doc.name} ({self.action})"]
        if self.action == "updated" and self.before is not None and self.after is not None:
            for key in self.after:
                old, new = self.before.get(key), self.after.get(key)
                if old != new:
                    lines.append(f"    {key}: {_short(old)} -> {_short(new)}")
        return lines


def _short(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    text = text.removesuffix("...").strip()
    return text if len(text) <= 120 else text[:117] + "..."


def apply_documents(ctx: Ctx, kinds: Kinds, docs: list[Document]) -> list[Change]:
    """Write every document in reference order; any error aborts the caller's transaction."""
    ordered = sorted(docs, key=lambda doc: (kinds.index(doc.resource), doc.name))
    fresh: set[tuple[str, str]] = set()
    for res in kinds:
        if res.self_referencing:
            fresh |= _precreate(ctx, res, [d for d in ordered if d.resource is res])
    changes = []
    for doc in ordered:
        try:
            outcome = service.put(
                ctx, doc.resource, doc.name, doc.spec, fresh=(doc.resource.kind, doc.name) in fresh
            )
        except WatchbillError as exc:
            raise WatchbillError(
                f"{doc.where}: {exc.detail}",
                status=exc.status,
                title=exc.title,
                errors=[FieldError(f"{doc.where}: spec.{e.loc}", e.msg) for e in exc.errors],
            ) from exc
        changes.append(Change(doc, outcome.action, outcome.before, outcome.after))
    return changes


def _precreate(ctx: Ctx, res: Resource, docs: list[Document]) -> set[tuple[str, str]]:
    """Objects that refer to their own kind (service dependencies) may refer forward in
    the same apply: create the missing ones bare first; put() then fills them in."""
    missing = [d for d in docs if service.find(ctx, res, d.name) is None]
    for doc in missing:
        ctx.session.add(res.model(name=doc.name, created_at=ctx.now(), updated_at=ctx.now()))
    ctx.session.flush()
    return {(res.kind, d.name) for d in missing}


def document(res: Resource, obj: Any) -> dict[str, Any]:
    """One object as an apply document."""
    return {
        "apiVersion": API_VERSION,
        "kind": res.kind,
        "metadata": {"name": obj.name},
        "spec": res.spec_json(obj),
    }


def dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, explicit_start=True)


def export_documents(ctx: Ctx, kinds: Iterable[Resource]) -> str:
    """The catalog as multi-document YAML that `apply` reads back unchanged."""
    return dump(
        [
            document(res, obj)
            for res in kinds
            for obj in ctx.session.scalars(select(res.model).order_by(res.model.name))
        ]
    )
