"""The permission matrix for changes: viewer none, reviewer reviews, editor creates/generates/schedules, owner all."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ROLE_RANK, Invitation, Role
from generation.models import Clip

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
                assert response.status_code in (200, 302), (role, url, response.status_code)
    if role == Role.VIEWER:
        mine.campaign.refresh_from_db()
        assert mine.campaign.status != "archived"
        assert Clip.objects.get(pk=mine.failed.pk).status == "failed"


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
