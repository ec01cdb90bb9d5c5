"""Posting, lookup, reconciliation, metrics and delete, through tweepy against the sandbox."""

from __future__ import annotations

import time

import pytest

from publishing.x import Reason, XError


@pytest.fixture
def uploaded(client, make_video):
    return client.upload_video(make_video(1.0), min_poll_secs=0.05)


def test_it_posts_a_clip_marked_made_with_ai(sandbox, account, client, uploaded):
    post = client.create_post("A fox at dawn #ai", media_ids=[uploaded.media_id], made_with_ai=True)

    [stored] = sandbox.posts(account["user_id"])
    assert stored["id"] == post.id and stored["text"] == "A fox at dawn #ai"
    assert stored["media_id"] == uploaded.media_id and stored["made_with_ai"] is True
    assert post.url(account["username"]).endswith(f"/{account['username']}/status/{post.id}")


def test_get_me_names_the_account(client, account):
    me = client.get_me()
    assert (me.id, me.username) == (account["user_id"], account["username"])


def test_the_same_text_twice_is_a_duplicate_the_marketer_fixes_by_changing_the_caption(sandbox, account, client,
                                                                                      uploaded):
    client.create_post("Same words", media_ids=[uploaded.media_id])
    with pytest.raises(XError) as caught:
        client.create_post("Same words", media_ids=[uploaded.media_id])
    error = caught.value
    assert error.permanent and error.reason_code == Reason.DUPLICATE
    assert error.status == 403 and "change the caption" in error.message
    assert len(sandbox.posts(account["user_id"])) == 1


def test_reconciliation_finds_a_post_by_media_key_or_media_id_only(client, uploaded):
    for i in range(6):
        client.create_post(f"filler {i}")
    post = client.create_post("the one", media_ids=[uploaded.media_id])
    for i in range(3):
        client.create_post(f"later {i}")

    by_media = client.find_recent_post(media_key=uploaded.media_key)
    by_media_id = client.find_recent_post(media_id=uploaded.media_id)
    assert by_media_id is not None and by_media_id.id == post.id
    assert post.text.startswith("the one https://t.co/")  # X appends a link to the media
    assert by_media is not None and by_media.id == post.id
    with pytest.raises(TypeError):
        client.find_recent_post(text="the one")  # text never identifies a post: two clips may share a caption
    recent = client.recent_posts(max_results=5)
    assert len(recent) == 5 and recent[0].text == "later 2"


def test_metrics_are_readable_and_grow(client, uploaded):
    post = client.create_post("metrics please", media_ids=[uploaded.media_id])
    first = client.get_metrics(post.id)
    time.sleep(1.1)
    second = client.get_metrics(post.id)
    assert first is not None and second is not None
    assert second.impression_count > first.impression_count >= 0
    fetched = client.get_post(post.id)
    assert fetched.media_keys == (uploaded.media_key,) and fetched.created_at is not None


def test_a_deleted_post_is_gone(sandbox, account, client):
    post = client.create_post("short-lived")
    assert client.delete_post(post.id) is True
    assert client.get_post(post.id) is None
    assert sandbox.posts(account["user_id"]) == []
    assert sandbox.posts(account["user_id"], include_deleted=True)[0]["deleted"] is True
    with pytest.raises(XError) as caught:
        client.delete_post(post.id)
    assert caught.value.reason_code == Reason.NOT_FOUND and caught.value.permanent


def test_media_of_another_account_must_be_uploaded_again(sandbox, client, uploaded):
    other = sandbox.client(sandbox.create_account())
    with pytest.raises(XError) as caught:
        other.create_post("stolen", media_ids=[uploaded.media_id])
    assert caught.value.transient and caught.value.reason_code == Reason.MEDIA_EXPIRED
    assert "uploaded again" in caught.value.message


def test_a_post_cannot_use_media_still_processing(sandbox, account, client, make_video):
    sandbox.configure(processing_secs=30)
    with pytest.raises(XError):
        client.upload_video(make_video(1.0), max_wait_secs=0.1, min_poll_secs=0.05)
    with sandbox.server.sandbox.store.tx() as db:
        [pending] = db.execute("SELECT id FROM media WHERE user_id = ?", (account["user_id"],)).fetchall()
    with pytest.raises(XError) as caught:
        client.create_post("too early", media_ids=[pending["id"]])
    assert caught.value.transient and caught.value.reason_code == Reason.MEDIA_NOT_READY


def test_metrics_for_many_posts_come_in_batches(client):
    posts = [client.create_post(f"batch {i}") for i in range(3)]
    client.delete_post(posts[1].id)
    found = client.get_posts([p.id for p in posts] + ["1860000000999999999"])
    assert set(found) == {posts[0].id, posts[2].id}
    assert all(p.metrics is not None for p in found.values())


def test_a_media_only_post_sends_no_text(sandbox, account, client, uploaded):
    post = client.create_post("", media_ids=[uploaded.media_id])
    assert sandbox.posts(account["user_id"])[0]["text"] == "" and post.text.startswith(" https://t.co/")


def test_media_that_expired_before_posting_must_be_uploaded_again(sandbox, account, client, make_video):
    media = client.upload_video(make_video(1.0), min_poll_secs=0.05)
    sandbox.fault(account["user_id"], "expire_media")
    with pytest.raises(XError) as caught:
        client.create_post("too late", media_ids=[media.media_id])
    assert caught.value.transient and caught.value.reason_code == Reason.MEDIA_EXPIRED
