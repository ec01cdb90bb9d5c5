"""Scenario 3: Redis and PostgreSQL restart while 200 clips render and their posts go out: nothing lost, nothing
doubled, and the service recovers by itself (workers and beat keep running; no manual step)."""

from __future__ import annotations

import collections
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from generation.models import Clip, ClipStatus
from publishing import services as publishing
from publishing.models import Post, PostStatus
from tests.generation.test_render_worker import make_template
from tests.publishing.test_publish_worker import connected_account
from tests.reliability.conftest import FAST_RECOVERY, full_only, trials
from tests.reliability.infra import restart_postgres, restart_redis, with_db_retry

pytestmark = [pytest.mark.integration, pytest.mark.slow, full_only]

def test_redis_and_postgres_restarts_lose_and_double_nothing(start_worker, beat, render_model_dir, sandbox, x_env,
                                                             record):
    count = trials(20, 200)
    media_root = Path(x_env["MEDIA_ROOT"])
    start_worker("gpu", name="gpu", CLIPCAST_MODEL_PATH=str(render_model_dir), MEDIA_ROOT=str(media_root),
                 CLIPCAST_WARM_MODEL="1", CLIPCAST_TORCH_THREADS="1", **FAST_RECOVERY)
    start_worker("default,publish", name="publish", concurrency=2, **x_env, **FAST_RECOVERY)
    template = make_template(approval_required=False)
    account = connected_account(sandbox, template.campaign.workspace)
    from generation import services as generation

    clips = generation.create_clips(template, [{"colour": "red"}] * count, params={"steps": 4},
                                    seed_policy=generation.SeedPolicy.INCREMENT, seed=5000).clips
    ids = [c.pk for c in clips]
    restarts: list[str] = []
    posted_for: set[int] = set()
    deadline = time.monotonic() + 300 + 3 * count
    while time.monotonic() < deadline:
        done = with_db_retry(lambda: list(Clip.objects.filter(pk__in=ids, status=ClipStatus.SUCCEEDED)
                                          .exclude(pk__in=posted_for)))
        for clip in done:  # the marketer's part of the chain: every rendered clip is scheduled at once
            with_db_retry(lambda clip=clip: publishing.schedule_post(clip, account, f"Clip {clip.pk} is out",
                                                                     timezone.now() + timedelta(seconds=1)))
            posted_for.add(clip.pk)
        if len(posted_for) >= count * 0.2 and "redis" not in restarts:
            restart_redis()
            restarts.append("redis")
        if len(posted_for) >= count * 0.5 and "postgres" not in restarts:
            restart_postgres()
            restarts.append("postgres")
        settled = with_db_retry(lambda: Post.objects.filter(clip_id__in=ids, status__in=[
            PostStatus.POSTED, PostStatus.FAILED]).count())
        if settled >= count:
            break
        time.sleep(1)

    clip_states = with_db_retry(lambda: collections.Counter(Clip.objects.filter(pk__in=ids)
                                                            .values_list("status", flat=True)))
    post_rows = with_db_retry(lambda: list(Post.objects.filter(clip_id__in=ids).values("caption", "status")))
    on_x = collections.Counter(p["text"] for p in sandbox.posts(account.x_user_id))
    files = collections.Counter(len(list(p.iterdir())) for p in (media_root / "clips").glob("*/*"))
    duplicates = sum(n - 1 for n in on_x.values() if n > 1) + sum(n for k, n in files.items() if k > 3)
    posted = sum(1 for r in post_rows if r["status"] == PostStatus.POSTED and on_x[r["caption"]] == 1)
    stuck = clip_states[ClipStatus.QUEUED] + clip_states[ClipStatus.RENDERING] + sum(
        1 for r in post_rows if r["status"] not in (PostStatus.POSTED, PostStatus.FAILED))
    lost = count - posted - stuck
    attempts = collections.Counter(with_db_retry(lambda: list(Clip.objects.filter(pk__in=ids)
                                                              .values_list("attempts", flat=True))))
    record("3. Infrastructure restarts (Redis, then PostgreSQL, mid-run)", trials=count, passed=posted,
           duplicates=duplicates, lost=lost, stuck=stuck,
           notes=f"restarted {', '.join(restarts)}; render attempts per clip {dict(sorted(attempts.items()))}",
           clip_states=dict(clip_states))
    assert restarts == ["redis", "postgres"]
    assert (duplicates, lost, stuck) == (0, 0, 0), (clip_states, collections.Counter(r["status"] for r in post_rows))
    assert posted == count
