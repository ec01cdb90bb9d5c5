""""Post now" for marketers: a scheduled post made due now from the posts list or its page, or an approved clip
put on an account due now; editors and above only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing.models import Post, PostStatus

pytestmark = pytest.mark.django_db


def test_the_posts_list_and_the_post_page_offer_post_now_to_editors_only(editor, viewer, mine):
    assert f'id="post-now-{mine.post.pk}"' in editor.get(reverse("dashboard:posts")).content.decode()
    assert 'id="post-now"' in editor.get(reverse("dashboard:post", args=[mine.post.pk])).content.decode()
    assert f'id="post-now-{mine.post.pk}"' not in viewer.get(reverse("dashboard:posts")).content.decode()
    assert 'id="post-now"' not in viewer.get(reverse("dashboard:post", args=[mine.post.pk])).content.decode()


def test_post_now_from_the_list_makes_the_post_due_now(editor, mine):
    answer = editor.post(reverse("dashboard:post_publish_now", args=[mine.post.pk]), {"next": "list"}, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("dashboard:posts")
    assert f"Post {mine.post.pk} is due now on @{mine.account.handle}" in answer.content.decode()
    mine.post.refresh_from_db()
    assert mine.post.status == PostStatus.SCHEDULED
    assert abs(mine.post.scheduled_at - timezone.now()) < timedelta(seconds=30)
    assert Post.objects.due(timezone.now()).filter(pk=mine.post.pk).exists()


def test_post_now_on_a_post_that_went_out_changes_nothing(editor, mine):
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTED)
    before = Post.objects.get(pk=mine.post.pk).scheduled_at
    answer = editor.post(reverse("dashboard:post_publish_now", args=[mine.post.pk]), follow=True)
    assert "only a scheduled post can be posted now" in answer.content.decode()
    assert Post.objects.get(pk=mine.post.pk).scheduled_at == before


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_roles_below_editor_cannot_post_now(request, role, mine):
    before = mine.post.scheduled_at
    answer = request.getfixturevalue(role).post(reverse("dashboard:post_publish_now", args=[mine.post.pk]))
    assert answer.status_code == 403
    assert Post.objects.get(pk=mine.post.pk).scheduled_at == before


def test_an_approved_clip_with_no_post_is_posted_now_on_the_chosen_account(editor, mine):
    mine.pending.review_status = "approved"
    mine.pending.save()
    assert 'id="post-now-submit"' in editor.get(reverse("dashboard:schedule", args=[mine.pending.pk])).content.decode()
    answer = editor.post(reverse("dashboard:schedule", args=[mine.pending.pk]), {
        "action": "now", "account": mine.account.pk, "caption": "Right now", "when": "",
    }, follow=True)
    post = Post.objects.get(clip=mine.pending)
    assert answer.redirect_chain[-1][0] == reverse("dashboard:post", args=[post.pk])
    assert f"Posting now on @{mine.account.handle}" in answer.content.decode()
    assert post.caption == "Right now" and post.status == PostStatus.SCHEDULED
    assert Post.objects.due(timezone.now()).filter(pk=post.pk).exists()
