"""Every audited action, done through the real API, dashboard or service, writes exactly one event (who, what, which
object, the changed fields), in the transaction of the change: a change rolled back leaves no event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import AuditEvent, Invitation, Membership, Role
from campaigns.models import CampaignStatus, PostingSlot
from generation import services as generation_services
from generation.models import ClipStatus
from publishing import dispatch
from publishing import services as publishing_services
from publishing.models import Post, PostStatus
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def future(days: int = 2) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def new_events(after: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=after).order_by("pk"))


def last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def api_as(world, role: Role) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=world.workspace, role=role).user)
    return client


def slot(w) -> PostingSlot:
    return PostingSlot.objects.create(campaign=w.campaign, weekday=2, local_time="10:00")


def member(w) -> Membership:
    return MembershipFactory(workspace=w.workspace, role=Role.VIEWER)


# (name, role, method, url, body, action, object type, the object's id, changes that must be in the event)
API_ACTIONS = [
    ("create campaign", Role.EDITOR, "post", lambda w: "/api/campaigns/",
     lambda w: {"workspace": w.workspace.pk, "name": "Autumn", "timezone": "Europe/Paris"},
     "created", "campaigns.campaign", None, {"name": [None, "Autumn"], "timezone": [None, "Europe/Paris"]}),
    ("edit campaign", Role.EDITOR, "patch", lambda w: f"/api/campaigns/{w.campaign.pk}/",
     lambda w: {"name": "Renamed"}, "updated", "campaigns.campaign", lambda w: w.campaign.pk,
     {"name": ["<old>", "Renamed"]}),
    ("archive campaign", Role.EDITOR, "delete", lambda w: f"/api/campaigns/{w.campaign.pk}/", None,
     "archived", "campaigns.campaign", lambda w: w.campaign.pk,
     {"status": [CampaignStatus.DRAFT, CampaignStatus.ARCHIVED]}),
    ("create prompt template", Role.EDITOR, "post", lambda w: "/api/prompt-templates/",
     lambda w: {"campaign": w.campaign.pk, "name": "T", "body": "a {x}", "variables": {"x": ["y"]}},
     "created", "campaigns.prompttemplate", None, {"body": [None, "a {x}"]}),
    ("edit prompt template", Role.EDITOR, "patch", lambda w: f"/api/prompt-templates/{w.template.pk}/",
     lambda w: {"name": "Better"}, "updated", "campaigns.prompttemplate", lambda w: w.template.pk,
     {"name": ["<old>", "Better"]}),
    ("delete caption template", Role.EDITOR, "delete", lambda w: f"/api/caption-templates/{w.caption.pk}/", None,
     "deleted", "campaigns.captiontemplate", lambda w: w.caption.pk, {}),
    ("create slot", Role.EDITOR, "post", lambda w: "/api/posting-slots/",
     lambda w: {"campaign": w.campaign.pk, "weekday": 1, "local_time": "09:30"},
     "created", "campaigns.postingslot", None, {"weekday": [None, 1], "local_time": [None, "09:30:00"]}),
    ("approve clip", Role.REVIEWER, "post", lambda w: f"/api/clips/{w.pending.pk}/approve/", None,
     "approved", "generation.clip", lambda w: w.pending.pk, {"review_status": ["pending", "approved"]}),
    ("reject clip", Role.REVIEWER, "post", lambda w: f"/api/clips/{w.pending.pk}/reject/", None,
     "rejected", "generation.clip", lambda w: w.pending.pk, {"review_status": ["pending", "rejected"]}),
    ("cancel render", Role.EDITOR, "post", lambda w: f"/api/clips/{w.queued.pk}/cancel/", None,
     "cancelled", "generation.clip", lambda w: w.queued.pk, {"status": ["queued", "cancelled"]}),
    ("retry render", Role.EDITOR, "post", lambda w: f"/api/clips/{w.failed.pk}/retry/", None,
     "retried", "generation.clip", lambda w: w.failed.pk, {"status": ["failed", "queued"]}),
    ("schedule post", Role.EDITOR, "post", lambda w: "/api/posts/",
     lambda w: {"clip": w.approved.pk, "x_account": w.account.pk, "caption": "Autumn is here",
                "scheduled_at": future()},
     "scheduled", "publishing.post", None, {"caption": [None, "Autumn is here"]}),
    ("reschedule post", Role.EDITOR, "patch", lambda w: f"/api/posts/{w.post.pk}/",
     lambda w: {"scheduled_at": future(3), "caption": "New words"}, "rescheduled", "publishing.post",
     lambda w: w.post.pk, {"caption": ["<old>", "New words"]}),
    ("cancel post", Role.EDITOR, "post", lambda w: f"/api/posts/{w.post.pk}/cancel/", None,
     "cancelled", "publishing.post", lambda w: w.post.pk, {"status": ["scheduled", "cancelled"]}),
    ("post now", Role.EDITOR, "post", lambda w: f"/api/posts/{w.post.pk}/post-now/", None,
     "post_now", "publishing.post", lambda w: w.post.pk, {}),
    ("workspace settings", Role.OWNER, "patch", lambda w: f"/api/workspaces/{w.workspace.pk}/",
     lambda w: {"timezone": "Asia/Tokyo"}, "settings_changed", "accounts.workspace", lambda w: w.workspace.pk,
     {"timezone": ["Europe/Berlin", "Asia/Tokyo"]}),
    ("change a role", Role.OWNER, "patch", lambda w: f"/api/memberships/{member(w).pk}/",
     lambda w: {"role": "editor"}, "role_changed", "accounts.membership", None, {"role": ["viewer", "editor"]}),
    ("remove a member", Role.OWNER, "delete", lambda w: f"/api/memberships/{member(w).pk}/", None,
     "member_removed", "accounts.membership", None, {"role": ["viewer", None]}),
    ("move a post", Role.EDITOR, "post", lambda w: f"/api/posts/{w.post.pk}/move/",
     lambda w: {"scheduled_at": future(4)}, "rescheduled", "publishing.post", lambda w: w.post.pk, {}),
    ("pause a queue", Role.EDITOR, "post", lambda w: f"/api/x-accounts/{w.account.pk}/pause/", None,
     "queue_paused", "publishing.xaccount", lambda w: w.account.pk, {"queue_paused": [False, True]}),
    ("comment on a clip", Role.REVIEWER, "post", lambda w: "/api/clip-notes/",
     lambda w: {"clip": w.approved.pk, "body": "Brighter, please"}, "commented", "generation.clipnote", None,
     {"body": [None, "Brighter, please"]}),
    ("invite", Role.OWNER, "post", lambda w: "/api/invitations/",
     lambda w: {"workspace": w.workspace.pk, "invitee": "newcomer@example.com", "role": "editor"},
     "invited", "accounts.invitation", None, {"role": [None, "editor"]}),
]


@pytest.mark.parametrize(
    ("name", "role", "method", "url", "body", "action", "object_type", "object_id", "changes"), API_ACTIONS,
    ids=[a[0] for a in API_ACTIONS],
)
def test_each_api_action_writes_exactly_one_event(mine, name, role, method, url, body, action, object_type,
                                                  object_id, changes):
    user = MembershipFactory(workspace=mine.workspace, role=role).user
    client = APIClient()
    client.force_authenticate(user)
    old_names = {"campaigns.campaign": mine.campaign.name, "campaigns.prompttemplate": mine.template.name,
                 "publishing.post": mine.post.caption}
    path = url(mine)
    start = last_id()

    response = getattr(client, method)(path, body(mine) if body else None, format="json")

    assert response.status_code in (200, 201, 204), response.content
    events = new_events(start)
    if name == "archive campaign":  # and, as on the dashboard, its scheduled post is cancelled: one event each
        cancelled = [e for e in events if e.object_type == "publishing.post"]
        assert [(e.action, e.object_id) for e in cancelled] == [("cancelled", str(mine.post.pk))]
        events = [e for e in events if e not in cancelled]
    [event] = events
    assert (event.action, event.object_type) == (action, object_type)
    expected_id = object_id(mine) if object_id else (response.json()["id"] if response.content else path.split("/")[-2])
    assert event.object_id == str(expected_id)
    assert (event.actor_id, event.actor_name, event.workspace_id) == (user.pk, user.username, mine.workspace.pk)
    for field, (before, after) in changes.items():
        before = old_names.get(object_type) if before == "<old>" else before
        assert event.changes[field] == [before, after], event.changes


def test_a_batch_of_clips_writes_one_created_event_per_clip(mine):
    start = last_id()

    response = api_as(mine, Role.EDITOR).post("/api/clips/batch/", {
        "prompt_template": mine.template.pk, "grid": {"colour": ["red", "blue"], "shape": ["square"]}}, format="json")

    assert response.status_code == 201, response.content
    created = {str(c["id"]) for c in response.json()["created"]}
    events = new_events(start)
    assert len(events) == len(created) == 2
    assert {e.object_id for e in events} == created
    assert {(e.action, e.object_type) for e in events} == {("created", "generation.clip")}
    assert all(e.changes["seed"][0] is None and "prompt" in e.changes for e in events)


def test_an_edit_that_changes_nothing_writes_no_event(mine):
    start = last_id()

    response = api_as(mine, Role.EDITOR).patch(f"/api/campaigns/{mine.campaign.pk}/", {"name": mine.campaign.name},
                                         format="json")

    assert response.status_code == 200
    assert new_events(start) == []


def test_a_refused_action_writes_no_event(mine):
    start = last_id()

    assert api_as(mine, Role.VIEWER).post(f"/api/posts/{mine.post.pk}/cancel/").status_code == 403
    assert api_as(mine, Role.EDITOR).post(f"/api/clips/{mine.approved.pk}/retry/").status_code == 400

    assert new_events(start) == []


# Dashboard forms: (name, role, url, form data, action, object type, changes that must be in the event)
DASHBOARD_ACTIONS = [
    ("create campaign", Role.EDITOR, lambda w: "/campaigns/new/",
     lambda w: {"name": "Winter", "status": "active", "timezone": "UTC", "frames": 16, "fps": 8, "width": 256,
                "height": 256, "output_width": 256, "output_height": 256, "steps": 20, "guidance": 7.5},
     "created", "campaigns.campaign", {"name": [None, "Winter"]}),
    ("add a slot", Role.EDITOR, lambda w: f"/campaigns/{w.campaign.pk}/slots/",
     lambda w: {"weekday": 3, "local_time": "08:15"}, "created", "campaigns.postingslot",
     {"local_time": [None, "08:15:00"]}),
    ("remove a slot", Role.EDITOR, lambda w: f"/slots/{slot(w).pk}/delete/", lambda w: {},
     "deleted", "campaigns.postingslot", {"weekday": [2, None]}),
    ("edit a caption template", Role.EDITOR, lambda w: f"/captions/{w.caption.pk}/edit/",
     lambda w: {"name": w.caption.name, "body": "Fresh words", "hashtags": ""}, "updated",
     "campaigns.captiontemplate", {"body": ["Look at this {colour} {shape}!", "Fresh words"]}),
    ("delete a prompt template", Role.EDITOR, lambda w: f"/prompts/{w.template.pk}/delete/", lambda w: {},
     "deleted", "campaigns.prompttemplate", {}),
    ("review a clip", Role.REVIEWER, lambda w: f"/clips/{w.pending.pk}/review/", lambda w: {"decision": "approve"},
     "approved", "generation.clip", {"review_status": ["pending", "approved"]}),
    ("cancel a post", Role.EDITOR, lambda w: f"/posts/{w.post.pk}/cancel/", lambda w: {},
     "cancelled", "publishing.post", {"status": ["scheduled", "cancelled"]}),
]


@pytest.mark.parametrize(("name", "role", "url", "data", "action", "object_type", "changes"), DASHBOARD_ACTIONS,
                         ids=[a[0] for a in DASHBOARD_ACTIONS])
def test_each_dashboard_action_writes_exactly_one_event(mine, login_as, name, role, url, data, action, object_type,
                                                        changes):
    client = login_as(role)
    path, form = url(mine), data(mine)
    start = last_id()

    response = client.post(path, form)

    assert response.status_code == 302, response.content[:2000]
    [event] = new_events(start)
    assert (event.action, event.object_type, event.actor_name) == (action, object_type, client.user.username)
    assert event.workspace_id == mine.workspace.pk
    for field, pair in changes.items():
        assert event.changes[field] == pair, event.changes


def test_archiving_a_campaign_in_the_dashboard_records_it_and_each_post_it_cancelled(mine, editor):
    start = last_id()

    assert editor.post(f"/campaigns/{mine.campaign.pk}/archive/").status_code == 302

    events = new_events(start)
    assert sorted((e.action, e.object_type, e.object_id) for e in events) == [
        ("archived", "campaigns.campaign", str(mine.campaign.pk)), ("cancelled", "publishing.post", str(mine.post.pk))]


def test_invitations_answered_are_recorded_as_the_invitee(mine):
    owner = MembershipFactory(workspace=mine.workspace, role=Role.OWNER).user
    joiner, decliner = UserFactory(), UserFactory()
    accepted, _ = account_services.invite(mine.workspace, joiner.username, Role.EDITOR, owner)
    declined, _ = account_services.invite(mine.workspace, decliner.username, Role.EDITOR, owner)
    start = last_id()

    membership = account_services.accept(accepted.pk, joiner)
    account_services.decline(declined.pk, decliner)

    joined, refused = new_events(start)
    assert (joined.action, joined.object_type, joined.object_id, joined.actor_name) == (
        "member_added", "accounts.membership", str(membership.pk), joiner.username)
    assert joined.changes["role"] == [None, "editor"]
    assert (refused.action, refused.object_id, refused.actor_name) == (
        "invitation_declined", str(declined.pk), decliner.username)


def test_revoking_an_invitation_in_the_dashboard_writes_one_event(mine, owner):
    invitation, _ = account_services.invite(mine.workspace, "someone@example.com", Role.VIEWER, owner.user)
    start = last_id()

    assert owner.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 302

    [event] = new_events(start)
    assert (event.action, event.object_id, event.actor_name) == ("invitation_revoked", str(invitation.pk),
                                                                 owner.user.username)
    assert Invitation.objects.get(pk=invitation.pk).status == "revoked"


def test_background_failures_are_recorded_as_the_system(mine):
    """The dispatcher fails a post it is too late for: no request, so no user."""
    mine.account.max_lateness = timedelta(minutes=5)
    mine.account.save()
    Post.objects.filter(pk=mine.post.pk).update(scheduled_at=timezone.now() - timedelta(hours=1))
    start = last_id()

    dispatch.claim_due_posts()

    [event] = new_events(start)
    assert (event.action, event.object_id, event.actor, event.actor_name) == ("failed", str(mine.post.pk), None,
                                                                              "system")
    assert event.changes["status"] == ["scheduled", "failed"]


# Rollbacks: the change and its event are one transaction.
ROLLED_BACK = [
    ("cancel post", lambda w, u: publishing_services.cancel_post(w.post),
     lambda w: Post.objects.get(pk=w.post.pk).status == PostStatus.SCHEDULED),
    ("schedule post", lambda w, u: publishing_services.schedule_post(w.approved, w.account, "hi", timezone.now()
                                                                     + timedelta(days=1)),
     lambda w: Post.objects.filter(clip=w.approved).count() == 1),
    ("review clip", lambda w, u: generation_services.review_clip(w.pending, u, approve=True),
     lambda w: w.pending.__class__.objects.get(pk=w.pending.pk).review_status == "pending"),
    ("cancel render", lambda w, u: generation_services.cancel_clip(w.queued),
     lambda w: w.queued.__class__.objects.get(pk=w.queued.pk).status == ClipStatus.QUEUED),
    ("archive campaign", lambda w, u: publishing_services.archive_campaign(w.campaign),
     lambda w: w.campaign.__class__.objects.get(pk=w.campaign.pk).status == CampaignStatus.DRAFT),
    ("invite", lambda w, u: account_services.invite(w.workspace, "x@example.com", Role.VIEWER, u),
     lambda w: not Invitation.objects.filter(workspace=w.workspace).exists()),
]


class Boom(Exception):
    pass


@pytest.mark.parametrize(("name", "act", "unchanged"), ROLLED_BACK, ids=[r[0] for r in ROLLED_BACK])
def test_a_rolled_back_change_leaves_no_event(mine, name, act, unchanged):
    user = MembershipFactory(workspace=mine.workspace, role=Role.OWNER).user
    start = last_id()

    with pytest.raises(Boom), transaction.atomic():
        act(mine, user)
        assert len(new_events(start)) >= 1, "the action records inside the transaction"
        raise Boom

    assert new_events(start) == []
    assert unchanged(mine)



def test_a_render_that_fails_on_the_worker_is_recorded_as_the_system(mine):
    from generation.rendering import run_render

    clip = mine.queued
    clip.__class__.objects.filter(pk=clip.pk).update(render_params={"frames": -3})
    start = last_id()

    assert run_render(clip.pk) == ClipStatus.FAILED

    [event] = new_events(start)
    assert (event.action, event.object_id, event.actor_name) == ("failed", str(clip.pk), "system")
    assert event.changes["status"] == ["rendering", "failed"] and "Frames must be" in event.changes["error"][1]


def test_the_reaper_records_each_render_it_gives_up_on(mine):
    clip = mine.rendering
    clip.__class__.objects.filter(pk=clip.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1), attempts=3)
    start = last_id()

    assert generation_services.reap_stuck_clips(timedelta(minutes=5))["failed"] == 1

    [event] = new_events(start)
    assert (event.action, event.object_id, event.actor_name) == ("failed", str(clip.pk), "system")


def test_changes_made_in_the_admin_are_recorded_once_as_the_admin(mine, client, superuser):
    client.force_login(superuser)
    membership = member(mine)
    doomed = slot(mine)
    start = last_id()

    changed = client.post(f"/admin/accounts/membership/{membership.pk}/change/", {
        "user": membership.user_id, "workspace": mine.workspace.pk, "role": "reviewer"})
    deleted = client.post(f"/admin/campaigns/postingslot/{doomed.pk}/delete/", {"post": "yes"})

    assert changed.status_code == deleted.status_code == 302
    role, removed = new_events(start)
    assert (role.action, role.object_id, role.actor_name, role.changes) == (
        "updated", str(membership.pk), superuser.username, {"role": ["viewer", "reviewer"]})
    assert (removed.action, removed.object_type, removed.object_id) == ("deleted", "campaigns.postingslot",
                                                                        str(doomed.pk))


def test_inviting_again_is_one_event_naming_the_invitation_it_replaces(mine, owner):
    first, _ = account_services.invite(mine.workspace, "again@example.com", Role.VIEWER, owner.user)
    start = last_id()

    assert owner.post("/members/", {"invitee": "again@example.com", "role": "editor"}).status_code == 302

    [event] = new_events(start)
    assert (event.action, event.actor_name) == ("invited", owner.user.username)
    assert event.changes["replaces_invitations"] == [None, [first.pk]]
    assert event.changes["role"] == [None, "editor"]


def test_rendering_a_clip_again_records_the_new_copy_once(mine):
    start = last_id()

    copy = generation_services.rerender_clip(mine.approved)

    [event] = new_events(start)
    assert (event.action, event.object_type, event.object_id) == ("created", "generation.clip", str(copy.pk))
    assert event.changes["rerender_of"] == [None, mine.approved.pk]


def test_retrying_a_failed_post_writes_one_event(mine):
    Post.objects.filter(pk=mine.post.pk).update(status=PostStatus.FAILED, last_error="X was down")
    mine.post.refresh_from_db()
    start = last_id()

    assert publishing_services.retry_post(mine.post)

    [event] = new_events(start)
    assert (event.action, event.object_id, event.changes["status"]) == ("retried", str(mine.post.pk),
                                                                        ["failed", "scheduled"])
