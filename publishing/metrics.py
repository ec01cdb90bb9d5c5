"""Roll post metrics up per campaign, per prompt template and per day."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from publishing.models import Post, PostStatus

# The metrics Clipcast keeps, under X's field names (as publishing.x.PublicMetrics reads them), with their labels.
METRIC_LABELS = {
    "impression_count": "Impressions", "like_count": "Likes", "retweet_count": "Reposts",
    "reply_count": "Replies", "quote_count": "Quotes", "bookmark_count": "Bookmarks",
}
METRIC_KEYS = tuple(METRIC_LABELS)
# What counts as engaging with a post (experiments' rates and the best-time map): bookmarks are private, so no.
ENGAGEMENT_KEYS = ("like_count", "reply_count", "retweet_count", "quote_count")


def engagements_of(metrics: dict) -> int:
    return sum(int(metrics.get(name, 0) or 0) for name in ENGAGEMENT_KEYS)


def _empty() -> dict[str, int]:
    return dict.fromkeys(METRIC_KEYS, 0)


def rollup(posts) -> dict:
    """Totals, per prompt template and per UTC day of posting, for posted posts."""
    totals, by_template, by_day = _empty(), defaultdict(_empty), defaultdict(_empty)
    count = 0
    for post in posts:
        count += 1
        template = post.clip.prompt_template.name if post.clip.prompt_template_id else "(no template)"
        day = post.posted_at.date().isoformat() if post.posted_at else "unknown"
        for key in METRIC_KEYS:
            value = int((post.metrics or {}).get(key) or 0)
            totals[key] += value
            by_template[template][key] += value
            by_day[day][key] += value
    return {
        "posts": count,
        "totals": totals,
        "by_template": dict(sorted(by_template.items())),
        "by_day": dict(sorted(by_day.items())),
    }


def campaign_rollup(campaign, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    posts = (
        Post.objects.filter(clip__campaign=campaign, status=PostStatus.POSTED, posted_at__gte=since)
        .select_related("clip__prompt_template")
        .only("metrics", "posted_at", "clip__prompt_template__name", "clip__prompt_template_id")
    )
    return rollup(posts)
