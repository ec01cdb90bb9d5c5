"""The permission matrix for changes: viewer none, reviewer reviews, editor creates/generates/schedules, owner all."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ROLE_RANK, Invitation, Role
from generation.models import Clip
from tests.worlds import add_experiment

pytestmark = pytest.mark.django_db


def pending_invitation(w) -> Invitation:
    return Invitation.objects.create(workspace=w.workspace, invitee="someone", role=Role.VIEWER,
                                     token_hash=uuid.uuid4().hex * 2, expires_at=timezone.now() + timedelta(days=1))


def actions(w) -> list[tuple[str, dict, Role]]:
    """(url, POST data, least role allowed)."""
    return [
        (reverse("dashboard:clip_review", args=[w.pending.pk]), {"decision": "approve"}, Role.REVIEWER),
        (reverse("dashboard:campaign_create"), {"name": ""}, Role.EDITOR),
        (reverse("dashboard:campaign_edit", args=[w.campaign.pk]), {"name": ""}, Role.EDITOR),
        (reverse("dashboard:campaign_archive", args=[w.campaign.pk]), {}, Role.EDITOR),
        (reverse("dashboard:slot_add", args=[w.campaign.pk]), {"weekday": 1, "local_time": "10:00"}, Role.EDITOR),
        (reverse("dashboard:prompt_create", args=[w.campaign.pk]), {"name": ""}, Role.EDITOR),
        (reverse("dashboard:caption_edit", args=[w.caption.pk]), {"name": ""}, Role.EDITOR),
        (reverse("dashboard:template_preview", args=[w.campaign.pk]), {"body": "x"}, Role.EDITOR),
        (reverse("dashboard:generate", args=[w.campaign.pk]), {"action": "count"}, Role.EDITOR),
        (reverse("dashboard:generate_count", args=[w.campaign.pk]), {}, Role.EDITOR),
        (reverse("dashboard:clip_retry", args=[w.failed.pk]), {}, Role.EDITOR),
        (reverse("dashboard:clip_cancel", args=[w.queued.pk]), {}, Role.EDITOR),
        (reverse("dashboard:schedule", args=[w.approved.pk]), {"caption": ""}, Role.EDITOR),
        (reverse("dashboard:post_reschedule", args=[w.post.pk]), {"when": ""}, Role.EDITOR),
        (reverse("dashboard:post_cancel", args=[w.post.pk]), {}, Role.EDITOR),
        (reverse("dashboard:caption_counter"), {"caption": "x"}, Role.EDITOR),
        (reverse("dashboard:account_add"), {"handle": ""}, Role.OWNER),
        (reverse("dashboard:account_tokens", args=[w.account.pk]), {}, Role.OWNER),
        (reverse("dashboard:members"), {"invitee": ""}, Role.OWNER),
        (reverse("dashboard:invitation_revoke", args=[pending_invitation(w).pk]), {}, Role.OWNER),
        (reverse("dashboard:clip_comment", args=[w.pending.pk]), {"body": "Too dark at 0:01."}, Role.REVIEWER),
        (reverse("dashboard:notification_read_all"), {}, Role.VIEWER),
        (reverse("dashboard:experiment_create", args=[w.campaign.pk]), {"name": ""}, Role.EDITOR),
        (reverse("dashboard:experiment_fill", args=[add_experiment(w).pk]), {"count": "1"}, Role.EDITOR),
        (reverse("dashboard:experiment_decide", args=[w.template.experiments.get().pk]), {}, Role.EDITOR),
        (reverse("dashboard:experiment_stop", args=[w.template.experiments.get().pk]), {}, Role.EDITOR),
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER, Role.EDITOR], ids=lambda r: r.value)
def test_roles_below_the_needed_one_get_403_and_change_nothing(
    login_as, mine, role, django_capture_on_commit_callbacks
):
    client = login_as(role)
    with django_capture_on_commit_callbacks(execute=False):
        for url, data, needed in actions(mine):
            response = client.post(url, data)
            if ROLE_RANK[role] < ROLE_RANK[needed]:
                assert response.status_code == 403, (role, url)
            else:
                # 400: a form sent back with its errors (the empty experiment form)
                assert response.status_code in (200, 302, 400), (role, url, response.status_code)
    if role == Role.VIEWER:
        mine.campaign.refresh_from_db()
        assert mine.campaign.status != "archived"
        assert Clip.objects.get(pk=mine.failed.pk).status == "failed"
    if ROLE_RANK[role] < ROLE_RANK[Role.EDITOR]:
        experiment = mine.template.experiments.get()
        assert experiment.status == "running" and not experiment.posts.exists()
    if role == Role.VIEWER:
        assert not mine.pending.notes.exists()


def test_the_new_writes_are_404_for_another_workspaces_objects(login_as, mine, theirs):
    from accounts.models import Notification
    from tests.worlds import add_comment

    client = login_as(Role.OWNER)
    experiment = add_experiment(theirs)
    add_comment(theirs)
    for url, data in [
        (reverse("dashboard:clip_comment", args=[theirs.approved.pk]), {"body": "hi"}),
        (reverse("dashboard:experiment_create", args=[theirs.campaign.pk]), {"name": "x"}),
        (reverse("dashboard:experiment_fill", args=[experiment.pk]), {"count": "1"}),
        (reverse("dashboard:experiment_decide", args=[experiment.pk]), {}),
        (reverse("dashboard:experiment_stop", args=[experiment.pk]), {}),
        *[(reverse("dashboard:notification_open", args=[n.pk]), {}) for n in Notification.objects.all()],
    ]:
        response = client.post(url, data)
        assert response.status_code == 404, (url, response.status_code)
        assert theirs.template.name not in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "running" and not experiment.posts.exists()
    assert theirs.approved.notes.count() == 1
    assert not Notification.objects.exclude(read_at=None).exists()


def test_anonymous_posts_to_the_new_writes_go_to_the_login_page(client, mine):
    experiment = add_experiment(mine)
    for url in [
        reverse("dashboard:clip_comment", args=[mine.approved.pk]), reverse("dashboard:notification_read_all"),
        reverse("dashboard:experiment_create", args=[mine.campaign.pk]),
        reverse("dashboard:experiment_fill", args=[experiment.pk]),
        reverse("dashboard:experiment_stop", args=[experiment.pk]),
    ]:
        response = client.post(url, {"body": "hi", "count": "1"})
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    experiment.refresh_from_db()
    assert experiment.status == "running" and not mine.approved.notes.exists()


def test_a_reviewer_can_approve_but_not_generate_or_schedule(reviewer, mine):
    review = reverse("dashboard:clip_review", args=[mine.pending.pk])
    assert reviewer.post(review, {"decision": "approve"}).status_code == 302
    assert reviewer.get(reverse("dashboard:generate", args=[mine.campaign.pk])).status_code == 403
    assert reviewer.post(reverse("dashboard:generate", args=[mine.campaign.pk]), {}).status_code == 403
    assert reviewer.get(reverse("dashboard:schedule", args=[mine.approved.pk])).status_code == 403


def test_a_viewer_cannot_approve(viewer, mine):
    review = reverse("dashboard:clip_review", args=[mine.pending.pk])
    assert viewer.post(review, {"decision": "approve"}).status_code == 403
    mine.pending.refresh_from_db()
    assert mine.pending.review_status == "pending"
