"""Scenario 2: the publish worker is SIGKILLed at one point of every post, in turn (during upload, after finalize,
right after the create call, before the commit): 0 duplicates and 0 losses on X; every post ends `posted`, or
`failed` with a reason."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from publishing.faults import POINTS
from publishing.models import Post, PostStatus
from publishing.tasks import dispatch_due_posts
from tests.factories import PromptTemplateFactory
from tests.publishing.test_publish_worker import approved_clip, connected_account, due_posts, wait_until_settled
from tests.reliability.conftest import trials

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_publisher_killed_at_random_points_posts_everything_once(start_worker, sandbox, x_env, make_video,
                                                                   record):
    count = trials(8, 100)
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    posts = due_posts(clip, account, count)
    start_worker("default,publish", concurrency=2, CLIPCAST_CRASH_POINTS="spread", **x_env)
    dispatch_due_posts.delay()
    counts = wait_until_settled([p.pk for p in posts], timeout=120 + 6 * count)

    crashes = collections.Counter(m.name.rsplit("-", 1)[0] for m in Path(x_env["CLIPCAST_CRASH_DIR"]).iterdir()
                                  if m.name.rsplit("-", 1)[0] in POINTS)
    on_x = collections.Counter(p["text"] for p in sandbox.posts(account.x_user_id))
    rows = list(Post.objects.filter(pk__in=[p.pk for p in posts]).values("caption", "status", "last_error",
                                                                          "x_post_id"))
    duplicates = sum(n - 1 for n in on_x.values() if n > 1)
    lost = sum(1 for r in rows if r["status"] == PostStatus.POSTED and on_x[r["caption"]] == 0) + sum(
        1 for r in rows if r["status"] == PostStatus.FAILED and not r["last_error"])
    stuck = sum(1 for r in rows if r["status"] not in (PostStatus.POSTED, PostStatus.FAILED))
    passed = sum(1 for r in rows if r["status"] == PostStatus.POSTED and on_x[r["caption"]] == 1)
    record("2. Publisher loss (SIGKILL at one of four crash points in every post)", trials=count, passed=passed,
           duplicates=duplicates, lost=lost, stuck=stuck,
           notes="crashes per point: " + ", ".join(f"{p} {crashes[p]}" for p in POINTS), **dict(crashes))
    assert sum(crashes.values()) == count, f"not every post crashed once: {crashes}"
    assert set(crashes) == set(POINTS), crashes
    assert (duplicates, lost, stuck) == (0, 0, 0), counts
    assert passed == count, counts
