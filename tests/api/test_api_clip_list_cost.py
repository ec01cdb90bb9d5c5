"""The clip list API costs the same queries at 10 and 10,000 clips, reads a page in index order, and its fast
serializer answers exactly what DRF's generic one does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import Role
from generation.api.serializers import ClipSerializer
from generation.models import Clip, ClipStatus, ReviewStatus
from tests.factories import MembershipFactory, UserFactory, bulk_clips

pytestmark = pytest.mark.django_db


def queries_of(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_clip_list_makes_the_same_queries_at_10_and_10000_clips(api_as, mine):
    client = api_as(Role.VIEWER)
    reviewer = UserFactory()
    bulk_clips(mine.campaign, mine.template, 10 - Clip.objects.for_workspace(mine.workspace).count(),
               reviewer=reviewer)
    assert Clip.objects.for_workspace(mine.workspace).count() == 10
    client.get("/api/clips/")  # the first request of a session may write it
    few = queries_of(client, "/api/clips/")

    bulk_clips(mine.campaign, mine.template, 10_000 - 10, reviewer=reviewer, seed=100)

    assert Clip.objects.for_workspace(mine.workspace).count() == 10_000
    assert queries_of(client, "/api/clips/") == few
    assert queries_of(client, "/api/clips/?page=200") == few
    assert len(client.get("/api/clips/").json()["results"]) == 50


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_page_of_10000_clips_is_read_in_index_order_not_sorted(mine):
    user = MembershipFactory(workspace=mine.workspace, role=Role.VIEWER).user
    bulk_clips(mine.campaign, mine.template, 10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a bulk load

    for page in (Clip.objects.visible_to(user).select_related("reviewed_by")[:50],
                 Clip.objects.for_workspace(mine.workspace).select_related("campaign", "prompt_template")[24:48]):
        plan = plan_of(page)
        assert "clip_newest_first_idx" in plan, plan
        assert "Sort" not in plan, plan


def generic(serializer: ClipSerializer, clip: Clip) -> dict:
    return serializers.ModelSerializer.to_representation(serializer, clip)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_the_fast_clip_serializer_answers_what_drf_would(mine, zone):
    reviewer = UserFactory(username="rita")
    now = timezone.now()
    Clip.objects.filter(pk=mine.approved.pk).update(
        video="clips/1/2/clip.mp4", gif="clips/1/2/clip.gif", poster="clips/1/2/poster.png", duration_s=1.5,
        reviewed_by=reviewer, reviewed_at=now, started_at=now - timedelta(seconds=3), finished_at=now,
        timings={"denoise_s": 2.5}, versions={"torch": "2"}, render_params={"frames": 8, "guidance": 7.5},
    )
    Clip.objects.create(campaign=mine.campaign, prompt="failed", seed=7, status=ClipStatus.FAILED, error="boom",
                        review_status=ReviewStatus.REJECTED, prompt_template=None)
    request = APIRequestFactory().get("/api/clips/")
    clips = list(Clip.objects.for_workspace(mine.workspace).select_related("reviewed_by"))
    with timezone.override(zone):
        many = ClipSerializer(clips, many=True, context={"request": request})
        fast = many.data
        expected = [generic(many.child, clip) for clip in clips]

    assert len(fast) == len(clips) == 6  # the world's five clips and the failed one
    assert [dict(row) for row in fast] == expected
    assert fast[-1]["video"].startswith("http://testserver/") and fast[-1]["reviewed_by"] == "rita"


def test_me_answers_the_caller_and_their_workspaces(api_as, mine):
    client = api_as(Role.REVIEWER)

    body = client.get("/api/me/").json()

    assert body["workspaces"] == [{"id": mine.workspace.pk, "name": mine.workspace.name, "role": "reviewer"}]
    assert body["username"].startswith("user")
    assert APIClient().get("/api/me/").status_code in (401, 403)
