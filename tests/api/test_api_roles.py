"""Each role against each endpoint: allowed below the line, 403 above it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ROLE_RANK, Role
from tests.worlds import add_experiment

ROLES = [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER]


def future() -> str:
    return (timezone.now() + timedelta(hours=3)).isoformat()


# (name, method, path(world), payload(world), minimum role, success status)
CASES = [
    ("list workspaces", "get", lambda w: "/api/workspaces/", None, Role.VIEWER, 200),
    ("update workspace", "patch", lambda w: f"/api/workspaces/{w.workspace.pk}/", lambda w: {"name": "N"},
     Role.OWNER, 200),
    ("invite member", "post", lambda w: "/api/invitations/",
     lambda w: {"workspace": w.workspace.pk, "invitee": "someone", "role": "viewer"}, Role.OWNER, 201),
    ("list campaigns", "get", lambda w: "/api/campaigns/", None, Role.VIEWER, 200),
    ("create campaign", "post", lambda w: "/api/campaigns/", lambda w: {"workspace": w.workspace.pk, "name": "New"},
     Role.EDITOR, 201),
    ("edit campaign", "patch", lambda w: f"/api/campaigns/{w.campaign.pk}/", lambda w: {"name": "Renamed"},
     Role.EDITOR, 200),
    ("archive campaign", "delete", lambda w: f"/api/campaigns/{w.campaign.pk}/", None, Role.EDITOR, 204),
    ("read template", "get", lambda w: f"/api/prompt-templates/{w.template.pk}/", None, Role.VIEWER, 200),
    ("preview template", "post", lambda w: f"/api/prompt-templates/{w.template.pk}/preview/",
     lambda w: {"values": {"colour": "red", "shape": "circle"}}, Role.VIEWER, 200),
    ("create template", "post", lambda w: "/api/prompt-templates/",
     lambda w: {"campaign": w.campaign.pk, "name": "T", "body": "a {x}", "variables": {"x": ["y"]}}, Role.EDITOR, 201),
    ("create caption", "post", lambda w: "/api/caption-templates/",
     lambda w: {"campaign": w.campaign.pk, "body": "hello"}, Role.EDITOR, 201),
    ("create slot", "post", lambda w: "/api/posting-slots/",
     lambda w: {"campaign": w.campaign.pk, "weekday": 1, "local_time": "09:30"}, Role.EDITOR, 201),
    ("list clips", "get", lambda w: "/api/clips/", None, Role.VIEWER, 200),
    ("batch clips", "post", lambda w: "/api/clips/batch/",
     lambda w: {"prompt_template": w.template.pk, "grid": {"colour": ["red"], "shape": ["square"]}}, Role.EDITOR, 201),
    ("cancel clip", "post", lambda w: f"/api/clips/{w.queued.pk}/cancel/", None, Role.EDITOR, 200),
    ("approve clip", "post", lambda w: f"/api/clips/{w.approved.pk}/approve/", None, Role.REVIEWER, 200),
    ("reject clip", "post", lambda w: f"/api/clips/{w.approved.pk}/reject/", None, Role.REVIEWER, 200),
    ("list accounts", "get", lambda w: "/api/x-accounts/", None, Role.VIEWER, 200),
    ("list posts", "get", lambda w: "/api/posts/", None, Role.VIEWER, 200),
    ("schedule post", "post", lambda w: "/api/posts/",
     lambda w: {"clip": w.approved.pk, "x_account": w.account.pk, "caption": "go", "scheduled_at": future()},
     Role.EDITOR, 201),
    ("move post", "patch", lambda w: f"/api/posts/{w.post.pk}/", lambda w: {"scheduled_at": future()},
     Role.EDITOR, 200),
    ("cancel post", "post", lambda w: f"/api/posts/{w.post.pk}/cancel/", None, Role.EDITOR, 200),
    ("post now", "post", lambda w: f"/api/posts/{w.post.pk}/post-now/", None, Role.EDITOR, 200),
    ("campaign metrics", "get", lambda w: f"/api/metrics/{w.campaign.pk}/", None, Role.VIEWER, 200),
    ("list audit events", "get", lambda w: f"/api/audit-events/?workspace={w.workspace.pk}", None, Role.VIEWER, 200),
    ("list notifications", "get", lambda w: "/api/notifications/?unread=1", None, Role.VIEWER, 200),
    ("read all notifications", "post", lambda w: "/api/notifications/read-all/", None, Role.VIEWER, 200),
    ("list clip notes", "get", lambda w: f"/api/clip-notes/?clip={w.approved.pk}", None, Role.VIEWER, 200),
    ("comment on clip", "post", lambda w: "/api/clip-notes/", lambda w: {"clip": w.pending.pk, "body": "Too dark."},
     Role.REVIEWER, 201),
    ("list experiments", "get", lambda w: "/api/experiments/", None, Role.VIEWER, 200),
    ("start experiment", "post", lambda w: "/api/experiments/",
     lambda w: {"prompt_template": add_experiment(w).prompt_template_id, "x_account": w.account.pk,
                "name": "Second"}, Role.EDITOR, 400),  # the template's experiment runs: the role is checked first
    ("read experiment", "get", lambda w: f"/api/experiments/{add_experiment(w).pk}/", None, Role.VIEWER, 200),
    ("fill experiment", "post", lambda w: f"/api/experiments/{add_experiment(w).pk}/fill/", lambda w: {"count": 2},
     Role.EDITOR, 201),
    ("decide experiment", "post", lambda w: f"/api/experiments/{add_experiment(w).pk}/decide/", None,
     Role.EDITOR, 400),  # no metrics yet: the role is checked first
    ("stop experiment", "post", lambda w: f"/api/experiments/{add_experiment(w).pk}/stop/", None, Role.EDITOR, 200),
    ("best times", "get", lambda w: f"/api/best-times/{w.account.pk}/?tz=Asia/Tokyo", None, Role.VIEWER, 200),
    ("render usage", "get", lambda w: f"/api/render-usage/{w.workspace.pk}/", None, Role.VIEWER, 200),
    ("schedule a queued clip", "post", lambda w: "/api/posts/",
     lambda w: {"clip": w.queued.pk, "x_account": w.account.pk, "caption": "soon", "scheduled_at": future()},
     Role.EDITOR, 201),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(("name", "method", "path", "payload", "minimum", "success"), CASES, ids=[c[0] for c in CASES])
def test_role_matrix(api_as, mine, role, name, method, path, payload, minimum, success):
    client = api_as(role)
    body = payload(mine) if payload else None
    response = getattr(client, method)(path(mine), body, format="json")
    expected = success if ROLE_RANK[role] >= ROLE_RANK[minimum] else 403
    assert response.status_code == expected, response.content[:500]


@pytest.mark.django_db
def test_anonymous_callers_get_nothing(client, mine):
    assert client.get("/api/campaigns/").status_code in (401, 403)


ANONYMOUS_ROUTES = [
    ("get", lambda w: "/api/audit-events/"), ("get", lambda w: "/api/notifications/"),
    ("post", lambda w: "/api/notifications/read-all/"), ("get", lambda w: "/api/clip-notes/"),
    ("post", lambda w: "/api/clip-notes/"), ("get", lambda w: "/api/experiments/"),
    ("post", lambda w: "/api/experiments/"), ("post", lambda w: f"/api/experiments/{add_experiment(w).pk}/stop/"),
    ("get", lambda w: f"/api/best-times/{w.account.pk}/"), ("get", lambda w: f"/api/render-usage/{w.workspace.pk}/"),
]


@pytest.mark.django_db
def test_anonymous_callers_get_nothing_from_the_new_routes(client, mine):
    for method, path in ANONYMOUS_ROUTES:
        url = path(mine)
        if method == "post":
            response = client.post(url, {"clip": mine.approved.pk, "body": "x"}, content_type="application/json")
        else:
            response = client.get(url)
        assert response.status_code in (401, 403), (method, url, response.status_code)
        assert str(mine.account.handle) not in response.content.decode()


@pytest.mark.django_db
def test_an_owner_elsewhere_has_only_their_role_here_on_the_new_writes(mine, theirs):
    from rest_framework.test import APIClient

    from tests.factories import MembershipFactory

    viewer_here = MembershipFactory(workspace=mine.workspace, role=Role.VIEWER)
    MembershipFactory(workspace=theirs.workspace, role=Role.OWNER, user=viewer_here.user)
    client = APIClient()
    client.force_authenticate(viewer_here.user)
    experiment = add_experiment(mine)
    for path, body in [
        ("/api/clip-notes/", {"clip": mine.approved.pk, "body": "hi"}),
        ("/api/experiments/", {"prompt_template": mine.template.pk, "x_account": mine.account.pk}),
        (f"/api/experiments/{experiment.pk}/fill/", {"count": 1}),
        (f"/api/experiments/{experiment.pk}/stop/", {}),
        ("/api/posts/", {"clip": mine.queued.pk, "x_account": mine.account.pk, "caption": "x",
                         "scheduled_at": future()}),
    ]:
        response = client.post(path, body, format="json")
        assert response.status_code == 403, (path, response.status_code, response.content[:200])
    experiment.refresh_from_db()
    assert experiment.status == "running" and not experiment.posts.exists() and not mine.approved.notes.exists()
