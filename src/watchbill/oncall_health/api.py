"""GET /api/v1/oncall/health (JSON) and /api/v1/oncall/health.csv: the on-call health
report over a period, for viewers and up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from watchbill.context import Ctx
from watchbill.oncall_health import service, views
from watchbill.oncall_health.schemas import HealthOut
from watchbill.resources.schema import check_name
from watchbill.schedules.schemas import Moment
from watchbill.settings import Settings
from watchbill.web.deps import ReadCtx, Runtime, runtime

router = APIRouter(prefix="/api/v1/oncall", tags=["on-call"])
Rt = Annotated[Runtime, Depends(runtime)]

From = Annotated[
    Moment | None,
    Query(alias="from", description="ISO 8601 instant with offset; default: to - 28 days"),
]
To = Annotated[
    Moment | None,
    Query(alias="to", description="ISO 8601 instant with offset; default now; at most 366 days"),
]
TeamQ = Annotated[
    str | None, Query(max_length=63, description="only this team's members (and totals)")
]


def build(
    ctx: Ctx, settings: Settings, start: datetime | None, end: datetime | None, team: str | None
) -> service.Report:
    """The report for query parameters as given (defaults filled in, the team checked)."""
    finish = (end or ctx.now()).astimezone(UTC)
    begin = (start or finish - service.DEFAULT_SPAN).astimezone(UTC)
    return service.report(
        ctx.session,
        start=begin,
        end=finish,
        team=check_name(team, "query.team") if team is not None else None,
        weekly_limits=settings.oncall_limits,
        sleep_hours=settings.sleep_hours,
    )


@router.get(
    "/health",
    response_model=HealthOut,
    summary="On-call health per person and team: hours, pages, sleep, time to acknowledge",
)
def health(
    ctx: ReadCtx, rt: Rt, start: From = None, end: To = None, team: TeamQ = None
) -> dict[str, Any]:
    return views.report_view(build(ctx, rt.settings, start, end, team))


@router.get(
    "/health.csv",
    response_class=Response,
    summary="The same, one CSV row per person (for compensation and payroll review)",
    responses={200: {"content": {"text/csv": {}}}},
)
def health_csv(
    ctx: ReadCtx, rt: Rt, start: From = None, end: To = None, team: TeamQ = None
) -> Response:
    report = build(ctx, rt.settings, start, end, team)
    return Response(
        views.report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{views.file_name(report)}"'},
    )
