"""Per-service integration keys: how monitoring tools reach a service without a user token."""

from watchbill.slice import Command, Slice

SLICE = Slice(
    name="integrations",
    package=__name__,
    models=("watchbill.integrations.models",),
    routers=("watchbill.integrations.api:router",),
    commands=(
        Command(
            "integrations",
            "watchbill.integrations.cli:app",
            "Integration keys and URLs of services.",
        ),
    ),
)
