"""A clip's media (MP4, GIF, poster; rejected clips too) are for its workspace's members only."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import clear_url_caches, reverse
from rest_framework.authtoken.models import Token

from accounts.models import Role
from generation.models import Clip, ClipStatus, ReviewStatus
from tests.factories import MembershipFactory, PromptTemplateFactory, UserFactory

VIDEO = bytes(range(256)) * 40  # 10,240 bytes standing in for an MP4
POSTER = b"\x89PNG\r\n\x1a\n" + b"p" * 100
GIF = b"GIF89a" + b"g" * 100


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL = "off"
    return settings.MEDIA_ROOT


@pytest.fixture
def urls_for_this_media_root(media):
    """Build the URL conf again with this test's MEDIA_ROOT, as a server would have it at start-up."""
    import clipcast.urls

    importlib.reload(clipcast.urls)
    clear_url_caches()
    yield
    importlib.reload(clipcast.urls)
    clear_url_caches()


@pytest.fixture
def world(db, media):
    template = PromptTemplateFactory()
    member = MembershipFactory(workspace=template.campaign.workspace, role=Role.VIEWER).user
    outsider = MembershipFactory(role=Role.OWNER).user  # owner of another workspace
    return template, member, outsider


def rendered_clip(template, review: str = ReviewStatus.PENDING) -> Clip:
    clip = Clip.objects.create(campaign=template.campaign, prompt_template=template, prompt="a red circle", seed=1,
                               status=ClipStatus.SUCCEEDED, review_status=review)
    clip.video.save("clip.mp4", ContentFile(VIDEO), save=False)
    clip.gif.save("clip.gif", ContentFile(GIF), save=False)
    clip.poster.save("poster.png", ContentFile(POSTER), save=True)
    return clip


def public_addresses(clip: Clip) -> list[str]:
    """Every address a file could be fetched at without the member-only view: the storage URL and /media/<key>."""
    return [address for field in (clip.video, clip.gif, clip.poster) for address in (field.url, f"/media/{field.name}")]


@pytest.mark.parametrize("review", [ReviewStatus.PENDING, ReviewStatus.REJECTED])
def test_nobody_fetches_a_clips_files_at_their_storage_address(client, world, review, urls_for_this_media_root):
    template, member, outsider = world
    clip = rendered_clip(template, review)

    for user in (None, outsider, member):
        if user:
            client.force_login(user)
        for address in public_addresses(clip):
            assert client.get(address).status_code == 404, (user, address)


def test_storage_keys_hold_an_unguessable_part(world):
    template, _, _ = world
    clip, other = rendered_clip(template), rendered_clip(template)

    for field in (clip.video, clip.gif, clip.poster):
        assert not field.name.startswith(f"clips/{clip.campaign_id}/{clip.pk}/")
        assert re.fullmatch(rf"clips/{clip.campaign_id}/{clip.pk}-[0-9a-f]{{32}}/(clip\.mp4|clip\.gif|poster\.png)",
                            field.name)
    assert clip.media_key != other.media_key


@pytest.mark.parametrize("review", [ReviewStatus.PENDING, ReviewStatus.REJECTED])
def test_only_members_get_a_clips_files_through_the_media_view(client, world, review):
    template, member, outsider = world
    clip = rendered_clip(template, review)
    urls = {kind: reverse("clip_media", args=[clip.pk, kind]) for kind in ("video", "gif", "poster")}

    assert all(client.get(url).status_code in (401, 403) for url in urls.values())
    client.force_login(outsider)
    assert all(client.get(url).status_code == 404 for url in urls.values())
    client.force_login(member)
    for kind, expected in (("video", VIDEO), ("gif", GIF), ("poster", POSTER)):
        response = client.get(urls[kind])
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == expected
        assert "private" in response["Cache-Control"]
    assert client.get(urls["video"])["Content-Type"] == "video/mp4"


def test_the_media_view_answers_byte_ranges_so_a_video_can_seek(client, world):
    template, member, _ = world
    clip = rendered_clip(template)
    client.force_login(member)
    url = reverse("clip_media", args=[clip.pk, "video"])

    whole = client.get(url)
    assert (whole["Accept-Ranges"], whole["Content-Length"]) == ("bytes", str(len(VIDEO)))
    part = client.get(url, HTTP_RANGE="bytes=100-1099")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-1099/{len(VIDEO)}"
    assert b"".join(part.streaming_content) == VIDEO[100:1100]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == VIDEO[-10:]
    open_ended = client.get(url, HTTP_RANGE=f"bytes={len(VIDEO) - 5}-")
    assert b"".join(open_ended.streaming_content) == VIDEO[-5:]
    past_end = client.get(url, HTTP_RANGE=f"bytes={len(VIDEO)}-")
    assert (past_end.status_code, past_end["Content-Range"]) == (416, f"bytes */{len(VIDEO)}")


def test_a_proxy_serves_the_file_after_the_membership_check_when_configured(client, world, settings):
    template, member, outsider = world
    clip = rendered_clip(template)
    url = reverse("clip_media", args=[clip.pk, "video"])
    settings.MEDIA_ACCEL = "x-accel-redirect"
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"

    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{clip.video.name}"
    settings.MEDIA_ACCEL = "x-sendfile"
    assert client.get(url)["X-Sendfile"] == str(clip.video.storage.path(clip.video.name))


def test_a_clip_stored_under_an_old_predictable_key_still_plays_for_members(client, world, media):
    template, member, outsider = world
    clip = Clip.objects.create(campaign=template.campaign, prompt="old", seed=1, status=ClipStatus.SUCCEEDED)
    old = media / "clips" / str(clip.campaign_id) / str(clip.pk) / "clip.mp4"
    old.parent.mkdir(parents=True)
    old.write_bytes(VIDEO)
    Clip.objects.filter(pk=clip.pk).update(video=f"clips/{clip.campaign_id}/{clip.pk}/clip.mp4")
    url = reverse("clip_media", args=[clip.pk, "video"])

    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(f"/media/clips/{clip.campaign_id}/{clip.pk}/clip.mp4").status_code == 404
    client.force_login(member)
    assert b"".join(client.get(url).streaming_content) == VIDEO


def test_the_api_hands_members_the_member_only_address_and_a_token_fetches_it(client, world):
    template, member, outsider = world
    clip = rendered_clip(template, ReviewStatus.REJECTED)
    token = Token.objects.create(user=member).key

    body = client.get(f"/api/clips/{clip.pk}/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert body["video"] == f"http://testserver/clips/{clip.pk}/media/video"
    assert body["poster"] == f"http://testserver/clips/{clip.pk}/media/poster"
    assert b"".join(client.get(body["video"], HTTP_AUTHORIZATION=f"Token {token}").streaming_content) == VIDEO
    assert client.get(body["video"]).status_code in (401, 403)
    other = Token.objects.create(user=outsider).key
    assert client.get(body["video"], HTTP_AUTHORIZATION=f"Token {other}").status_code == 404


def test_dashboard_pages_point_at_the_member_only_addresses(client, world):
    template, member, _ = world
    clip = rendered_clip(template)
    client.force_login(member)

    page = client.get(reverse("dashboard:clips")).content.decode()
    assert f'src="/clips/{clip.pk}/media/video"' in page
    assert f'poster="/clips/{clip.pk}/media/poster"' in page
    assert clip.video.name not in page and "/media/clips/" not in page


def test_a_user_without_workspaces_is_refused(client, world):
    template, _, _ = world
    clip = rendered_clip(template)
    client.force_login(UserFactory())
    assert client.get(reverse("clip_media", args=[clip.pk, "video"])).status_code == 404
