"""Alerts: normalised, deduplicated while open, routed, silenced, grouped into incidents."""

from watchbill.slice import Command, NavLink, Slice

SLICE = Slice(
    name="alerts",
    package=__name__,
    models=("watchbill.alerts.models",),
    routers=("watchbill.alerts.api:router", "watchbill.alerts.pages:router"),
    commands=(
        Command("alerts", "watchbill.alerts.cli:alerts_app", "Alerts as received: list and show."),
        Command(
            "silences",
            "watchbill.alerts.cli:silences_app",
            "Silences (Alertmanager-style): list, create, expire.",
        ),
        Command(
            "maintenance",
            "watchbill.alerts.cli:maintenance_app",
            "Maintenance windows per service: list, create, end.",
        ),
    ),
    nav=(
        NavLink("Alerts", "/alerts", "Alerts"),
        NavLink("Silences", "/silences", "Alerts"),
        NavLink("Maintenance", "/maintenance", "Alerts"),
        NavLink("Routing rules", "/routing-rules", "Alerts"),
    ),
)
