"""Who is calling and what they may do: API tokens, page sessions, roles."""

from watchbill.slice import Command, NavLink, Slice

SLICE = Slice(
    name="auth",
    package=__name__,
    models=("watchbill.auth.models",),
    routers=("watchbill.auth.api:router", "watchbill.auth.pages:router"),
    commands=(
        Command(
            "tokens", "watchbill.auth.cli:app", "API tokens: create (shown once), list, revoke."
        ),
    ),
    nav=(NavLink("Tokens", "/tokens", "Admin"),),
)
