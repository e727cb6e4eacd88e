"""The incident page's extension point: other slices add panels to it (recent changes,
incident roles, the status page) without the incidents slice knowing them.

A slice declares `Extension(INCIDENT_PANELS, "module:function")`; the function gets the
signed-in page user, the runtime and the incident row, and returns a `Panel`, or None
when it has nothing to show for this incident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from watchbill.incidents.models import Incident
from watchbill.web.deps import Runtime
from watchbill.web.layout import PageUser

INCIDENT_PANELS = "incidents.panels"


@dataclass(frozen=True, slots=True)
class Panel:
    """A titled section of the incident page; `html` is already rendered (and escaped)."""

    title: str
    html: Markup


PanelMaker = Callable[[PageUser, Runtime, Incident], Panel | None]


def panels(pu: PageUser, rt: Runtime, incident: Incident) -> list[Panel]:
    makers: list[Any] = rt.extensions.get(INCIDENT_PANELS, [])
    return [p for p in (make(pu, rt, incident) for make in makers) if p is not None]
