"""The catalog: teams, services and status-page components that everything else refers to."""

from watchbill.slice import Kind, NavLink, Slice

SLICE = Slice(
    name="catalog",
    package=__name__,
    models=("watchbill.catalog.models",),
    kinds=(
        Kind("teams", "watchbill.catalog.resources:TEAMS"),
        Kind("services", "watchbill.catalog.resources:SERVICES"),
        Kind("components", "watchbill.catalog.resources:COMPONENTS"),
    ),
    routers=("watchbill.catalog.pages:router",),
    nav=(
        NavLink("Services", "/services", "Catalog"),
        NavLink("Teams", "/teams", "Catalog"),
        NavLink("People", "/users", "Catalog"),
        NavLink("Status-page components", "/components", "Catalog"),
        NavLink("Escalation policies", "/escalation-policies", "On-call"),
    ),
)
