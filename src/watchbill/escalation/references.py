"""Which escalation policies page a user or a schedule: deleting either while a policy
still names it would turn that level into a silent "nobody to page" at 2 a.m."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill.errors import Conflict
from watchbill.escalation.models import EscalationPolicy


def policies_naming(session: Session, target_type: str, name: str) -> list[str]:
    """Names of the policies with a level targeting `name` ("user" or "schedule")."""
    return sorted(
        row.name
        for row in session.execute(select(EscalationPolicy.name, EscalationPolicy.levels))
        if any(
            target.get("type") == target_type and target.get("name") == name
            for level in row.levels or []
            for target in level.get("targets", [])
        )
    )


def refuse_if_paged(session: Session, target_type: str, name: str) -> None:
    """409 while a policy pages `name`: the policy must be edited first."""
    policies = policies_naming(session, target_type, name)
    if policies:
        raise Conflict(
            f"{target_type} {name!r} is paged by escalation policies: {', '.join(policies)}; "
            "take it off those policies first"
        )
