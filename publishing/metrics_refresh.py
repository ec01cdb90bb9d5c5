"""Reading public metrics back from X for recent posts, one batched lookup per account."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict
from datetime import timedelta

from django.utils import timezone

from publishing import gateway
from publishing.models import Post, PostStatus
from publishing.x import XError

log = logging.getLogger(__name__)

WINDOW = timedelta(days=7)


def refresh_recent(now=None) -> int:
    now = now or timezone.now()
    posts = Post.objects.filter(status=PostStatus.POSTED, posted_at__gte=now - WINDOW).exclude(x_post_id="")
    by_account = defaultdict(list)
    for post in posts.select_related("x_account"):
        by_account[post.x_account].append(post)
    updated = 0
    for account, account_posts in by_account.items():
        try:
            with gateway.client_for(account) as client:
                found = client.get_posts([p.x_post_id for p in account_posts])
        except XError as error:
            log.warning("metrics.failed account=%s code=%s", account.pk, error.reason_code)
            continue
        for post in account_posts:
            x_post = found.get(post.x_post_id)
            if x_post is None or x_post.metrics is None:
                continue
            post.metrics = asdict(x_post.metrics)
            post.metrics_at = now
            post.save(update_fields=["metrics", "metrics_at", "updated_at"])
            updated += 1
    return updated
