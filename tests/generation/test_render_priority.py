"""Render-aware scheduling: workers take the clip whose post is due soonest, and a clip that cannot be ready before
its post is flagged while there is still time to act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from generation import costs
from generation.models import Clip, ClipStatus
from generation.rendering import claim_next, worker_identity
from publishing.models import Post, PostStatus, XAccount
from tests.factories import MembershipFactory, PromptTemplateFactory, UserFactory


def queued(template, seed: int, **fields) -> Clip:
    return Clip.objects.create(campaign=template.campaign, prompt=f"clip {seed}", seed=seed,
                               render_params={"frames": 8, "steps": 10}, enqueued_at=timezone.now(), **fields)


def post_for(clip: Clip, in_minutes: float, status: str = PostStatus.SCHEDULED) -> Post:
    account, _ = XAccount.objects.get_or_create(workspace=clip.campaign.workspace, handle="brand")
    return Post.objects.create(clip=clip, x_account=account, caption=f"post of {clip.pk}", status=status,
                               scheduled_at=timezone.now() + timedelta(minutes=in_minutes))


@pytest.mark.django_db
def test_a_render_message_renders_the_clip_whose_post_is_due_soonest_then_first_come():
    template = PromptTemplateFactory()
    oldest = queued(template, 1)
    later_post = queued(template, 2)
    soonest_post = queued(template, 3)
    cancelled_post = queued(template, 4)
    newest = queued(template, 5)
    post_for(later_post, 120)
    post_for(soonest_post, 60)
    post_for(cancelled_post, 1, status=PostStatus.CANCELLED)  # no longer waits for its clip
    # The reaper re-sent the oldest clip's message (it waited long): it keeps its place all the same.
    Clip.objects.filter(pk=oldest.pk).update(enqueued_at=timezone.now() + timedelta(minutes=1))
    me = worker_identity()

    order = []
    for _ in range(5):
        order.append(claim_next(newest.pk, me))  # every message names the newest clip: the order ignores it
        Clip.objects.filter(pk=order[-1]).update(status=ClipStatus.SUCCEEDED)
    assert order == [soonest_post.pk, later_post.pk, oldest.pk, cancelled_post.pk, newest.pk]
    assert claim_next(newest.pk, me) is None, "a message with nothing left to render does nothing"


@pytest.mark.django_db
def test_a_cut_short_attempt_of_this_process_is_taken_back_before_anything_else():
    template = PromptTemplateFactory()
    me = worker_identity()
    mine = queued(template, 1, status=ClipStatus.RENDERING, worker=me, attempts=1, heartbeat_at=timezone.now())
    urgent = queued(template, 2)
    post_for(urgent, 5)
    assert claim_next(urgent.pk, me) == mine.pk
    Clip.objects.filter(pk=mine.pk).update(status=ClipStatus.SUCCEEDED)
    assert claim_next(urgent.pk, me) == urgent.pk


@pytest.mark.django_db
def test_a_clip_that_cannot_render_before_its_post_is_flagged_early_in_the_api_and_on_its_card(mine, settings):
    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 600.0
    settings.RENDER_WORKER_SLOTS = 1
    # mine.rendering is 40% through (about 6 min left), then the queue: the clip due in 15 min is first in it and
    # ready in about 16 min; the one due in 2 h is ready in about 26 min.
    tight = queued(mine.template, 11)
    roomy = queued(mine.template, 12)
    post_for(tight, 15)
    post_for(roomy, 120)
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.VIEWER, user=UserFactory()).user)

    clips = {c["id"]: c for c in client.get("/api/clips/", {"status": "queued"}).json()["results"]}
    assert clips[tight.pk]["late_for_post"] is True
    assert clips[roomy.pk]["late_for_post"] is False
    ready = timezone.datetime.fromisoformat(clips[tight.pk]["expected_ready_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=15) < ready - timezone.now() < timedelta(minutes=17)

    viewer = APIClient()
    viewer.force_login(MembershipFactory(workspace=mine.workspace, role=Role.VIEWER, user=UserFactory()).user)
    card = viewer.get(reverse("dashboard:clip", args=[tight.pk])).content.decode()
    assert f'id="clip-{tight.pk}-late"' in card and "Late for its post" in card
    roomy_card = viewer.get(reverse("dashboard:clip", args=[roomy.pk])).content.decode()
    assert f'id="clip-{roomy.pk}-late"' not in roomy_card


@pytest.mark.django_db
def test_more_render_workers_shorten_the_forecast(mine, settings):
    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 600.0
    clips = [queued(mine.template, 20 + i) for i in range(4)]
    settings.RENDER_WORKER_SLOTS = 1
    one = costs.forecast()[clips[-1].pk].ready_at
    settings.RENDER_WORKER_SLOTS = 4
    four = costs.forecast()[clips[-1].pk].ready_at
    assert four < one


@pytest.mark.integration
@pytest.mark.slow
def test_with_a_backlog_on_one_gpu_worker_the_clip_due_soonest_renders_first_and_is_flagged_before(
        render_worker, settings):
    from tests.generation.test_render_worker import make_template, submit, wait_for

    render_worker()
    template = make_template()
    blocker = submit(template, seed=1, steps=150, frames=24)  # keeps the only worker busy while the backlog forms
    wait_for(blocker, {ClipStatus.RENDERING})
    with transaction.atomic():  # the render messages go out on commit, when the posts exist
        first_come, second, due_soonest = (submit(template, seed=10 + i, steps=2) for i in range(3))
        post = post_for(due_soonest, 25)
        post_for(second, 24 * 60)
    blocker.refresh_from_db()
    assert blocker.status == ClipStatus.RENDERING, "the blocker finished before the backlog was in place"

    # No render of this model and size has finished yet: the forecast uses the default, 30 min a clip here.
    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 1800.0
    flagged = costs.forecast()
    assert flagged[due_soonest.pk].late, "whatever is left of the blocker + 30 min misses a post due in 25 min"
    assert not flagged[second.pk].late
    assert timezone.now() < post.scheduled_at

    for clip in (blocker, first_come, second, due_soonest):
        assert wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=300).status == ClipStatus.SUCCEEDED
    started = dict(Clip.objects.filter(pk__in=[first_come.pk, second.pk, due_soonest.pk])
                   .values_list("pk", "started_at"))
    assert started[due_soonest.pk] < started[second.pk] < started[first_come.pk], (
        "renders did not follow the posts' due times, then first come")
