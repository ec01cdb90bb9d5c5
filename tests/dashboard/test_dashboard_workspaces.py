"""Workspace switcher and isolation: only the current workspace's data, other workspaces' ids answer 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from dashboard.workspace import SESSION_KEY
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def object_routes(w) -> list[tuple[str, str]]:
    return [
        ("get", reverse("dashboard:campaign", args=[w.campaign.pk])),
        ("get", reverse("dashboard:campaign_edit", args=[w.campaign.pk])),
        ("post", reverse("dashboard:campaign_edit", args=[w.campaign.pk])),
        ("post", reverse("dashboard:campaign_archive", args=[w.campaign.pk])),
        ("post", reverse("dashboard:slot_add", args=[w.campaign.pk])),
        ("get", reverse("dashboard:prompt_create", args=[w.campaign.pk])),
        ("get", reverse("dashboard:prompt_edit", args=[w.template.pk])),
        ("post", reverse("dashboard:prompt_edit", args=[w.template.pk])),
        ("get", reverse("dashboard:caption_edit", args=[w.caption.pk])),
        ("post", reverse("dashboard:template_preview", args=[w.campaign.pk])),
        ("get", reverse("dashboard:generate", args=[w.campaign.pk])),
        ("post", reverse("dashboard:generate", args=[w.campaign.pk])),
        ("post", reverse("dashboard:generate_count", args=[w.campaign.pk])),
        ("get", reverse("dashboard:clip", args=[w.approved.pk])),
        ("post", reverse("dashboard:clip_retry", args=[w.failed.pk])),
        ("post", reverse("dashboard:clip_cancel", args=[w.queued.pk])),
        ("post", reverse("dashboard:clip_review", args=[w.pending.pk])),
        ("get", reverse("dashboard:schedule", args=[w.approved.pk])),
        ("post", reverse("dashboard:schedule", args=[w.approved.pk])),
        ("get", reverse("dashboard:post", args=[w.post.pk])),
        ("post", reverse("dashboard:post_reschedule", args=[w.post.pk])),
        ("post", reverse("dashboard:post_cancel", args=[w.post.pk])),
        ("get", reverse("dashboard:calendar") + f"?campaign={w.campaign.pk}"),
        ("get", reverse("dashboard:account_tokens", args=[w.account.pk])),
        ("post", reverse("dashboard:account_tokens", args=[w.account.pk])),
    ]


def test_every_object_of_another_workspace_is_404_even_for_an_owner(owner, theirs):
    for method, url in object_routes(theirs):
        data = {"decision": "approve", "action": "generate"} if method == "post" else None
        response = getattr(owner, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    theirs.post.refresh_from_db()
    theirs.pending.refresh_from_db()
    assert theirs.post.status == "scheduled" and theirs.pending.review_status == "pending"


def test_lists_show_only_the_current_workspace(owner, mine, theirs):
    for name in ("campaigns", "clips", "posts", "accounts", "calendar"):
        body = owner.get(reverse(f"dashboard:{name}")).content.decode()
        assert theirs.campaign.name not in body, name
        assert f"@{theirs.account.handle}" not in body, name
    assert mine.campaign.name in owner.get(reverse("dashboard:campaigns")).content.decode()
    assert f"@{mine.account.handle}" in owner.get(reverse("dashboard:accounts")).content.decode()


def test_progress_polling_ignores_other_workspaces_clips(owner, mine, theirs):
    url = reverse("dashboard:clip_progress") + f"?ids={theirs.rendering.pk}&ids={mine.rendering.pk}"
    body = owner.get(url).content.decode()
    assert f'id="clip-{mine.rendering.pk}"' in body
    assert f'id="clip-{theirs.rendering.pk}"' not in body


def test_the_switcher_changes_the_current_workspace_and_remembers_it(owner, mine, theirs):
    MembershipFactory(user=owner.user, workspace=theirs.workspace, role=Role.VIEWER)
    home = owner.get(reverse("dashboard:home")).content.decode()
    assert 'id="workspace-switcher"' in home and theirs.workspace.name in home
    response = owner.post(reverse("dashboard:switch_workspace"), {"workspace": theirs.workspace.pk})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    assert owner.session[SESSION_KEY] == theirs.workspace.pk
    body = owner.get(reverse("dashboard:campaigns")).content.decode()
    assert theirs.campaign.name in body and mine.campaign.name not in body
    # The role follows the workspace: a viewer there cannot edit, though an owner here.
    assert owner.get(reverse("dashboard:campaign_edit", args=[theirs.campaign.pk])).status_code == 403
    assert owner.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).status_code == 404


def test_switching_to_a_workspace_you_are_not_a_member_of_is_404(owner, mine, theirs):
    owner.get(reverse("dashboard:home"))
    response = owner.post(reverse("dashboard:switch_workspace"), {"workspace": theirs.workspace.pk})
    assert response.status_code == 404
    assert owner.post(reverse("dashboard:switch_workspace"), {"workspace": "nope"}).status_code == 404
    assert owner.session[SESSION_KEY] == mine.workspace.pk


def test_a_session_pointing_at_a_workspace_you_left_falls_back_to_one_you_are_in(owner, mine, theirs):
    session = owner.session
    session[SESSION_KEY] = theirs.workspace.pk
    session.save()
    body = owner.get(reverse("dashboard:campaigns")).content.decode()
    assert mine.campaign.name in body and theirs.campaign.name not in body


def test_a_user_without_a_workspace_is_told_to_ask_for_an_invite(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert "not a member of any workspace" in response.content.decode()
