"""The publisher streams a clip's MP4 from the S3-compatible bucket to X (the sandbox), through a real worker."""

from __future__ import annotations

import hashlib

import pytest

from publishing.models import PostStatus
from publishing.tasks import dispatch_due_posts
from tests.factories import PromptTemplateFactory
from tests.publishing.test_publish_worker import approved_clip, connected_account, due_posts, wait_until_settled, x_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["x_env"]  # a fixture, used by name


def test_a_post_uploads_the_mp4_from_the_bucket_to_x(start_worker, sandbox, x_env, s3_media, make_video, tmp_path):
    template = PromptTemplateFactory()
    account = connected_account(sandbox, template.campaign.workspace)
    clip = approved_clip(make_video, template.campaign)
    assert s3_media.object_keys() == {clip.video.name}
    [post] = due_posts(clip, account, 1)
    start_worker("default,publish", **{**x_env, **s3_media.env})

    dispatch_due_posts.delay()
    counts = wait_until_settled([post.pk], timeout=60)

    post.refresh_from_db()
    assert counts["posted"] == 1, post.last_error
    sent = sandbox.http.get(f"{sandbox.url}/_sandbox/media/{post.media_id}", timeout=10).content
    assert hashlib.sha256(sent).hexdigest() == hashlib.sha256(s3_media.read(clip.video.name)).hexdigest()
    assert [p["id"] for p in sandbox.posts(account.x_user_id)] == [post.x_post_id]
    assert post.status == PostStatus.POSTED
    assert not any((tmp_path / "media").iterdir()), "the publish worker read or wrote media on its local disk"
