"""The marketer's rough edges: DST gaps, wording, media links, the posts list, onboarding, the admin."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from campaigns.models import CampaignStatus
from publishing.models import Post, PostStatus, XAccount
from tests.dashboard.test_dashboard_campaigns import campaign_form
from tests.dashboard.test_dashboard_generate import grid_form
from tests.factories import CampaignFactory, PromptTemplateFactory, WorkspaceFactory

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


def test_a_due_post_goes_out_now_not_zero_minutes_ago(viewer, mine):
    url = reverse("dashboard:post_status", args=[mine.post.pk])
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=timezone.now())
    body = viewer.get(url).content.decode()
    assert "goes out now" in body and "ago" not in body
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=timezone.now() - timedelta(minutes=10))
    assert "goes out any moment now (due 10\xa0minutes ago)" in viewer.get(url).content.decode()


def test_one_queued_clip_is_one_clip(editor, mine):
    response = editor.post(
        reverse("dashboard:generate", args=[mine.campaign.pk]),
        grid_form(mine.template, grid_colour=["blue"], grid_shape=["square"], seed="900"), follow=True,
    )
    assert "1 clip queued for rendering." in response.content.decode()


def test_a_csv_value_error_names_the_line_and_lists_values_plainly(editor, mine):
    upload = SimpleUploadedFile("rows.csv", b"colour,shape\nred,circle\ngreen,circle\n", "text/csv")
    response = editor.post(
        reverse("dashboard:generate", args=[mine.campaign.pk]), grid_form(mine.template, source="csv", csv_file=upload)
    )
    body = response.content.decode()
    assert "CSV line 3: “green” is not a value of {colour}: use one of red, blue." in body
    assert "[&#x27;" not in body and "['" not in body


def test_a_missing_field_is_named_in_the_error_summary(editor, mine):
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form(name=""))
    assert '<a href="#id_name">Name</a>: This field is required.' in response.content.decode()


@pytest.mark.parametrize("fps", ["-3", "0", "61"])
def test_frames_per_second_out_of_range_says_the_whole_range(editor, mine, fps):
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form(fps=fps))
    body = response.content.decode()
    assert "Frames per second</a>: Enter a whole number from 1 to 60." in body
    assert "greater than or equal" not in body and "less than or equal" not in body


def test_every_page_names_an_icon_and_favicon_ico_leads_to_it(editor, client, mine):
    assert 'rel="icon" href="/static/dashboard/favicon.svg"' in editor.get(reverse("dashboard:home")).content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/dashboard/favicon.svg"


def test_archive_asks_first_and_cancels_the_scheduled_posts(editor, mine):
    url = reverse("dashboard:campaign_archive", args=[mine.campaign.pk])
    detail = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert f'href="{url}" id="archive-campaign"' in detail
    confirm = editor.get(url).content.decode()
    assert "Its 1 scheduled post will be cancelled" in confirm and 'id="confirm-archive"' in confirm
    mine.campaign.refresh_from_db()
    assert mine.campaign.status != CampaignStatus.ARCHIVED
    done = editor.post(url, follow=True).content.decode()
    mine.campaign.refresh_from_db()
    mine.post.refresh_from_db()
    assert mine.campaign.status == CampaignStatus.ARCHIVED and mine.post.status == PostStatus.CANCELLED
    assert "archived; its 1 scheduled post cancelled." in done


def test_cards_link_the_video_download_and_the_gif_and_preload_their_length(viewer, mine):
    mine.approved.poster, mine.approved.video, mine.approved.gif = "c/p.png", "c/clip.mp4", "c/clip.gif"
    mine.approved.save()
    pk = mine.approved.pk
    for url in (reverse("dashboard:clips"), reverse("dashboard:clip", args=[pk])):
        body = viewer.get(url).content.decode()
        assert f'<a href="/clips/{pk}/media/video" download="clip-{pk}.mp4"' in body
        assert f'<a href="/clips/{pk}/media/gif" download="clip-{pk}.gif"' in body
        assert '<video controls preload="metadata"' in body and 'preload="none"' not in body


def test_the_clip_page_labels_timings_and_leaves_out_what_is_empty(viewer, mine):
    mine.approved.timings = {"queue_wait_s": 1.24, "load_s": 0.0, "denoise_s": 3.5, "decode_s": None}
    mine.approved.save()
    body = viewer.get(reverse("dashboard:clip", args=[mine.approved.pk])).content.decode()
    assert "Waiting in queue: 1.2 s" in body and "Denoising: 3.5 s" in body
    assert "queue_wait_s" not in body and "Decoding frames" not in body
    grid = body[body.index('class="detail-grid"'):body.index('id="provenance-heading"')]
    assert "clip-poller" not in grid  # an empty grid item left half of the page blank
    pending = viewer.get(reverse("dashboard:clip", args=[mine.pending.pk])).content.decode()
    assert "Posts of this clip" not in pending and ", guidance" not in pending


def test_the_posts_list_shows_upcoming_soonest_first_then_past_newest_first_with_years_and_posters(viewer, mine):
    now = timezone.now()
    mine.approved.poster = "c/poster.png"
    mine.approved.save()

    def post(caption: str, days: float, status: str = PostStatus.SCHEDULED) -> None:
        Post.objects.create(clip=mine.approved, x_account=mine.account, caption=caption,
                            scheduled_at=now + timedelta(days=days), status=status)

    post("later-one", 5)
    post("old-one", -30, PostStatus.POSTED)
    post("recent-one", -2, PostStatus.POSTED)
    body = viewer.get(reverse("dashboard:posts")).content.decode()
    upcoming = body[body.index('id="upcoming-posts"'):body.index('id="past-heading"')]
    past = body[body.index('id="past-posts"'):]
    assert upcoming.index(mine.post.caption) < upcoming.index("later-one") and "recent-one" not in upcoming
    assert past.index("recent-one") < past.index("old-one") and "later-one" not in past
    local = mine.post.scheduled_at.astimezone(ZoneInfo(mine.campaign.timezone))
    assert f"{local:%a} {local.day} {local:%b %Y, %H:%M}" in upcoming
    assert f'<img src="/clips/{mine.approved.pk}/media/poster" alt="Clip {mine.approved.pk}"' in upcoming


def test_a_new_workspace_lands_on_start_here_steps_until_they_are_done(login_as, mine):
    workspace = WorkspaceFactory()
    owner = login_as(Role.OWNER, workspace=workspace)
    body = owner.get("/").content.decode()
    assert 'id="start-here"' in body
    assert f'<a href="{reverse("dashboard:campaign_create")}">New campaign</a>' in body
    assert f'<a href="{reverse("dashboard:accounts")}">Accounts</a>' in body
    campaign = CampaignFactory(workspace=workspace)
    body = owner.get("/").content.decode()
    assert f'<a href="{reverse("dashboard:prompt_create", args=[campaign.pk])}">New prompt template</a>' in body
    PromptTemplateFactory(campaign=campaign)
    XAccount.objects.create(workspace=workspace, handle="fresh", access_token="a", access_token_secret="b")
    assert 'id="start-here"' not in owner.get("/").content.decode()


def test_one_frame_and_one_step_are_singular(viewer, mine):
    mine.approved.render_params = {"frames": 1, "fps": 8, "steps": 1, "guidance": 7.5}
    mine.approved.save()
    body = viewer.get(reverse("dashboard:clip", args=[mine.approved.pk])).content.decode()
    assert "1 frame at 8 fps" in body and ", 1 step," in body
