"""The home page: what a responder needs first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from watchbill.catalog.models import Service, Team
from watchbill.users.models import User
from watchbill.web.layout import SignedIn, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, pu: SignedIn) -> Response:
    counts = {
        "services": pu.session.scalar(select(func.count()).select_from(Service)),
        "teams": pu.session.scalar(select(func.count()).select_from(Team)),
        "people": pu.session.scalar(select(func.count()).select_from(User)),
    }
    return render(request, "home.html", pu, counts=counts)
