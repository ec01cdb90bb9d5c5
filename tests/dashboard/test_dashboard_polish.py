"""The marketer's rough edges: DST gaps, wording, media links, the posts list, onboarding, the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from publishing.models import Post

pytestmark = pytest.mark.django_db


def test_a_time_the_clocks_skip_is_refused_with_the_time_it_would_become(editor, mine):
    # 2027-03-14 is the spring-forward night in New York (the campaign factory's zone): 02:00 jumps to 03:00.
    url = reverse("dashboard:schedule", args=[mine.approved.pk])
    response = editor.post(
        url, {"account": mine.account.pk, "caption": "Gap", "when": "2027-03-14T02:30", "action": "schedule"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and not Post.objects.filter(caption="Gap").exists()
    assert "02:30 does not exist on 14 Mar 2027 in America/New_York" in body
    assert "Pick 03:30" in body
    moved = editor.post(
        reverse("dashboard:post_reschedule", args=[mine.post.pk]), {"when": "2027-03-14T02:30", "caption": "x"}
    )
    assert "Pick 03:30" in moved.content.decode()
