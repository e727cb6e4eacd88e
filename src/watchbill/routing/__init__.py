"""Routing rules: first match wins, in explicit order; they reroute, reclassify or suppress."""

from watchbill.slice import Command, Kind, Slice

SLICE = Slice(
    name="routing",
    package=__name__,
    models=("watchbill.routing.models",),
    kinds=(Kind("routing-rules", "watchbill.routing.resource:ROUTING_RULES"),),
    routers=("watchbill.routing.api:router",),
    commands=(
        Command(
            "route",
            "watchbill.routing.cli:app",
            "Routing rules: list them in order, test sample events against them.",
        ),
    ),
)
