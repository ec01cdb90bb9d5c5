"""Gallery: constant queries, filters, live progress fragment, retry, cancel, approve/reject."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.progress import describe_eta, eta_seconds, progress_text
from generation.models import Clip, ClipStatus, ReviewStatus
from tests.factories import PromptTemplateFactory, UserFactory, bulk_clips
from tests.worlds import make_clip

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def add_clips(world, count: int) -> None:
    other_template = PromptTemplateFactory(campaign=world.campaign)
    statuses = [ClipStatus.SUCCEEDED, ClipStatus.RENDERING, ClipStatus.FAILED, ClipStatus.QUEUED]
    for i in range(count):
        make_clip(
            world.campaign, other_template if i % 2 else world.template, seed=1000 + i, status=statuses[i % 4],
            review_status=ReviewStatus.APPROVED if i % 3 == 0 else ReviewStatus.PENDING, progress=i % 100,
            poster=f"clips/{world.campaign.pk}/{i}/poster.png", video=f"clips/{world.campaign.pk}/{i}/clip.mp4",
            error="boom" if statuses[i % 4] == ClipStatus.FAILED else "",
        )


def test_the_clip_list_makes_a_constant_number_of_queries(editor, mine, django_assert_max_num_queries):
    url = reverse("dashboard:clips")
    editor.get(url)  # the first request of a session writes it; measure steady state
    with CaptureQueriesContext(connection) as few:
        assert editor.get(url).status_code == 200
    add_clips(mine, 20)
    with django_assert_max_num_queries(len(few)):
        response = editor.get(url)
    assert len(response.context["clips"]) == 24


def test_the_gallery_makes_the_same_queries_at_10_and_10000_clips(editor, mine):
    url = reverse("dashboard:clips")
    bulk_clips(mine.campaign, mine.template, 5, reviewer=UserFactory())  # 10 with the world's own five
    editor.get(url)  # the first request of a session writes it; measure steady state
    with CaptureQueriesContext(connection) as few:
        assert len(editor.get(url).context["clips"]) == 10

    bulk_clips(mine.campaign, mine.template, 10_000 - 10, reviewer=UserFactory(), seed=100)

    for page in ("", "?page=2", "?page=416"):
        with CaptureQueriesContext(connection) as many:
            response = editor.get(url + page)
        assert len(response.context["clips"]) == 24 and len(many) == len(few), (page, many.captured_queries)
    assert "Page 416 of 417" in response.content.decode()


def test_cards_show_posters_videos_and_reasons(viewer, mine):
    mine.approved.poster, mine.approved.video = "clips/x/poster.png", "clips/x/clip.mp4"
    mine.approved.save()
    body = viewer.get(reverse("dashboard:clips")).content.decode()
    pk = mine.approved.pk
    assert f'poster="/clips/{pk}/media/poster"' in body and f'src="/clips/{pk}/media/video"' in body
    assert "Out of GPU memory: retry with fewer frames." in body
    assert 'id="clip-poller"' in body and 'hx-trigger="every 2s"' in body


def test_filters_by_status_template_review_and_campaign(viewer, mine):
    def ids(query: str) -> set[int]:
        return {c.pk for c in viewer.get(reverse("dashboard:clips") + query).context["clips"]}

    assert ids("?status=failed") == {mine.failed.pk}
    assert ids("?status=succeeded&review=approved") == {mine.approved.pk}
    assert ids("?review=pending&status=succeeded") == {mine.pending.pk}
    other = PromptTemplateFactory(campaign=mine.campaign)
    lone = make_clip(mine.campaign, other, seed=99)
    assert ids(f"?template={other.pk}") == {lone.pk}
    assert len(ids(f"?campaign={mine.campaign.pk}")) == 6
    assert ids("?status=bogus&template=x") == ids("")


def test_the_progress_fragment_swaps_cards_out_of_band_with_stage_and_eta(viewer, mine):
    url = reverse("dashboard:clip_progress") + f"?ids={mine.rendering.pk}&ids={mine.queued.pk}"
    response = viewer.get(url, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="clip-{mine.rendering.pk}" hx-swap-oob="true"' in body
    assert 'value="40"' in body and "40% · denoise · about" in body
    assert "Queued: waiting for a render worker" in body


def test_polling_stops_with_286_once_every_watched_clip_has_finished(viewer, mine):
    Clip.objects.filter(pk=mine.rendering.pk).update(
        status=ClipStatus.SUCCEEDED, progress=100, finished_at=mine.rendering.started_at + timedelta(seconds=42)
    )
    response = viewer.get(reverse("dashboard:clip_progress") + f"?ids={mine.rendering.pk}", **HTMX)
    assert response.status_code == 286
    assert 'hx-trigger="every 2s"' not in response.content.decode()
    assert "100% · rendered in 42 s" in response.content.decode()


def test_the_eta_extrapolates_elapsed_time_from_progress():
    now = timezone.now()
    clip = Clip(status=ClipStatus.RENDERING, progress=25, started_at=now - timedelta(seconds=30), stage="denoise")
    assert eta_seconds(clip, now) == 90
    assert progress_text(clip, now) == "25% · denoise · about 2 min left"
    assert describe_eta(40) == "about 40 s left" and describe_eta(None) == ""
    assert eta_seconds(Clip(status=ClipStatus.RENDERING, progress=0, started_at=now), now) is None


def test_retry_requeues_a_failed_clip_and_returns_a_polling_card(editor, mine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = editor.post(reverse("dashboard:clip_retry", args=[mine.failed.pk]), **HTMX)
    mine.failed.refresh_from_db()
    assert mine.failed.status == ClipStatus.QUEUED and mine.failed.error == ""
    assert len(callbacks) == 1
    body = response.content.decode()
    assert f'id="clip-{mine.failed.pk}"' in body and 'data-active-clip' in body
    assert 'id="clip-poller" class="poller" hx-swap-oob="true"' in body


def test_cancel_stops_a_queued_clip(editor, mine):
    response = editor.post(reverse("dashboard:clip_cancel", args=[mine.queued.pk]), {"next": "/clips/?status=queued"})
    assert response.status_code == 302 and response["Location"] == "/clips/?status=queued"
    mine.queued.refresh_from_db()
    assert mine.queued.status == ClipStatus.CANCELLED
    response = editor.post(reverse("dashboard:clip_cancel", args=[mine.queued.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard:clip", args=[mine.queued.pk])


def test_a_reviewer_approves_and_rejects(reviewer, mine):
    response = reviewer.post(reverse("dashboard:clip_review", args=[mine.pending.pk]), {"decision": "approve"}, **HTMX)
    mine.pending.refresh_from_db()
    assert mine.pending.review_status == ReviewStatus.APPROVED and mine.pending.reviewed_by == reviewer.user
    assert f"Clip {mine.pending.pk} approved." in response.content.decode()
    assert "clip-poller" not in response.content.decode()  # other cards keep polling
    reviewer.post(reverse("dashboard:clip_review", args=[mine.pending.pk]), {"decision": "reject"})
    mine.pending.refresh_from_db()
    assert mine.pending.review_status == ReviewStatus.REJECTED


def test_reviewing_an_unfinished_clip_explains_why_not(reviewer, mine):
    response = reviewer.post(
        reverse("dashboard:clip_review", args=[mine.rendering.pk]), {"decision": "approve"}, follow=True
    )
    assert "Only a clip that rendered successfully can be reviewed." in response.content.decode()
    mine.rendering.refresh_from_db()
    assert mine.rendering.review_status == ReviewStatus.PENDING
