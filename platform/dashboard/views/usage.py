"""Render usage: the workspace's device seconds this month against its quota, per month and per campaign."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.charts import bar_chart
from dashboard.workspace import page, workspace_view
from generation import costs


@workspace_view()
def usage(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace
    now = timezone.now()
    current = costs.usage(workspace, now)
    months = costs.monthly_totals(workspace)
    campaigns = costs.campaign_totals(workspace, now)
    charts = [
        bar_chart("Render minutes per month (UTC)", [(row["month"], row["gpu_seconds"] / 60) for row in months]),
        bar_chart("Render minutes per campaign, this month",
                  [(row["name"], row["month_gpu_seconds"] / 60) for row in campaigns if row["month_gpu_seconds"]]),
    ]
    return page(
        request, "dashboard/usage.html",
        {
            "section": "usage", "month": costs.month_start(now), "current": current, "campaigns": campaigns,
            "used_text": costs.seconds_text(current.used), "queued_text": costs.seconds_text(current.committed),
            "quota_text": None if current.quota is None else costs.seconds_text(current.quota), "charts": charts,
        },
    )
