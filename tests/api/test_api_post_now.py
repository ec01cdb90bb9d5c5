""""Post now" through the API: a scheduled post made due now, or an approved clip scheduled due now; editors up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from publishing.models import Post, PostStatus


def test_an_editor_posts_a_scheduled_post_now(api_as, mine):
    answer = api_as(Role.EDITOR).post(f"/api/posts/{mine.post.pk}/post-now/")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "scheduled"
    assert Post.objects.due(timezone.now()).filter(pk=mine.post.pk).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER])
def test_roles_below_editor_get_403_and_change_nothing(api_as, mine, role):
    before = mine.post.scheduled_at
    assert api_as(role).post(f"/api/posts/{mine.post.pk}/post-now/").status_code == 403
    assert Post.objects.get(pk=mine.post.pk).scheduled_at == before


def test_a_post_that_went_out_cannot_be_posted_now(api_as, mine):
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTED)
    answer = api_as(Role.EDITOR).post(f"/api/posts/{mine.post.pk}/post-now/")
    assert answer.status_code == 400 and "Only a scheduled post" in answer.content.decode()


def test_an_approved_clip_is_scheduled_due_now(api_as, mine):
    Post.objects.filter(pk=mine.post.pk).delete()
    answer = api_as(Role.EDITOR).post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "post_now": True,
    }, format="json")
    assert answer.status_code == 201, answer.content
    post = Post.objects.get(pk=answer.json()["id"])
    assert abs(post.scheduled_at - timezone.now()) < timedelta(seconds=30)
    assert Post.objects.due(timezone.now()).filter(pk=post.pk).exists()


def test_post_now_with_a_time_is_400(api_as, mine):
    answer = api_as(Role.EDITOR).post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "post_now": True,
        "scheduled_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }, format="json")
    assert answer.status_code == 400 and "exactly one of" in answer.content.decode()
