"""Every slice of this build of Watchbill, in order: routers are included, and kinds
that do not refer to each other are applied, in this order."""

from __future__ import annotations

from watchbill.alerts import SLICE as ALERTS
from watchbill.audit import SLICE as AUDIT
from watchbill.auth import SLICE as AUTH
from watchbill.catalog import SLICE as CATALOG
from watchbill.escalation import SLICE as ESCALATION
from watchbill.home import SLICE as HOME
from watchbill.incidents import SLICE as INCIDENTS
from watchbill.intake import SLICE as INTAKE
from watchbill.integrations import SLICE as INTEGRATIONS
from watchbill.notify import SLICE as NOTIFY
from watchbill.oncall_health import SLICE as ONCALL_HEALTH
from watchbill.routing import SLICE as ROUTING
from watchbill.schedules import SLICE as SCHEDULES
from watchbill.slice import Slice
from watchbill.users import SLICE as USERS

SLICES: list[Slice] = [
    HOME,
    USERS,
    AUTH,
    AUDIT,
    CATALOG,
    SCHEDULES,
    ESCALATION,
    ROUTING,
    INTEGRATIONS,
    ALERTS,
    INTAKE,
    INCIDENTS,
    NOTIFY,
    ONCALL_HEALTH,
]

NAV_SECTIONS: tuple[str, ...] = (
    "Incidents",
    "Alerts",
    "On-call",
    "Changes",
    "Reliability",
    "Cost",
    "Catalog",
    "Admin",
)
"""The navigation's headings, left to right; a slice files its links under one of them."""
