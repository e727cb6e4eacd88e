"""People: who they are, where they live (time zone), how to reach them, what they may do."""

from watchbill.slice import Command, Kind, Slice

SLICE = Slice(
    name="users",
    package=__name__,
    models=("watchbill.users.models",),
    kinds=(Kind("users", "watchbill.users.resource:USERS"),),
    commands=(
        Command(
            "users", "watchbill.users.cli:app", "People: create, list, show, delete, set passwords."
        ),
    ),
)
