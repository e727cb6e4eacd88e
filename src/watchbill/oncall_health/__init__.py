"""On-call health, the Director's view: hours on call, pages, sleep-hour pages, off-hours
interruptions, nights interrupted and time to acknowledge per person and team, with
warnings over configurable limits; JSON, CSV, a page and a command."""

from watchbill.slice import NavLink, Slice

SLICE = Slice(
    name="oncall_health",
    package=__name__,
    routers=("watchbill.oncall_health.api:router", "watchbill.oncall_health.pages:router"),
    nav=(NavLink("On-call health", "/oncall/health", "On-call"),),
)
