"""Escalation policies and the escalation engine: who is paged for an incident, and when."""

from watchbill.slice import Kind, Slice

SLICE = Slice(
    name="escalation",
    package=__name__,
    models=("watchbill.escalation.models",),
    kinds=(Kind("escalation-policies", "watchbill.escalation.resource:ESCALATION_POLICIES"),),
    jobs=("watchbill.escalation.engine",),
)
