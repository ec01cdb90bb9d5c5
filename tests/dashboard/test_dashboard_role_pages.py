"""Every page renders for the roles allowed to see it, and says what role is needed to the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import ROLE_RANK, Role
from tests.worlds import add_comment, add_experiment

pytestmark = pytest.mark.django_db

ROLES = [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER]


def pages(w) -> list[tuple[str, Role]]:
    """(url, the least role that may GET it)."""
    return [
        (reverse("dashboard:home"), Role.VIEWER),
        (reverse("dashboard:campaigns") + "?status=archived", Role.VIEWER),
        (reverse("dashboard:campaign", args=[w.campaign.pk]), Role.VIEWER),
        (reverse("dashboard:clips") + f"?campaign={w.campaign.pk}&status=succeeded&review=approved", Role.VIEWER),
        (reverse("dashboard:clip", args=[w.approved.pk]), Role.VIEWER),
        (reverse("dashboard:clip", args=[w.rendering.pk]), Role.VIEWER),
        (reverse("dashboard:posts"), Role.VIEWER),
        (reverse("dashboard:post", args=[w.post.pk]), Role.VIEWER),
        (reverse("dashboard:calendar"), Role.VIEWER),
        (reverse("dashboard:calendar") + f"?view=month&campaign={w.campaign.pk}", Role.VIEWER),
        (reverse("dashboard:accounts"), Role.VIEWER),
        (reverse("dashboard:members"), Role.VIEWER),
        (reverse("dashboard:my_invitations"), Role.VIEWER),
        (reverse("dashboard:campaign_create"), Role.EDITOR),
        (reverse("dashboard:campaign_edit", args=[w.campaign.pk]), Role.EDITOR),
        (reverse("dashboard:prompt_create", args=[w.campaign.pk]), Role.EDITOR),
        (reverse("dashboard:prompt_edit", args=[w.template.pk]), Role.EDITOR),
        (reverse("dashboard:caption_create", args=[w.campaign.pk]), Role.EDITOR),
        (reverse("dashboard:caption_edit", args=[w.caption.pk]), Role.EDITOR),
        (reverse("dashboard:generate", args=[w.campaign.pk]), Role.EDITOR),
        (reverse("dashboard:schedule", args=[w.approved.pk]), Role.EDITOR),
        (reverse("dashboard:account_add"), Role.OWNER),
        (reverse("dashboard:account_tokens", args=[w.account.pk]), Role.OWNER),
        (reverse("dashboard:x_connect"), Role.OWNER),
        (reverse("dashboard:audit_log") + "?object_type=campaigns.campaign&page=2", Role.VIEWER),
        (reverse("dashboard:notifications"), Role.VIEWER),
        (reverse("dashboard:experiments"), Role.VIEWER),
        (reverse("dashboard:experiment", args=[add_experiment(w).pk]), Role.VIEWER),
        (reverse("dashboard:clip", args=[add_comment(w).clip_id]), Role.VIEWER),
        (reverse("dashboard:experiment_create", args=[w.campaign.pk]), Role.EDITOR),
        (reverse("dashboard:account_best_times", args=[w.account.pk]) + "?tz=Asia/Tokyo", Role.VIEWER),
        (reverse("dashboard:usage"), Role.VIEWER),
    ]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_each_page_renders_for_allowed_roles_and_is_403_for_lower_ones(login_as, mine, role):
    client = login_as(role)
    for url, needed in pages(mine):
        response = client.get(url)
        expected = 200 if ROLE_RANK[role] >= ROLE_RANK[needed] else 403
        assert response.status_code == expected, (role, url, response.status_code)
        if expected == 403:
            assert f"needs the {needed.label.lower()} role" in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client, mine):
    for url, _ in pages(mine):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_buttons_follow_the_role(login_as, mine):
    gallery = reverse("dashboard:clips")
    viewer_page = login_as(Role.VIEWER).get(gallery).content.decode()
    assert 'id="approve-clip-' not in viewer_page and 'id="retry-clip-' not in viewer_page
    assert 'id="schedule-clip-' not in viewer_page and 'id="cancel-clip-' not in viewer_page
    reviewer_page = login_as(Role.REVIEWER).get(gallery).content.decode()
    assert f'id="approve-clip-{mine.pending.pk}"' in reviewer_page
    assert f'id="retry-clip-{mine.failed.pk}"' not in reviewer_page
    editor_page = login_as(Role.EDITOR).get(gallery).content.decode()
    assert f'id="retry-clip-{mine.failed.pk}"' in editor_page
    assert f'id="cancel-clip-{mine.queued.pk}"' in editor_page
    assert f'id="schedule-clip-{mine.approved.pk}"' in editor_page


def test_the_navigation_marks_the_section_of_the_page(viewer, mine):
    for url, section in [
        (reverse("dashboard:home"), "Campaigns"),
        (reverse("dashboard:campaign", args=[mine.campaign.pk]), "Campaigns"),
        (reverse("dashboard:clip", args=[mine.approved.pk]), "Clips"),
        (reverse("dashboard:post", args=[mine.post.pk]), "Posts"),
        (reverse("dashboard:accounts"), "Accounts"),
        (reverse("dashboard:account_best_times", args=[mine.account.pk]), "Accounts"),
        (reverse("dashboard:experiments"), "Experiments"),
        (reverse("dashboard:experiment", args=[add_experiment(mine).pk]), "Experiments"),
        (reverse("dashboard:audit_log"), "Audit log"),
        (reverse("dashboard:usage"), "Usage"),
    ]:
        body = viewer.get(url).content.decode()
        assert f'aria-current="page">{section}</a>' in body, url
        assert body.count('aria-current="page"') == 1, url
    notifications = viewer.get(reverse("dashboard:notifications")).content.decode()
    assert 'id="notifications-link" aria-current="page">Notifications' in notifications
    assert notifications.count('aria-current="page"') == 1


def test_the_new_buttons_follow_the_role(login_as, mine):
    experiment_page = reverse("dashboard:experiment", args=[add_experiment(mine).pk])
    clip_page = reverse("dashboard:clip", args=[mine.approved.pk])
    campaign_page = reverse("dashboard:campaign", args=[mine.campaign.pk])
    controls = ['id="comment-form"', 'id="decide-now"', 'id="stop-experiment"', 'id="fill-form"', 'id="new-experiment"']
    for role, shown in [(Role.VIEWER, set()), (Role.REVIEWER, {'id="comment-form"'}), (Role.EDITOR, set(controls))]:
        client = login_as(role)
        page = client.get(experiment_page).content.decode() + client.get(clip_page).content.decode() \
            + client.get(campaign_page).content.decode()
        assert {c for c in controls if c in page} == shown, role
