"""Best time to post: an account's engagement rate by weekday and hour as a heat map."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from core.timezones import refusal
from dashboard.workspace import page, scoped, workspace_view
from publishing.best_time import DAYS, PRIOR_IMPRESSIONS, heat_map
from publishing.models import XAccount


def chosen_timezone(request: HttpRequest, default: str) -> tuple[str, str | None]:
    """The ?tz= of the request when it is a valid IANA name, else the default and what was wrong."""
    raw = request.GET.get("tz", "").strip()
    if not raw:
        return default, None
    problem = refusal(raw[:64])
    if problem:
        return default, f"{problem} Showing {default}."
    return raw, None


@workspace_view()
def best_times(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(scoped(XAccount, request), pk=pk)
    tz_name, problem = chosen_timezone(request, request.workspace.timezone)
    grid = heat_map(account, tz_name)
    top = grid.top or 1.0
    rows = [(DAYS[day], [(cell, round(100 * cell.smoothed / top) if cell.posts else 0) for cell in grid.cells[day]])
            for day in range(7)]
    return page(request, "dashboard/accounts/best_times.html", {
        "account": account, "grid": grid, "rows": rows, "hours": range(24), "best": grid.best(5),
        "tz_name": tz_name, "problem": problem, "prior": PRIOR_IMPRESSIONS,
    }, status=400 if problem else 200)
