"""Media in an S3-compatible bucket (MEDIA_STORAGE=s3), against the real S3-protocol server on 127.0.0.1:
uploads through the storage API, presigned URLs fetched over HTTP, the member-only view, range reads, renders."""

from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import parse_qs, urlsplit

import av
import pytest
import requests
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.models import Role
from generation.media import open_stream
from generation.models import Clip, ClipStatus, ReviewStatus
from tests.factories import MembershipFactory, PromptTemplateFactory
from tests.generation.test_render_worker import make_template, submit, wait_for

VIDEO = os.urandom(300_000)


@pytest.fixture
def world(db, s3_media):
    template = PromptTemplateFactory()
    member = MembershipFactory(workspace=template.campaign.workspace, role=Role.VIEWER).user
    outsider = MembershipFactory(role=Role.OWNER).user
    return template, member, outsider


def stored_clip(template, review: str = ReviewStatus.PENDING) -> Clip:
    clip = Clip.objects.create(campaign=template.campaign, prompt="a red circle", seed=1,
                               status=ClipStatus.SUCCEEDED, review_status=review)
    clip.video.save("clip.mp4", ContentFile(VIDEO), save=False)
    clip.poster.save("poster.png", ContentFile(b"\x89PNG poster"), save=True)
    return clip


def test_files_saved_through_the_storage_api_land_in_the_private_bucket(world, s3_media):
    template, _, _ = world
    clip = stored_clip(template)

    assert s3_media.object_keys() == {clip.video.name, clip.poster.name}
    assert s3_media.read(clip.video.name) == VIDEO
    assert clip.video.name.startswith(f"clips/{clip.campaign_id}/{clip.pk}-{clip.media_key}/")
    # No signature, no file: the objects are not public.
    assert requests.get(f"{s3_media.endpoint}/{s3_media.bucket}/{clip.video.name}", timeout=10).status_code == 403


def test_members_get_expiring_presigned_urls_that_fetch_the_file_over_http(client, world, s3_media, settings):
    template, member, _ = world
    clip = stored_clip(template, ReviewStatus.REJECTED)
    client.force_login(member)

    body = client.get(f"/api/clips/{clip.pk}/").json()
    url = body["video"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{s3_media.endpoint}/{s3_media.bucket}/{clip.video.name}?")
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_URL_EXPIRY)] and query["X-Amz-Signature"]
    assert requests.get(url, timeout=10).content == VIDEO
    assert requests.get(body["poster"], timeout=10).content == b"\x89PNG poster"
    assert body["gif"] is None
    page = client.get(reverse("dashboard:clips")).content.decode()
    assert f'src="{s3_media.endpoint}/{s3_media.bucket}/{clip.video.name}?' in page


def test_the_media_view_sends_members_to_a_presigned_url_and_refuses_others(client, world, s3_media):
    template, member, outsider = world
    clip = stored_clip(template)
    view = reverse("clip_media", args=[clip.pk, "video"])

    assert client.get(view).status_code in (401, 403)
    client.force_login(outsider)
    assert client.get(view).status_code == 404
    client.force_login(member)
    response = client.get(view)
    assert response.status_code == 302 and "private" in response["Cache-Control"]
    assert response["Location"].startswith(f"{s3_media.endpoint}/{s3_media.bucket}/{clip.video.name}?")
    assert requests.get(response["Location"], timeout=10).content == VIDEO


def test_a_bucket_object_is_read_in_ranges_as_a_seekable_file(world, s3_media):
    template, _, _ = world
    clip = stored_clip(template)

    with open_stream(clip.video.storage, clip.video.name, buffer_size=64 * 1024) as stream:
        assert stream.read(10) == VIDEO[:10]
        assert stream.raw.tell() == 64 * 1024, "it fetched more than one buffer's range for 10 bytes"
        stream.seek(0, io.SEEK_END)
        assert stream.tell() == len(VIDEO)
        stream.seek(0)
        chunks = iter(lambda: stream.read(100_000), b"")
        assert [len(c) for c in chunks] == [100_000, 100_000, 100_000]
        stream.seek(12_345)
        assert stream.read(10) == VIDEO[12_345:12_355]
        stream.seek(0)
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(VIDEO).digest()


@pytest.mark.integration
@pytest.mark.slow
def test_a_render_worker_uploads_its_finished_files_to_the_bucket(render_worker, media_root, s3_media):
    render_worker(**s3_media.env)
    clip = submit(make_template(frames=8, fps=8, output_width=128, output_height=128), steps=4)

    clip = wait_for(clip, {ClipStatus.SUCCEEDED, ClipStatus.FAILED})
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    assert s3_media.object_keys() == {clip.video.name, clip.gif.name, clip.poster.name}
    assert clip.video.name.endswith(f"{clip.pk}-{clip.media_key}/clip.mp4")
    with av.open(io.BytesIO(s3_media.read(clip.video.name))) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 8
    assert not any(media_root.iterdir()), "the worker wrote media to its local disk"
