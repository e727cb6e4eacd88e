"""The home page: open incidents and who is on call, what a responder needs first."""

from watchbill.slice import Slice

SLICE = Slice(name="home", package=__name__, routers=("watchbill.home.pages:router",))
