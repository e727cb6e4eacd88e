"""The append-only record of every change: who, what, before, after, when, from where."""

from watchbill.slice import NavLink, Slice

SLICE = Slice(
    name="audit",
    package=__name__,
    models=("watchbill.audit.models",),
    routers=("watchbill.audit.api:router", "watchbill.audit.pages:router"),
    nav=(NavLink("Audit log", "/audit", "Admin"),),
)
