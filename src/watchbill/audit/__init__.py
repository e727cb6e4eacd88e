"""The append-only record of every change: who, what, before, after, when, from where."""

from watchbill.slice import Command, NavLink, Slice

SLICE = Slice(
    name="audit",
    package=__name__,
    models=("watchbill.audit.models",),
    routers=("watchbill.audit.api:router", "watchbill.audit.pages:router"),
    commands=(
        Command("audit", "watchbill.audit.cli:app", "The audit log: check that nobody altered it."),
    ),
    nav=(NavLink("Audit log", "/audit", "Admin"),),
)
