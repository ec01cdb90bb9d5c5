"""Render cost: device seconds per clip, monthly totals, and a workspace's render quota (refused before anything is
queued, warned near it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, Workspace
from generation import costs, services
from generation.models import Clip, ClipStatus
from tests.factories import MembershipFactory, PromptTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db

PARAMS = {"frames": 8, "steps": 10}
ROWS = [{"colour": "red", "shape": "circle"}, {"colour": "blue", "shape": "circle"},
        {"colour": "red", "shape": "square"}, {"colour": "blue", "shape": "square"}]


@pytest.fixture
def template():
    return PromptTemplateFactory()


def rendered(campaign, gpu_seconds: float, finished_at=None, **params) -> Clip:
    """A clip that rendered with these settings and took `gpu_seconds` on its device."""
    return Clip.objects.create(
        campaign=campaign, prompt="done", seed=Clip.objects.count() + 100, status=ClipStatus.SUCCEEDED,
        render_params=services.render_params_for(campaign, {**PARAMS, **params}), gpu_seconds=gpu_seconds,
        finished_at=finished_at or timezone.now(),
    )


def set_quota(template, seconds: int | None) -> None:
    Workspace.objects.filter(pk=template.campaign.workspace_id).update(monthly_render_quota_seconds=seconds)


def test_a_batch_over_the_quota_is_refused_with_the_numbers_and_nothing_queued(template,
                                                                              django_capture_on_commit_callbacks):
    rendered(template.campaign, 30.0)  # measured: 30 s for this model, size, frames and steps
    set_quota(template, 100)
    before = Clip.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(ValidationError) as refused:
        services.create_clips(template, ROWS, params=PARAMS)
    message = " ".join(refused.value.messages)
    assert "about 2 min of rendering (4 clips at ~30 s each)" in message
    assert "only 70 s of this workspace's monthly render quota of 100 s are left (30 s used" in message
    assert Clip.objects.count() == before and not callbacks, "nothing may be created or queued"


def test_a_batch_that_fits_is_queued_and_warns_when_the_workspace_nears_its_quota(template,
                                                                                 django_capture_on_commit_callbacks):
    rendered(template.campaign, 30.0)
    set_quota(template, 200)
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.create_clips(template, ROWS[:3], params=PARAMS)  # 30 used + 90 queued: 60%
    assert len(result.clips) == 3 and len(callbacks) == 1
    assert not [w for w in result.warnings if "render quota" in w]
    set_quota(template, 150)  # 30 used + 90 queued + 30 more = 150: allowed, and at 100%
    result = services.create_clips(template, ROWS[3:], params=PARAMS)
    assert len(result.clips) == 1
    assert [w for w in result.warnings if "render quota" in w] == [
        "This workspace has used 100% of its monthly render quota (2.5 min of 2.5 min, counting queued renders): ask "
        "an admin to raise it before it runs out."]


def test_queued_clips_count_against_the_quota_so_batches_cannot_slip_past_it(template):
    rendered(template.campaign, 30.0)
    set_quota(template, 130)
    services.create_clips(template, ROWS[:3], params=PARAMS)  # 30 used + 90 queued
    with pytest.raises(ValidationError, match="~90 s queued"):
        services.create_clips(template, ROWS[3:], params=PARAMS)


def test_without_measured_renders_the_documented_default_estimate_is_used(template, settings):
    settings.RENDER_DEFAULT_ESTIMATE_SECONDS = 50.0
    set_quota(template, 120)
    with pytest.raises(ValidationError, match=r"about 2.5 min of rendering \(3 clips at ~50 s each\)"):
        services.create_clips(template, ROWS[:3], params=PARAMS)
    assert not Clip.objects.exists()


def test_an_estimate_scales_with_frames_and_steps_of_the_same_model_and_size(template):
    rendered(template.campaign, 10.0, frames=8, steps=10)
    rendered(template.campaign, 99.0, frames=8, steps=10, width=128, height=96)  # another size: not comparable
    estimate = costs.Estimator().seconds(services.render_params_for(template.campaign, {"frames": 16, "steps": 20}))
    assert estimate == pytest.approx(40.0)


def test_renders_of_earlier_months_do_not_count_and_no_quota_means_no_limit(template):
    rendered(template.campaign, 500.0, finished_at=costs.month_start() - timedelta(seconds=1))
    set_quota(template, 100)
    assert costs.usage(template.campaign.workspace).used == 0
    set_quota(template, None)
    rendered(template.campaign, 10_000.0)
    assert len(services.create_clips(template, ROWS, params=PARAMS).clips) == 4


def test_only_a_site_admin_sets_the_quota(mine, login_as, superuser):
    owner = APIClient()
    owner.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.OWNER, user=UserFactory()).user)
    response = owner.patch(f"/api/workspaces/{mine.workspace.pk}/", {"monthly_render_quota_seconds": 10**9},
                           format="json")
    assert response.status_code in (200, 403)
    mine.workspace.refresh_from_db()
    assert mine.workspace.monthly_render_quota_seconds is None, "a member changed the workspace's quota"
    request = RequestFactory().get("/")
    request.user = superuser
    form = admin.site._registry[Workspace].get_form(request)
    assert "monthly_render_quota_seconds" in form.base_fields


def test_the_api_shows_gpu_seconds_and_monthly_and_per_campaign_totals_to_members_only(mine, theirs):
    Clip.objects.filter(pk=mine.approved.pk).update(gpu_seconds=12.5)
    Clip.objects.filter(pk=mine.pending.pk).update(gpu_seconds=7.5)
    Clip.objects.filter(pk=theirs.approved.pk).update(gpu_seconds=1000.0)
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=100)
    viewer = APIClient()
    viewer.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.VIEWER, user=UserFactory()).user)

    clip = viewer.get(f"/api/clips/{mine.approved.pk}/").json()
    assert clip["gpu_seconds"] == 12.5 and clip["late_for_post"] is False

    usage = viewer.get(f"/api/render-usage/{mine.workspace.pk}/").json()
    assert usage["gpu_seconds"] == 20.0 and usage["quota_seconds"] == 100
    assert usage["months"] == [{"month": timezone.now().strftime("%Y-%m"), "gpu_seconds": 20.0, "clips": 2}]
    assert usage["campaigns"] == [{"campaign": mine.campaign.pk, "name": mine.campaign.name, "gpu_seconds": 20.0,
                                   "month_gpu_seconds": 20.0, "clips": 2}]
    assert viewer.get(f"/api/render-usage/{theirs.workspace.pk}/").status_code == 404
    assert viewer.get(f"/api/campaigns/{mine.campaign.pk}/").json()["gpu_seconds"] == 20.0


def test_the_usage_page_and_the_campaign_page_show_render_time(mine, viewer):
    Clip.objects.filter(pk=mine.approved.pk).update(gpu_seconds=150.0)
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=160)
    page = viewer.get(reverse("dashboard:usage")).content.decode()
    assert 'id="usage-used">2.5 min<' in page and 'id="usage-quota">2.7 min<' in page
    assert 'id="quota-warning"' in page and "Render minutes per month (UTC)" in page and "<svg" in page
    campaign = viewer.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert 'id="campaign-render-month">2.5 min<' in campaign
    card = viewer.get(reverse("dashboard:clip", args=[mine.approved.pk])).content.decode()
    assert "150.0 s of render device time" in card


@pytest.mark.integration
@pytest.mark.slow
def test_a_renders_gpu_seconds_match_its_wall_time_in_the_worker(render_worker):
    from tests.generation.test_render_worker import make_template, submit, wait_for

    render_worker()
    clip = wait_for(submit(make_template(), steps=60, frames=16), {ClipStatus.SUCCEEDED, ClipStatus.FAILED})
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    in_worker = clip.timings["wall_s"]  # the worker's own clock around render and export
    claimed_to_done = (clip.finished_at - clip.started_at).total_seconds()  # the database's view, storage included
    print(f"gpu_seconds={clip.gpu_seconds:.3f} wall_s={in_worker:.3f} claimed_to_done={claimed_to_done:.3f}")
    assert clip.gpu_seconds == pytest.approx(in_worker, rel=0.10)
    assert clip.gpu_seconds == pytest.approx(claimed_to_done, rel=0.10)
    assert clip.device.startswith("cpu")


def test_a_retry_or_rerender_over_the_quota_is_refused_in_the_api_and_the_dashboard(mine, editor):
    Clip.objects.filter(pk=mine.approved.pk).update(gpu_seconds=50.0, render_params=mine.failed.render_params)
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=60)
    api = APIClient()
    api.force_authenticate(editor.user)
    response = api.post(f"/api/clips/{mine.failed.pk}/retry/")
    assert response.status_code == 400 and "monthly render quota" in response.json()[0]
    page = editor.post(reverse("dashboard:clip_retry", args=[mine.failed.pk]), follow=True).content.decode()
    assert "monthly render quota" in page
    with pytest.raises(ValidationError, match="monthly render quota"):
        services.rerender_clip(mine.approved)
    assert Clip.objects.get(pk=mine.failed.pk).status == ClipStatus.FAILED
    assert Clip.objects.filter(campaign=mine.campaign).count() == 5, "no copy may be made"


def test_the_generate_page_warns_a_workspace_near_its_quota(mine, editor):
    Clip.objects.filter(pk=mine.approved.pk).update(gpu_seconds=90.0)
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=100)
    page = editor.get(reverse("dashboard:generate", args=[mine.campaign.pk])).content.decode()
    assert 'id="quota-warning"' in page and "of its monthly render quota" in page
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=10_000)
    page = editor.get(reverse("dashboard:generate", args=[mine.campaign.pk])).content.decode()
    assert 'id="quota-warning"' not in page


def test_a_quota_of_zero_refuses_every_render_and_is_shown_as_used_up(template, viewer, mine):
    set_quota(template, 0)
    with pytest.raises(ValidationError, match="only 0 s of this workspace's monthly render quota of 0 s are left"):
        services.create_clips(template, ROWS[:1], params=PARAMS)
    Workspace.objects.filter(pk=mine.workspace.pk).update(monthly_render_quota_seconds=0)
    page = viewer.get(reverse("dashboard:usage")).content.decode()
    assert 'id="usage-quota">0 s<' in page and 'id="quota-warning"' in page


def test_a_clip_cancelled_mid_render_then_retried_keeps_the_usage_page_and_api_working(mine, editor):
    # Given a clip cancelled mid-render (its device seconds are recorded, as the render worker does), then retried
    clip = mine.failed
    Clip.objects.filter(pk=clip.pk).update(status=ClipStatus.CANCELLED, gpu_seconds=42.0,
                                           finished_at=timezone.now())
    assert editor.post(reverse("dashboard:clip_retry", args=[clip.pk])).status_code == 302
    assert Clip.objects.get(pk=clip.pk).finished_at is None
    # Then the month it is counted in is one that has an end, and both views answer
    assert editor.get(reverse("dashboard:usage")).status_code == 200
    api = APIClient()
    api.force_authenticate(editor.user)
    response = api.get(f"/api/render-usage/{mine.workspace.pk}/")
    assert response.status_code == 200, response.content[:300]
    assert all(row["month"] for row in response.json()["months"])
