"""The planner's API (issue #43): moving posts, an account's queue, bulk clip actions, the preview and the export;
every write tried by every role, and another workspace's objects answer 404."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import ROLE_RANK, Role
from campaigns.models import PostingSlot
from generation.models import ReviewStatus
from publishing.models import Post, PostStatus
from publishing.scheduling import utc_to_local
from tests.worlds import make_clip

pytestmark = pytest.mark.django_db
ROLES = [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER]


def local(post: Post) -> datetime:
    return utc_to_local(post.scheduled_at, post.clip.campaign.timezone)


def second_post(world, hours: int = 48) -> Post:
    clip = make_clip(world.campaign, world.template, seed=9, status="succeeded", review_status="approved")
    return Post.objects.create(clip=clip, x_account=world.account, caption="Second post",
                               scheduled_at=timezone.now() + timedelta(hours=hours))


def with_slots(world) -> None:
    for weekday in range(7):
        PostingSlot.objects.create(campaign=world.campaign, weekday=weekday, local_time=time(9, 0))


# (name, method, path(world), payload(world), minimum role, success status)
CASES = [
    ("move post", "post", lambda w: f"/api/posts/{w.post.pk}/move/",
     lambda w: {"date": (local(w.post) + timedelta(days=2)).date().isoformat()}, Role.EDITOR, 200),
    ("preview post", "post", lambda w: "/api/posts/preview/", lambda w: {"clip": w.approved.pk, "caption": "Hi"},
     Role.VIEWER, 200),
    ("export posts", "get", lambda w: "/api/posts/export/", None, Role.VIEWER, 200),
    ("read queue", "get", lambda w: f"/api/x-accounts/{w.account.pk}/queue/", None, Role.VIEWER, 200),
    ("reorder queue", "post", lambda w: f"/api/x-accounts/{w.account.pk}/reorder/",
     lambda w: {"posts": [second_post(w).pk, w.post.pk]}, Role.EDITOR, 200),
    ("pause queue", "post", lambda w: f"/api/x-accounts/{w.account.pk}/pause/", None, Role.EDITOR, 200),
    ("resume queue", "post", lambda w: f"/api/x-accounts/{w.account.pk}/resume/", None, Role.EDITOR, 200),
    ("post next now", "post", lambda w: f"/api/x-accounts/{w.account.pk}/post-next/", None, Role.EDITOR, 200),
    ("bulk approve", "post", lambda w: "/api/clip-actions/", lambda w: {"clips": [w.pending.pk], "action": "approve"},
     Role.REVIEWER, 200),
    ("bulk queue", "post", lambda w: "/api/clip-actions/",
     lambda w: {"clips": [w.pending.pk], "action": "queue", "x_account": w.account.pk}, Role.EDITOR, 200),
]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(("name", "method", "path", "payload", "minimum", "success"), CASES, ids=[c[0] for c in CASES])
def test_role_matrix(api_as, mine, role, name, method, path, payload, minimum, success):
    client = api_as(role)
    body = payload(mine) if payload else None

    response = getattr(client, method)(path(mine), body, format="json")

    expected = success if ROLE_RANK[role] >= ROLE_RANK[minimum] else 403
    assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize(("method", "path"), [
    ("post", lambda w: f"/api/posts/{w.post.pk}/move/"),
    ("get", lambda w: f"/api/x-accounts/{w.account.pk}/queue/"),
    ("post", lambda w: f"/api/x-accounts/{w.account.pk}/reorder/"),
    ("post", lambda w: f"/api/x-accounts/{w.account.pk}/pause/"),
    ("post", lambda w: f"/api/x-accounts/{w.account.pk}/resume/"),
    ("post", lambda w: f"/api/x-accounts/{w.account.pk}/post-next/"),
])
def test_another_workspaces_posts_and_accounts_are_not_found(api_as, theirs, method, path):
    response = getattr(api_as(Role.OWNER), method)(path(theirs), {"date": "2030-01-01", "posts": [1]}, format="json")

    assert response.status_code == 404
    theirs.account.refresh_from_db()
    assert not theirs.account.queue_paused


def test_bulk_and_preview_refuse_another_workspaces_clips_as_unknown(api_as, theirs):
    client = api_as(Role.OWNER)

    bulk = client.post("/api/clip-actions/", {"clips": [theirs.pending.pk], "action": "approve"}, format="json")
    preview = client.post("/api/posts/preview/", {"clip": theirs.approved.pk}, format="json")

    assert bulk.status_code == 400 and "does not exist" in str(bulk.json())
    assert preview.status_code == 400
    theirs.pending.refresh_from_db()
    assert theirs.pending.review_status == ReviewStatus.PENDING


def test_a_move_to_another_day_keeps_the_wall_clock_time_and_answers_how_to_undo(api_as, mine):
    client = api_as(Role.EDITOR)
    before = mine.post.scheduled_at
    target = (local(mine.post) + timedelta(days=3)).date()

    moved = client.post(f"/api/posts/{mine.post.pk}/move/", {"date": target.isoformat()}, format="json")

    assert moved.status_code == 200, moved.content
    mine.post.refresh_from_db()
    assert local(mine.post).date() == target
    assert local(mine.post).time() == utc_to_local(before, mine.campaign.timezone).time()
    undo = client.post(f"/api/posts/{mine.post.pk}/move/", {"scheduled_at": moved.json()["previous_scheduled_at"]},
                       format="json")
    assert undo.status_code == 200
    mine.post.refresh_from_db()
    assert mine.post.scheduled_at == before


def test_a_move_into_the_past_or_of_a_posted_post_is_refused_with_a_reason(api_as, mine):
    client = api_as(Role.EDITOR)

    past = client.post(f"/api/posts/{mine.post.pk}/move/", {"date": "2001-01-01"}, format="json")
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.POSTED)
    posted = client.post(f"/api/posts/{mine.post.pk}/move/", {"date": "2099-01-01"}, format="json")

    assert past.status_code == 400 and "in the past" in str(past.json())
    assert posted.status_code == 400 and "Only a scheduled post" in str(posted.json())


@pytest.mark.parametrize("body", [{}, {"time": "10:00"}, {"date": "2030-02-30"}, {"date": "x"},
                                  {"date": "2030-01-01", "scheduled_at": "2030-01-01T10:00:00Z"},
                                  {"scheduled_at": "2030-01-01T10:00:00"}, {"date": "9999-12-31"}])
def test_bad_moves_answer_400(api_as, mine, body):
    response = api_as(Role.EDITOR).post(f"/api/posts/{mine.post.pk}/move/", body, format="json")

    assert response.status_code == 400, response.content


def test_a_move_onto_a_time_the_clocks_skip_is_refused_naming_the_time(api_as, mine):
    # America/New_York springs forward on 2027-03-14: 02:30 does not exist.
    response = api_as(Role.EDITOR).post(f"/api/posts/{mine.post.pk}/move/", {"date": "2027-03-14", "time": "02:30"},
                                        format="json")

    assert response.status_code == 400
    assert "does not exist" in str(response.json()) and "03:30" in str(response.json())


def test_reorder_swaps_the_times_so_the_slots_stay(api_as, mine):
    later = second_post(mine)
    first_time, second_time = mine.post.scheduled_at, later.scheduled_at

    response = api_as(Role.EDITOR).post(f"/api/x-accounts/{mine.account.pk}/reorder/",
                                        {"posts": [later.pk, mine.post.pk]}, format="json")

    assert response.status_code == 200, response.content
    mine.post.refresh_from_db()
    later.refresh_from_db()
    assert (later.scheduled_at, mine.post.scheduled_at) == (first_time, second_time)
    assert [p["post"] for p in response.json()["places"] if not p["empty"]] == [later.pk, mine.post.pk]


@pytest.mark.parametrize("posts", [[], [1, 1], [999999], "x", [2**40]])
def test_bad_reorders_answer_400(api_as, mine, posts):
    body = {"posts": [mine.post.pk, mine.post.pk] if posts == [1, 1] else posts}

    response = api_as(Role.EDITOR).post(f"/api/x-accounts/{mine.account.pk}/reorder/", body, format="json")

    assert response.status_code == 400, response.content


def test_the_queue_shows_empty_slots_between_posts(api_as, mine):
    with_slots(mine)

    places = api_as(Role.VIEWER).get(f"/api/x-accounts/{mine.account.pk}/queue/").json()["places"]

    assert [p for p in places if p["post"] == mine.post.pk]
    empty = [p for p in places if p["empty"]]
    assert len(empty) >= 13 and all(p["campaign"] == mine.campaign.pk for p in empty)
    ats = [p["at"] for p in places]
    assert ats == sorted(ats)


def test_post_next_makes_the_first_post_due_and_is_refused_while_paused(api_as, mine):
    client = api_as(Role.EDITOR)
    client.post(f"/api/x-accounts/{mine.account.pk}/pause/")

    refused = client.post(f"/api/x-accounts/{mine.account.pk}/post-next/")
    client.post(f"/api/x-accounts/{mine.account.pk}/resume/")
    done = client.post(f"/api/x-accounts/{mine.account.pk}/post-next/")

    assert refused.status_code == 400 and "paused" in str(refused.json())
    assert done.status_code == 200 and done.json()["id"] == mine.post.pk
    assert Post.objects.due(timezone.now()).filter(pk=mine.post.pk).exists()
    empty = client.post(f"/api/x-accounts/{mine.account.pk}/post-next/")
    assert empty.status_code == 400 and "no scheduled post" in str(empty.json())


def test_bulk_says_what_happened_to_each_clip(api_as, mine):
    with_slots(mine)
    client = api_as(Role.EDITOR)
    clips = [mine.pending.pk, mine.rendering.pk, mine.approved.pk]

    approved = client.post("/api/clip-actions/", {"clips": clips, "action": "approve"}, format="json").json()
    queued = client.post("/api/clip-actions/", {"clips": clips, "action": "queue", "x_account": mine.account.pk},
                         format="json").json()

    assert [r["done"] for r in approved["results"]] == [True, False, False]
    assert "Not ready" in approved["results"][1]["message"] and "Already approved" in approved["results"][2]["message"]
    assert (queued["done"], queued["skipped"]) == (2, 1)
    posts = Post.objects.filter(pk__in=[r["post"] for r in queued["results"] if r["post"]]).order_by("scheduled_at")
    assert [p.clip_id for p in posts] == [mine.pending.pk, mine.approved.pk]
    assert all(local(p).time() == time(9, 0) for p in posts)


def test_bulk_slots_fill_one_clip_per_slot_from_the_chosen_day(api_as, mine):
    with_slots(mine)
    extra = make_clip(mine.campaign, mine.template, seed=11, status="succeeded", review_status="approved")
    start = datetime.combine(date.today() + timedelta(days=20), time(0, 0), tzinfo=UTC)

    result = api_as(Role.EDITOR).post("/api/clip-actions/", {
        "clips": [mine.approved.pk, extra.pk], "action": "slots", "x_account": mine.account.pk,
        "caption_template": mine.caption.pk, "starting": start.isoformat()}, format="json").json()

    assert result["done"] == 2, result
    posts = [Post.objects.get(pk=r["post"]) for r in result["results"]]
    assert posts[0].scheduled_at > start and posts[1].scheduled_at - posts[0].scheduled_at == timedelta(days=1)
    assert posts[0].caption.startswith("Look at this red circle!")


def test_a_reviewer_can_bulk_approve_but_the_queue_is_refused(api_as, mine):
    client = api_as(Role.REVIEWER)

    queued = client.post("/api/clip-actions/", {"clips": [mine.approved.pk], "action": "queue",
                                                "x_account": mine.account.pk}, format="json")

    assert queued.status_code == 403


def test_a_bulk_action_skips_clips_of_a_workspace_where_the_role_is_too_low(api_as, mine, theirs):
    from tests.factories import MembershipFactory

    client = api_as(Role.REVIEWER)
    MembershipFactory(workspace=theirs.workspace, role=Role.VIEWER, user=client.handler._force_user)

    result = client.post("/api/clip-actions/", {"clips": [mine.pending.pk, theirs.pending.pk], "action": "approve"},
                         format="json").json()

    assert [r["done"] for r in result["results"]] == [True, False]
    assert "Not permitted" in result["results"][1]["message"]


@pytest.mark.parametrize("body", [{}, {"clips": [], "action": "approve"}, {"clips": ["x"], "action": "approve"},
                                  {"clips": [1], "action": "explode"}, {"clips": [1], "action": "queue"},
                                  {"clips": [2**40], "action": "approve"}])
def test_bad_bulk_requests_answer_400(api_as, mine, body):
    if body.get("clips") == [1]:
        body["clips"] = [mine.pending.pk]

    response = api_as(Role.EDITOR).post("/api/clip-actions/", body, format="json")

    assert response.status_code == 400, response.content


def test_the_preview_counts_the_weighted_length_and_marks_links_and_tags(api_as, mine):
    caption = "Meet it 🎉 https://example.com/launch #launch @brand"

    body = api_as(Role.VIEWER).post("/api/posts/preview/", {"clip": mine.approved.pk, "caption": caption},
                                    format="json").json()

    assert body["weighted_length"] == len("Meet it ") + 2 + 1 + 23 + len(" #launch @brand")
    assert body["limit"] == 280 and body["fits"] and body["problem"] is None
    assert [s["kind"] for s in body["segments"] if s["kind"] != "text"] == ["url", "hashtag", "mention"]
    assert body["ai_label"] == "Made with AI"


def test_the_preview_of_a_template_and_of_a_too_long_caption(api_as, mine):
    client = api_as(Role.VIEWER)

    templated = client.post("/api/posts/preview/", {"clip": mine.approved.pk, "caption_template": mine.caption.pk},
                            format="json").json()
    long = client.post("/api/posts/preview/", {"clip": mine.approved.pk, "caption": "é" * 300}, format="json").json()

    assert templated["caption"].startswith("Look at this red circle!")
    assert long["over_by"] == 20 and not long["fits"] and "20 over" in long["problem"]


def test_the_export_is_csv_with_metrics_and_no_formula_can_run(api_as, mine):
    Post.objects.filter(pk=mine.post.pk).update(caption="=HYPERLINK(\"http://evil\")", metrics={"like_count": 7})
    second_post(mine)

    response = api_as(Role.VIEWER).get("/api/posts/export/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 2
    assert rows[0]["caption"] == "'=HYPERLINK(\"http://evil\")" and rows[0]["like_count"] == "7"
    assert rows[1]["caption"] == "Second post"


def test_the_export_filters_like_the_list_and_answers_json_on_request(api_as, mine, theirs):
    client = api_as(Role.VIEWER)

    mine_only = client.get("/api/posts/export/", HTTP_ACCEPT="application/json").json()
    bad = client.get("/api/posts/export/?x_account=abc")

    assert [row["post"] for row in mine_only] == [str(mine.post.pk)]
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/json")
