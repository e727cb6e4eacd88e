"""Every kind of named object, in the order `apply` must write them (references first).

Later capabilities append their kinds here; API routes, CLI commands and YAML support
follow from this list.
"""

from __future__ import annotations

from watchbill.catalog.resources import COMPONENTS, SERVICES, TEAMS
from watchbill.escalation.resource import ESCALATION_POLICIES
from watchbill.notify.providers import PROVIDERS
from watchbill.resources.base import Resource
from watchbill.routing.resource import ROUTING_RULES
from watchbill.schedules.resource import SCHEDULES
from watchbill.users.resource import USERS

KINDS: list[Resource] = [
    USERS,
    TEAMS,
    SCHEDULES,
    ESCALATION_POLICIES,
    SERVICES,
    COMPONENTS,
    ROUTING_RULES,
    PROVIDERS,
]
BY_KIND: dict[str, Resource] = {r.kind: r for r in KINDS}
BY_PLURAL: dict[str, Resource] = {r.plural: r for r in KINDS}
