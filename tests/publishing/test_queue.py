"""An account's queue: pausing holds its due posts back from the dispatcher, reordering swaps times, moves keep the
wall-clock time in the campaign's zone across a DST change."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from publishing import queue
from publishing.dispatch import claim_due_posts
from publishing.models import Post, XAccount
from publishing.scheduling import local_to_utc, utc_to_local

pytestmark = pytest.mark.django_db


def post_at(world, at: datetime, account: XAccount | None = None) -> Post:
    return Post.objects.create(clip=world.approved, x_account=account or world.account, caption=f"at {at}",
                               scheduled_at=at)


def test_a_paused_queue_keeps_its_due_posts_until_it_is_resumed(mine):
    now = timezone.now()
    due = post_at(mine, now - timedelta(seconds=5))
    other = XAccount.objects.create(workspace=mine.workspace, handle="other", min_post_gap=timedelta(0))
    others_due = post_at(mine, now - timedelta(seconds=5), account=other)

    queue.set_queue_paused(mine.account, True)
    claimed_while_paused = claim_due_posts(now).claimed
    queue.set_queue_paused(mine.account, False)
    claimed_after_resume = claim_due_posts(now).claimed

    assert claimed_while_paused == [others_due.pk]
    assert claimed_after_resume == [due.pk]


def test_pausing_twice_changes_nothing_the_second_time(mine):
    assert queue.set_queue_paused(mine.account, True) is True
    assert queue.set_queue_paused(mine.account, True) is False
    mine.account.refresh_from_db()
    assert mine.account.queue_paused


def test_reorder_refuses_a_post_that_is_due_already(mine):
    due = post_at(mine, timezone.now() - timedelta(seconds=1))

    with pytest.raises(ValidationError, match="due already"):
        queue.reorder_queue(mine.account, [mine.post.pk, due.pk])

    assert Post.objects.get(pk=due.pk).scheduled_at < timezone.now()


def test_moving_up_and_down_swaps_with_the_neighbour(mine):
    later = post_at(mine, mine.post.scheduled_at + timedelta(hours=5))
    first, second = mine.post.scheduled_at, later.scheduled_at

    assert queue.move_in_queue(later, -1) is True
    assert queue.move_in_queue(Post.objects.get(pk=later.pk), -1) is False  # first already

    assert Post.objects.get(pk=later.pk).scheduled_at == first
    assert Post.objects.get(pk=mine.post.pk).scheduled_at == second


def test_a_move_across_a_dst_change_keeps_the_local_time(mine):
    tz = mine.campaign.timezone  # America/New_York: clocks go forward on 14 March 2027
    mine.post.scheduled_at = local_to_utc(datetime(2027, 3, 10, 9, 0), tz)
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=mine.post.scheduled_at)

    queue.move_post(mine.post, local_date=date(2027, 3, 17))

    moved = Post.objects.get(pk=mine.post.pk).scheduled_at
    assert utc_to_local(moved, tz).replace(tzinfo=None) == datetime(2027, 3, 17, 9, 0)
    assert moved - mine.post.scheduled_at == timedelta(days=7) - timedelta(hours=1)


def test_a_move_re_checks_the_clip(mine):
    Post.objects.filter(pk=mine.post.pk).update(clip=mine.pending)
    mine.campaign.approval_required = True
    mine.campaign.save()

    with pytest.raises(ValidationError, match="approve the clip"):
        queue.move_post(mine.post, local_date=date.today() + timedelta(days=3), local_time=time(10, 0))
