"""Notifications: paging a user by their rules, over email, Slack, webhooks and SMS/voice
providers, with durable retried deliveries, a delivery log and signed action links."""

from watchbill.slice import Command, Kind, Slice

SLICE = Slice(
    name="notify",
    package=__name__,
    models=("watchbill.notify.models",),
    kinds=(Kind("notification-providers", "watchbill.notify.providers:PROVIDERS"),),
    routers=("watchbill.notify.api:router", "watchbill.notify.pages:router"),
    commands=(
        Command(
            "notify",
            "watchbill.notify.cli:app",
            "Notifications: send a test, read an incident's delivery log, webhook secrets.",
        ),
    ),
    jobs=("watchbill.notify.delivery",),
)
