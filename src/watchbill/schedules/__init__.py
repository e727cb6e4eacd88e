"""On-call schedules: layers of rotations with restrictions, overrides, who is on call,
the final schedule, coverage gaps, and iCalendar feeds."""

from watchbill.slice import Command, Kind, NavLink, Slice

SLICE = Slice(
    name="schedules",
    package=__name__,
    models=("watchbill.schedules.models",),
    kinds=(Kind("schedules", "watchbill.schedules.resource:SCHEDULES"),),
    routers=(
        "watchbill.schedules.api:router",
        "watchbill.schedules.api:public",
        "watchbill.schedules.pages:router",
    ),
    commands=(
        Command(
            "oncall",
            "watchbill.schedules.cli:app",
            "On-call: who is on call, the final schedule, gaps, overrides, feeds, recipes, "
            "and on-call health.",
        ),
    ),
    nav=(NavLink("Who is on call", "/oncall", "On-call"),),
)
