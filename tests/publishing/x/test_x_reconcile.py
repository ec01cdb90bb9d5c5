"""Posting exactly once without idempotency keys (publishing.x.posting): X is asked for *this* upload's media,
never for the caption, since two clips of one account may share a caption."""

from __future__ import annotations

import pytest
import requests
from requests_oauthlib import OAuth1

from publishing.x import Reason, XError
from publishing.x.posting import create_once


@pytest.fixture
def upload(client, make_video):
    return lambda: client.upload_video(make_video(1.0), min_poll_secs=0.05)


def test_the_timeline_names_each_posts_media_through_the_specs_expansion(sandbox, account, client, upload):
    media = upload()
    post = client.create_post("with video", media_ids=[media.media_id])
    client.create_post("text only")
    auth = OAuth1(account["consumer_key"], account["consumer_secret"], account["access_token"],
                  account["access_token_secret"])

    answer = requests.get(f"{sandbox.url}/2/users/{account['user_id']}/tweets", auth=auth, timeout=5, params={
        "max_results": 5, "expansions": "attachments.media_keys", "media.fields": "media_key,type"}).json()

    by_id = {p["id"]: p for p in answer["data"]}
    assert by_id[post.id]["attachments"] == {"media_keys": [media.media_key]}
    assert "attachments" not in next(p for p in answer["data"] if p["id"] != post.id)
    assert answer["includes"] == {"media": [{"media_key": media.media_key, "type": "video"}]}
    assert media.media_key == f"7_{media.media_id}"
    # Spec 2.167 names the field list post.fields; the older tweet.fields (what tweepy sends) works too.
    for name in ("post.fields", "tweet.fields"):
        one = requests.get(f"{sandbox.url}/2/tweets/{post.id}", auth=auth, timeout=5,
                           params={name: "attachments"}).json()
        assert one["data"]["attachments"] == {"media_keys": [media.media_key]} and "includes" not in one


def test_the_same_caption_on_another_clip_is_never_taken_for_that_clips_post(sandbox, account, client, upload):
    first, second = upload(), upload()
    posted = client.create_post("Same caption, two clips", media_ids=[first.media_id])

    assert client.find_recent_post(media_id=second.media_id) is None
    for in_doubt in (False, True):
        with pytest.raises(XError) as caught:
            create_once(client, "Same caption, two clips", second.media_id, in_doubt=in_doubt,
                        recheck_delays=(0.1,))
        assert caught.value.permanent and caught.value.reason_code == Reason.DUPLICATE
        assert "X refuses the same text twice on one account" in caught.value.message
        assert "change the caption" in caught.value.message
    assert [p["id"] for p in sandbox.posts(account["user_id"])] == [posted.id]


@pytest.mark.parametrize("fault", [{"kind": "server_error", "status": 503}, {"kind": "delay", "delay": 0.6}],
                         ids=["503", "timeout"])
def test_a_create_that_landed_unanswered_then_a_duplicate_403_finds_this_post_by_its_media(sandbox, make_video,
                                                                                          fault):
    # X creates the post but answers 503 (or too late), and its timeline shows new posts only after 1.5 s: the
    # lookup before creating again misses it, the create is refused as a duplicate, and a later look finds it.
    account = sandbox.create_account(timeline_lag_secs=1.5)
    client = sandbox.client(account, timeout=0.3)
    media = client.upload_video(make_video(1.0), min_poll_secs=0.05)
    sandbox.fault(account["user_id"], **fault, method="POST", path="/2/tweets", lands=True)
    with pytest.raises(XError) as caught:
        client.create_post("Landed unanswered", media_ids=[media.media_id])
    assert caught.value.transient

    created = create_once(client, "Landed unanswered", media.media_id, in_doubt=True, user_id=account["user_id"],
                          recheck_delays=(1.0, 2.0))

    [on_x] = sandbox.posts(account["user_id"])
    assert created.reconciled and created.post.id == on_x["id"] and on_x["media_id"] == media.media_id
    # Calls are logged as they finish: the stalled first create (201, unanswered in time) may finish last.
    creates = sorted(c.status for c in sandbox.server.sandbox.api_calls
                     if c.user_id == account["user_id"] and (c.method, c.path) == ("POST", "/2/tweets"))
    assert creates == sorted([503 if fault["kind"] == "server_error" else 201, 403])


def test_a_create_in_doubt_that_never_landed_is_created_after_looking(sandbox, account, client, upload):
    media = upload()
    sandbox.fault(account["user_id"], "server_error", status=503, method="POST", path="/2/tweets")
    with pytest.raises(XError):
        client.create_post("Never landed", media_ids=[media.media_id])

    created = create_once(client, "Never landed", media.media_id, in_doubt=True)

    assert not created.reconciled
    assert [p["id"] for p in sandbox.posts(account["user_id"])] == [created.post.id]
