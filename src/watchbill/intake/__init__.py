"""Inbound integrations: vendor payloads in, normalised alert events out, committed in
groups by one writer so that every 2xx means the event is durable."""

from watchbill.slice import Slice

SLICE = Slice(
    name="intake",
    package=__name__,
    routers=("watchbill.intake.api:router",),
    jobs=("watchbill.intake.heartbeat",),
    recurring=("watchbill.intake.heartbeat:start_sweeps",),
    installs=("watchbill.intake.lifecycle:install",),
)
