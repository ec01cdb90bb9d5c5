"""The admin's clip and post lists: columns that fit 1280 px, campaigns named with their workspace, UTC labels,
and a post that has left the schedule can no longer be edited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Clip, ClipStatus
from publishing.models import Post, PostStatus, XAccount
from tests.factories import CampaignFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db
MAX_COLUMNS = 8  # with the selection checkbox: what fits 1280 px with the filter sidebar open


@pytest.fixture
def rows(db):
    campaign = CampaignFactory(workspace=WorkspaceFactory(name="Acme"), name="Launch")
    CampaignFactory(workspace=WorkspaceFactory(name="Globex"), name="Launch")
    clip = Clip.objects.create(campaign=campaign, prompt="a very long prompt " * 20, seed=1,
                               status=ClipStatus.SUCCEEDED)
    account = XAccount.objects.create(workspace=campaign.workspace, handle="acme")
    post = Post.objects.create(
        clip=clip, x_account=account, caption="a long caption " * 10, status=PostStatus.POSTED,
        scheduled_at=timezone.now() - timedelta(hours=1), posted_at=timezone.now(),
        x_post_url="https://x.com/acme/status/" + "1" * 19,
    )
    return clip, post


def result_head(body: str) -> str:
    start = body.index('id="result_list"')
    return body[start:body.index("</thead>", start)]


@pytest.mark.parametrize("name", ["generation_clip", "publishing_post"])
def test_the_lists_fit_a_laptop_screen_and_label_times_utc(admin_client, rows, name):
    body = admin_client.get(reverse(f"admin:{name}_changelist")).content.decode()
    head = result_head(body)
    assert 0 < len(re.findall(r'<th scope="col"', head)) <= MAX_COLUMNS
    assert "a very long prompt " * 4 not in body and "a long caption " * 5 not in body
    assert "(UTC)" in head


@pytest.mark.parametrize("name", ["generation_clip", "publishing_post"])
def test_the_campaign_filter_names_the_workspace(admin_client, rows, name):
    body = admin_client.get(reverse(f"admin:{name}_changelist")).content.decode()
    assert "Acme / Launch" in body and "Globex / Launch" in body


def test_a_posted_posts_caption_and_time_are_read_only(admin_client, rows):
    _, post = rows
    url = reverse("admin:publishing_post_change", args=[post.pk])
    body = admin_client.get(url).content.decode()
    assert 'name="caption"' not in body and 'name="scheduled_at_0"' not in body
    admin_client.post(url, {"caption": "edited", "scheduled_at_0": "2030-01-01", "scheduled_at_1": "10:00:00"})
    post.refresh_from_db()
    assert post.caption.startswith("a long caption") and post.scheduled_at.year != 2030
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SCHEDULED)
    assert 'name="caption"' in admin_client.get(url).content.decode()
