"""Server-side SVG charts: geometry, escaping, and the campaign page's metrics charts."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.charts import bar_chart, line_chart, nice_max, short_number
from publishing.models import Post, PostStatus
from tests.factories import PromptTemplateFactory
from tests.worlds import make_clip


def test_axis_maxima_are_round_and_numbers_short():
    assert [nice_max(v) for v in (0, 3, 7, 12, 240, 999)] == [5, 5, 10, 20, 250, 1000]
    assert [tick.label for tick in bar_chart("Likes", [("a", 3)]).ticks] == ["0", "1", "2", "3", "4", "5"]
    assert (short_number(1234), short_number(2_500_000), short_number(12)) == ("1.2k", "2.5M", "12")


def test_bars_are_scaled_to_the_plot_and_zero_is_flat():
    chart = bar_chart("Likes", [("a", 10), ("b", 5), ("c", 0)], width=300, height=200)
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    assert all(bar.y + bar.height == pytest.approx(chart.plot_bottom) for bar in chart.bars)
    assert "highest 10 (a)" in chart.summary


def test_a_line_chart_has_one_point_per_day_and_an_empty_chart_says_so():
    chart = line_chart("Impressions", [("Mar 1", 1), ("Mar 2", 4)], width=300, height=200)
    assert chart.polyline.count(",") == 2
    empty = render_to_string("dashboard/charts/chart.html", {"chart": bar_chart("Nothing", []), "chart_id": 1})
    assert "No data yet" in empty


def test_labels_are_escaped_in_the_svg():
    svg = render_to_string(
        "dashboard/charts/chart.html", {"chart": bar_chart("T", [("<script>x</script>", 3)]), "chart_id": 1}
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.django_db
def test_the_campaign_page_charts_impressions_and_likes_per_day_and_template(viewer, mine):
    other = PromptTemplateFactory(campaign=mine.campaign, name="Bouncing <b>balls</b>")
    other_clip = make_clip(mine.campaign, other, seed=77, status="succeeded")
    now = timezone.now()
    Post.objects.filter(pk=mine.post.pk).update(
        status=PostStatus.POSTED, posted_at=now, metrics={"impression_count": 300, "like_count": 12}
    )
    Post.objects.create(
        clip=other_clip, x_account=mine.account, caption="b", scheduled_at=now, status=PostStatus.POSTED,
        posted_at=now, metrics={"impression_count": 100, "like_count": 30},
    )
    response = viewer.get(reverse("dashboard:campaign", args=[mine.campaign.pk]))
    body = response.content.decode()
    titles = [chart.title for chart in response.context["charts"]]
    assert titles == [
        "Impressions per day (UTC)", "Likes per day (UTC)", "Impressions per prompt template",
        "Likes per prompt template",
    ]
    per_template = {bar.label: bar.value for bar in response.context["charts"][2].bars}
    assert per_template == {mine.template.name: 300, "Bouncing <b>balls</b>": 100}
    assert body.count("<svg") == 4 and "<strong>400</strong> impressions" in body
    assert "<b>balls</b>" not in body


def test_days_without_posts_are_zero_in_the_daily_series():
    from dashboard.insights import _days

    by_day = {"2026-03-01": {"like_count": 2}, "2026-03-03": {"like_count": 5}}
    assert _days(by_day, "like_count") == [("Mar 1", 2.0), ("Mar 2", 0.0), ("Mar 3", 5.0)]
