"""Approvals as a conversation: comments by reviewers and up, editors and participants notified (dashboard and
email), approvals and rejections in the clip's history; by role, with bad input refused; other workspaces see
nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Notification, Role
from generation import conversation, services
from generation.models import ClipNote, NoteKind
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client_as():
    def client(world, role: Role) -> APIClient:
        api = APIClient()
        api.force_authenticate(MembershipFactory(workspace=world.workspace, role=role).user)
        return api

    return client


def member(world, role: Role, email: str = ""):
    return MembershipFactory(workspace=world.workspace, role=role, user__email=email).user


def test_a_comment_notifies_editors_owners_and_participants_but_not_its_author(
        mine, theirs, django_capture_on_commit_callbacks):
    reviewer = member(mine, Role.REVIEWER)
    editor = member(mine, Role.EDITOR, "editor@example.com")
    owner = member(mine, Role.OWNER, "owner@example.com")
    viewer = member(mine, Role.VIEWER, "viewer@example.com")
    outsider = member(theirs, Role.OWNER, "outsider@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        conversation.comment_on(mine.approved, reviewer, "  The circle is too small: try a bigger one.  ")

    note = ClipNote.objects.get()
    assert (note.author, note.kind, note.body) == (reviewer, NoteKind.COMMENT,
                                                   "The circle is too small: try a bigger one.")
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {editor.username, owner.username}
    assert not Notification.objects.filter(user__in=[reviewer, viewer, outsider]).exists()
    assert f"/clips/{mine.approved.pk}/" == Notification.objects.first().url
    assert len(mail.outbox) == 1 and sorted(mail.outbox[0].to) == ["editor@example.com", "owner@example.com"]
    assert "The circle is too small" in mail.outbox[0].body and f"/clips/{mine.approved.pk}/" in mail.outbox[0].body

    # The editor answers: the reviewer, now a participant, is told; the editor is not told of their own words.
    with django_capture_on_commit_callbacks(execute=True):
        conversation.comment_on(mine.approved, editor, "Done in the next batch.")
    assert Notification.objects.filter(user=reviewer).count() == 1
    assert Notification.objects.filter(user=editor).count() == 1


def test_approvals_and_rejections_join_the_clips_history_in_order(mine):
    reviewer = member(mine, Role.REVIEWER)
    services.review_clip(mine.pending, reviewer, approve=False)
    services.review_clip(mine.pending, reviewer, approve=True)
    assert list(mine.pending.notes.values_list("kind", flat=True)) == [NoteKind.REJECTED, NoteKind.APPROVED]


@pytest.mark.parametrize("body, message", [
    ("", "Write a comment first."),
    ("   \n ", "Write a comment first."),
    ("x" * 2001, "at most 2,000 characters"),
    ("bad\x00byte", "Null characters are not allowed"),
])
def test_bad_comments_are_refused_in_the_dashboard_and_the_api(login_as, api_client_as, mine, body, message):
    client = login_as(Role.REVIEWER)
    response = client.post(reverse("dashboard:clip_comment", args=[mine.approved.pk]), {"body": body})
    assert response.status_code == 400 and message in response.content.decode()
    answer = api_client_as(mine, Role.REVIEWER).post("/api/clip-notes/", {"clip": mine.approved.pk, "body": body},
                                                     format="json")
    assert answer.status_code == 400 and (message in answer.content.decode() or not body.strip())
    assert not ClipNote.objects.exists() and not Notification.objects.exists()


def test_a_reviewer_comments_in_the_dashboard_and_the_editor_opens_the_notification(login_as, mine):
    editor = member(mine, Role.EDITOR)
    reviewer_client = login_as(Role.REVIEWER)
    page = reviewer_client.post(reverse("dashboard:clip_comment", args=[mine.approved.pk]),
                                {"body": "Looks great, approving."}, follow=True)
    assert "Looks great, approving." in page.content.decode()

    editor_client = Client()
    editor_client.force_login(editor)
    home = editor_client.get(reverse("dashboard:campaigns")).content.decode()
    assert 'id="unread-count"' in home and "1 unread" in home
    listing = editor_client.get(reverse("dashboard:notifications")).content.decode()
    assert "commented on clip" in listing and "Looks great, approving." in listing
    notification = Notification.objects.get(user=editor)
    opened = editor_client.post(reverse("dashboard:notification_open", args=[notification.pk]))
    assert opened.status_code == 302 and opened["Location"] == f"/clips/{mine.approved.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'id="unread-count"' not in editor_client.get(reverse("dashboard:campaigns")).content.decode()


def test_viewers_cannot_comment_and_other_workspaces_see_nothing(login_as, api_client_as, mine, theirs):
    viewer = login_as(Role.VIEWER)
    assert viewer.post(reverse("dashboard:clip_comment", args=[mine.approved.pk]), {"body": "hi"}).status_code == 403
    assert api_client_as(mine, Role.VIEWER).post(
        "/api/clip-notes/", {"clip": mine.approved.pk, "body": "hi"}, format="json").status_code == 403
    owner = login_as(Role.OWNER)
    assert owner.post(reverse("dashboard:clip_comment", args=[theirs.approved.pk]), {"body": "hi"}).status_code == 404
    api = api_client_as(mine, Role.OWNER)
    refused = api.post("/api/clip-notes/", {"clip": theirs.approved.pk, "body": "hi"}, format="json")
    assert refused.status_code == 400 and "does not exist" in refused.content.decode()
    assert not ClipNote.objects.exists()

    their_owner = member(theirs, Role.OWNER)
    conversation.comment_on(theirs.approved, member(theirs, Role.REVIEWER), "their secret plans")
    assert api.get("/api/clip-notes/").json()["results"] == []
    their_note = ClipNote.objects.get()
    assert api.get(f"/api/clip-notes/{their_note.pk}/").status_code == 404
    assert api.get("/api/notifications/").json()["results"] == []
    theirs_notification = Notification.objects.get(user=their_owner)
    assert api.post(f"/api/notifications/{theirs_notification.pk}/read/").status_code == 404
    assert owner.post(reverse("dashboard:notification_open", args=[theirs_notification.pk])).status_code == 404
    theirs_notification.refresh_from_db()
    assert theirs_notification.read_at is None


def test_the_api_lists_a_clips_conversation_and_marks_notifications_read(mine, api_client_as):
    reviewer_api = api_client_as(mine, Role.REVIEWER)
    created = reviewer_api.post("/api/clip-notes/", {"clip": mine.approved.pk, "body": "Brighter red?"},
                                format="json")
    assert created.status_code == 201 and created.json()["kind"] == "comment"
    reviewer_api.post(f"/api/clips/{mine.pending.pk}/approve/")
    notes = reviewer_api.get(f"/api/clip-notes/?clip={mine.pending.pk}").json()["results"]
    assert [n["kind"] for n in notes] == ["approved"]

    editor = member(mine, Role.EDITOR)
    editor_api = APIClient()
    editor_api.force_authenticate(editor)
    assert editor_api.get("/api/notifications/?unread=1").json()["count"] == 0, "joined after the comment"
    reviewer_api.post("/api/clip-notes/", {"clip": mine.approved.pk, "body": "And faster?"}, format="json")
    unread = editor_api.get("/api/notifications/?unread=1").json()
    assert unread["count"] == 1 and "And faster?" in unread["results"][0]["message"]
    assert editor_api.post("/api/notifications/read-all/").json() == {"marked": 1}
    assert editor_api.get("/api/notifications/?unread=1").json()["count"] == 0
