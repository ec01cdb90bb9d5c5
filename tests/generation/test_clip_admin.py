"""Clip admin actions: each one runs its service per row and tells the admin what was done and what was skipped."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.urls import reverse

from generation import services
from generation.models import Clip, ClipStatus, ReviewStatus
from tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:generation_clip_changelist"


@pytest.fixture
def make_clip(db):
    template = PromptTemplateFactory()

    def make(status: str = ClipStatus.SUCCEEDED, **fields) -> Clip:
        return Clip.objects.create(campaign=template.campaign, prompt_template=template, prompt=f"a {status} clip",
                                   seed=7, status=status, render_params={"frames": 8}, fingerprint="f" * 64,
                                   **fields)

    return make


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(services, "enqueue_renders", ids.extend)
    return ids


@pytest.fixture
def run_action(client, superuser, django_capture_on_commit_callbacks):
    client.force_login(superuser)

    def run(action: str, clips: list[Clip]) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(CHANGELIST), {"action": action,
                                                         "_selected_action": [c.pk for c in clips]})
        assert response.status_code == 302
        return " | ".join(str(m) for m in get_messages(response.wsgi_request))

    return run


def test_approve_approves_succeeded_clips_and_skips_the_rest(run_action, make_clip, superuser):
    done, queued = make_clip(), make_clip(ClipStatus.QUEUED)
    already = make_clip(review_status=ReviewStatus.APPROVED)

    message = run_action("approve", [done, queued, already])

    done.refresh_from_db()
    assert (done.review_status, done.reviewed_by) == (ReviewStatus.APPROVED, superuser)
    assert Clip.objects.get(pk=queued.pk).review_status == ReviewStatus.PENDING
    assert message == ("Approved 1 clip. Skipped 2 (1 already approved, 1 queued): only a clip that rendered "
                       "successfully can be reviewed.")


def test_reject_records_the_reviewer(run_action, make_clip, superuser):
    clip = make_clip(review_status=ReviewStatus.APPROVED)

    message = run_action("reject", [clip])

    clip.refresh_from_db()
    assert (clip.review_status, clip.reviewed_by) == (ReviewStatus.REJECTED, superuser)
    assert clip.reviewed_at is not None
    assert message == "Rejected 1 clip."


def test_cancel_stops_queued_and_flags_rendering_clips(run_action, make_clip):
    queued, rendering, finished = make_clip(ClipStatus.QUEUED), make_clip(ClipStatus.RENDERING), make_clip()

    message = run_action("cancel", [queued, rendering, finished])

    assert Clip.objects.get(pk=queued.pk).status == ClipStatus.CANCELLED
    rendering.refresh_from_db()
    assert (rendering.status, rendering.cancel_requested) == (ClipStatus.RENDERING, True)
    assert Clip.objects.get(pk=finished.pk).status == ClipStatus.SUCCEEDED
    assert message.startswith("Cancelled 2 clips")
    assert "Skipped 1 (1 succeeded): only queued or rendering clips can be cancelled." in message


def test_rerender_requeues_failed_clips_in_place(run_action, make_clip, enqueued):
    failed = make_clip(ClipStatus.FAILED, error="CUDA out of memory", attempts=3, worker="gpu-1")

    message = run_action("rerender", [failed])

    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.attempts, failed.worker) == (ClipStatus.QUEUED, "", 0, "")
    assert enqueued == [failed.pk]
    assert message == "Queued 1 clip for rendering."


def test_rerender_of_a_succeeded_clip_queues_a_copy_and_keeps_the_original(run_action, make_clip, enqueued):
    original = make_clip(review_status=ReviewStatus.APPROVED, device="cuda:0", model_id="bundled")
    rendering = make_clip(ClipStatus.RENDERING)

    message = run_action("rerender", [original, rendering])

    copy = Clip.objects.exclude(pk__in=[original.pk, rendering.pk]).get()
    assert (copy.status, copy.review_status, copy.device) == (ClipStatus.QUEUED, ReviewStatus.PENDING, "")
    assert (copy.prompt, copy.seed, copy.render_params, copy.fingerprint) == (
        original.prompt, original.seed, original.render_params, original.fingerprint)
    original.refresh_from_db()
    assert (original.status, original.review_status) == (ClipStatus.SUCCEEDED, ReviewStatus.APPROVED)
    assert enqueued == [copy.pk]
    assert message.startswith("Queued 1 clip for rendering. Skipped 1 (1 rendering)")


def test_the_change_form_shows_poster_video_and_read_only_provenance(client, superuser, make_clip, settings,
                                                                     tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clip = make_clip(device="cuda:0", worker="gpu-7@host", model_id="clipcast/bundled", weights_hash="ab" * 32,
                     timings={"denoise_s": 1.5}, versions={"torch": "2.13.0"},
                     performance={"compile": "regional", "offload": "group"})
    clip.poster.save("poster.jpg", ContentFile(b"\xff\xd8jpeg"), save=False)
    clip.video.save("clip.mp4", ContentFile(b"mp4"), save=True)
    client.force_login(superuser)

    page = client.get(reverse("admin:generation_clip_change", args=[clip.pk])).content.decode()

    assert f'<img src="/clips/{clip.pk}/media/poster"' in page
    assert f'href="/clips/{clip.pk}/media/video"' in page
    assert "/media/clips/" not in page
    for value in ("cuda:0", "gpu-7@host", "clipcast/bundled", "ab" * 32, "denoise_s", "2.13.0", "regional"):
        assert value in page
    assert 'name="device"' not in page and 'name="status"' not in page and 'name="performance"' not in page


def test_the_changelist_filters_and_searches(client, superuser, make_clip):
    make_clip(ClipStatus.FAILED, error="worker out of memory")
    make_clip()
    client.force_login(superuser)

    by_status = client.get(reverse(CHANGELIST), {"status__exact": "failed"})
    by_search = client.get(reverse(CHANGELIST), {"q": "out of memory"})

    assert by_status.context["cl"].result_count == 1
    assert by_search.context["cl"].result_count == 1
