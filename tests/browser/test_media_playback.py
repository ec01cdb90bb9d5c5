"""A member's browser plays and seeks a clip through the member-only address (local) or a presigned URL (bucket);
a browser without a login gets nothing."""

from __future__ import annotations

import pytest
from django.core.files import File

from accounts.models import Role
from generation.models import Clip, ClipStatus
from tests.factories import MembershipFactory, PromptTemplateFactory
from tests.publishing.conftest import make_video as make_video_fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
make_video = make_video_fixture  # a session fixture of the publishing tests, used by name here

PLAY_AND_SEEK = """async (selector) => {
  const video = document.querySelector(selector);
  video.muted = true;
  await new Promise((ok, fail) => {
    if (video.readyState >= 1) return ok();
    video.onloadedmetadata = ok; video.onerror = () => fail(new Error("video error " + video.error?.code));
    video.preload = "auto"; video.load();
  });
  await new Promise((ok, fail) => {
    video.onseeked = ok; video.onerror = () => fail(new Error("seek error " + video.error?.code));
    video.currentTime = 2.5;
  });
  return {duration: video.duration, time: video.currentTime, error: video.error && video.error.code};
}"""


def member_clip(video_maker, password: str) -> tuple[Clip, str]:
    template = PromptTemplateFactory()
    member = MembershipFactory(workspace=template.campaign.workspace, role=Role.VIEWER).user
    member.set_password(password)
    member.save()
    clip = Clip.objects.create(campaign=template.campaign, prompt="a red circle", seed=1, status=ClipStatus.SUCCEEDED)
    with open(video_maker(seconds=4.0), "rb") as handle:
        clip.video.save("clip.mp4", File(handle))
    return clip, member.username


def log_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/**")


def play_in_gallery(page, url: str, clip: Clip) -> dict:
    page.goto(f"{url}/clips/")
    return page.evaluate(PLAY_AND_SEEK, f"#clip-{clip.pk}-video")


def test_a_member_plays_and_seeks_a_local_clip_and_a_stranger_gets_nothing(live_server, page, make_video, tmp_path,
                                                                          settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    clip, username = member_clip(make_video, "media-pw-1")

    stranger = page.request.get(f"{live_server.url}/clips/{clip.pk}/media/video")
    assert stranger.status in (401, 403)
    log_in(page, live_server.url, username, "media-pw-1")
    played = play_in_gallery(page, live_server.url, clip)

    assert played["error"] is None and 3.9 < played["duration"] < 4.1 and abs(played["time"] - 2.5) < 0.2
    assert page.request.get(f"{live_server.url}/clips/{clip.pk}/media/video",
                            headers={"Range": "bytes=0-9"}).status == 206


def test_a_member_plays_and_seeks_a_clip_from_the_bucket_by_its_presigned_url(live_server, page, make_video,
                                                                             s3_media):
    clip, username = member_clip(make_video, "media-pw-2")

    log_in(page, live_server.url, username, "media-pw-2")
    played = play_in_gallery(page, live_server.url, clip)

    src = page.locator(f"#clip-{clip.pk}-video").get_attribute("src")
    assert src.startswith(f"{s3_media.endpoint}/{s3_media.bucket}/{clip.video.name}?")
    assert played["error"] is None and 3.9 < played["duration"] < 4.1 and abs(played["time"] - 2.5) < 0.2
