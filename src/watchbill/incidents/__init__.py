"""Incidents: what humans act on; severity, priority, urgency, status and a timeline."""

from watchbill.slice import Command, NavLink, Slice

SLICE = Slice(
    name="incidents",
    package=__name__,
    models=("watchbill.incidents.models",),
    routers=("watchbill.incidents.api:router", "watchbill.incidents.pages:router"),
    commands=(
        Command(
            "incidents",
            "watchbill.incidents.cli:app",
            "Incidents: list, show, acknowledge, resolve, reopen, note, assign, merge, split.",
        ),
    ),
    nav=(NavLink("Incidents", "/incidents", "Incidents"),),
)
