"""Campaign counts and metric charts for the campaign pages."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from dashboard.charts import Chart, bar_chart, line_chart
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.metrics import campaign_rollup
from publishing.models import Post, PostStatus


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    # A correlated COUNT subquery per column: joining clips and posts at once would multiply the rows.
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_counts(campaigns: QuerySet) -> QuerySet:
    """Campaigns annotated with clip and post counts, in the same single query."""
    clips = Clip.objects.filter(campaign=OuterRef("pk"))
    posts = Post.objects.filter(clip__campaign=OuterRef("pk"))
    return campaigns.annotate(
        clip_count=_count(clips, "campaign"),
        active_clip_count=_count(clips.filter(status__in=[ClipStatus.QUEUED, ClipStatus.RENDERING]), "campaign"),
        approved_clip_count=_count(
            clips.filter(status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED), "campaign"
        ),
        scheduled_post_count=_count(posts.filter(status=PostStatus.SCHEDULED), "clip__campaign"),
        posted_post_count=_count(posts.filter(status=PostStatus.POSTED), "clip__campaign"),
    )


def _days(by_day: dict[str, dict[str, int]], key: str) -> list[tuple[str, float]]:
    known = {day: metrics[key] for day, metrics in by_day.items() if day != "unknown"}
    if not known:
        return []
    first, last = date.fromisoformat(min(known)), date.fromisoformat(max(known))
    series, day = [], first
    while day <= last:
        series.append((day.strftime("%b %-d"), float(known.get(day.isoformat(), 0))))
        day += timedelta(days=1)
    return series


def campaign_charts(campaign, days: int = 30) -> tuple[dict, list[Chart]]:
    """Totals and the four charts of a campaign page: impressions and likes per day and per prompt template."""
    rollup = campaign_rollup(campaign, days=days)
    by_template = rollup["by_template"].items()
    charts = [
        line_chart("Impressions per day (UTC)", _days(rollup["by_day"], "impression_count")),
        line_chart("Likes per day (UTC)", _days(rollup["by_day"], "like_count")),
        bar_chart("Impressions per prompt template", [(n, float(m["impression_count"])) for n, m in by_template]),
        bar_chart("Likes per prompt template", [(n, float(m["like_count"])) for n, m in by_template]),
    ]
    return rollup, charts
