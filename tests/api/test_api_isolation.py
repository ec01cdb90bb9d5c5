"""Other workspaces' objects: 404 on every detail route, never their data in any list."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, Notification, Role
from tests.worlds import add_comment, add_experiment

pytestmark = pytest.mark.django_db


def detail_routes(w):
    return [
        ("get", f"/api/workspaces/{w.workspace.pk}/"),
        ("patch", f"/api/workspaces/{w.workspace.pk}/"),
        ("get", f"/api/campaigns/{w.campaign.pk}/"),
        ("patch", f"/api/campaigns/{w.campaign.pk}/"),
        ("delete", f"/api/campaigns/{w.campaign.pk}/"),
        ("get", f"/api/prompt-templates/{w.template.pk}/"),
        ("post", f"/api/prompt-templates/{w.template.pk}/preview/"),
        ("get", f"/api/caption-templates/{w.caption.pk}/"),
        ("get", f"/api/clips/{w.approved.pk}/"),
        ("post", f"/api/clips/{w.approved.pk}/approve/"),
        ("post", f"/api/clips/{w.queued.pk}/cancel/"),
        ("get", f"/api/x-accounts/{w.account.pk}/"),
        ("get", f"/api/posts/{w.post.pk}/"),
        ("post", f"/api/posts/{w.post.pk}/cancel/"),
        ("get", f"/api/metrics/{w.campaign.pk}/"),
        ("get", f"/api/best-times/{w.account.pk}/"),
        ("get", f"/api/render-usage/{w.workspace.pk}/"),
        ("post", f"/api/clips/{w.failed.pk}/retry/"),
    ]


def new_detail_routes(w) -> list[tuple[str, str]]:
    """Routes of the audit log, the review conversation and experiments, on objects made for the occasion."""
    experiment = add_experiment(w)
    note = add_comment(w)
    notification = Notification.objects.filter(workspace=w.workspace).first()
    event = AuditEvent.objects.filter(workspace=w.workspace).first()
    return [
        ("get", f"/api/experiments/{experiment.pk}/"),
        ("post", f"/api/experiments/{experiment.pk}/fill/"),
        ("post", f"/api/experiments/{experiment.pk}/decide/"),
        ("post", f"/api/experiments/{experiment.pk}/stop/"),
        ("get", f"/api/clip-notes/{note.pk}/"),
        ("get", f"/api/notifications/{notification.pk}/"),
        ("post", f"/api/notifications/{notification.pk}/read/"),
        ("get", f"/api/audit-events/{event.pk}/"),
    ]


def test_every_detail_route_of_another_workspace_is_404_even_for_owners(api_as, theirs):
    client = api_as(Role.OWNER)
    for method, path in detail_routes(theirs):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)


def test_the_new_detail_routes_of_another_workspace_are_404_without_its_data(api_as, theirs):
    client = api_as(Role.OWNER)
    for method, path in new_detail_routes(theirs):
        response = getattr(client, method)(path, {"count": 1}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
        body = response.content.decode()
        assert theirs.template.name not in body and theirs.account.handle not in body, (method, path)
    assert theirs.template.experiments.get().status == "running"
    assert not Notification.objects.filter(workspace=theirs.workspace).exclude(read_at=None).exists()


def test_a_members_notifications_are_theirs_alone_even_in_the_same_workspace(api_as, mine):
    add_comment(mine)  # notifies mine's editors and owners, not a new member who never took part
    client = api_as(Role.OWNER)
    others = Notification.objects.filter(workspace=mine.workspace)
    assert others.exists()
    for notification in others:
        assert client.get(f"/api/notifications/{notification.pk}/").status_code == 404
        assert client.post(f"/api/notifications/{notification.pk}/read/").status_code == 404
    assert client.post("/api/notifications/read-all/").json() == {"marked": 0}
    assert not others.exclude(read_at=None).exists()


def test_lists_never_include_another_workspaces_rows(api_as, mine, theirs):
    client = api_as(Role.OWNER)
    for path, own_id, other_id in [
        ("/api/campaigns/", mine.campaign.pk, theirs.campaign.pk),
        ("/api/clips/", mine.approved.pk, theirs.approved.pk),
        ("/api/posts/", mine.post.pk, theirs.post.pk),
        ("/api/x-accounts/", mine.account.pk, theirs.account.pk),
        ("/api/prompt-templates/", mine.template.pk, theirs.template.pk),
        ("/api/experiments/", add_experiment(mine).pk, add_experiment(theirs).pk),
        ("/api/clip-notes/", add_comment(mine).pk, add_comment(theirs).pk),
        ("/api/audit-events/", AuditEvent.objects.filter(workspace=mine.workspace).first().pk,
         AuditEvent.objects.filter(workspace=theirs.workspace).first().pk),
    ]:
        ids = {row["id"] for row in client.get(path).json()["results"]}
        assert own_id in ids and other_id not in ids, path


def test_creating_under_another_workspaces_parent_is_refused_without_leaking_it(api_as, theirs):
    client = api_as(Role.OWNER)
    response = client.post("/api/prompt-templates/", {"campaign": theirs.campaign.pk, "name": "x", "body": "y"},
                           format="json")
    assert response.status_code == 400
    assert theirs.campaign.name not in response.content.decode()
    response = client.post("/api/clips/batch/", {"prompt_template": theirs.template.pk, "grid": {}}, format="json")
    assert response.status_code == 400
    response = client.post("/api/clip-notes/", {"clip": theirs.approved.pk, "body": "hi"}, format="json")
    assert response.status_code == 400 and theirs.approved.prompt not in response.content.decode()
    response = client.post("/api/experiments/", {"prompt_template": theirs.template.pk,
                                                 "x_account": theirs.account.pk}, format="json")
    assert response.status_code == 400
    assert theirs.template.name not in response.content.decode()
    assert theirs.account.handle not in response.content.decode()
    for filtered in (f"/api/audit-events/?workspace={theirs.workspace.pk}",
                     f"/api/clip-notes/?clip={theirs.approved.pk}",
                     f"/api/experiments/?campaign={theirs.campaign.pk}",
                     f"/api/notifications/?workspace={theirs.workspace.pk}"):
        response = client.get(filtered)
        assert response.status_code in (200, 400), filtered
        assert response.status_code == 400 or response.json()["results"] == [], filtered


def test_x_account_tokens_are_never_in_api_responses(api_as, mine):
    mine.account.access_token = "secret-access-token-xyz"
    mine.account.save()
    body = api_as(Role.OWNER).get(f"/api/x-accounts/{mine.account.pk}/").content.decode()
    assert "secret-access-token-xyz" not in body
    assert "access_token" not in body


def test_the_clip_list_makes_a_constant_number_of_queries(api_as, mine, django_assert_max_num_queries):
    from generation.models import Clip

    client = api_as(Role.VIEWER)
    for i in range(30):
        Clip.objects.create(campaign=mine.campaign, prompt_template=mine.template, prompt=f"p{i}", seed=i)
    with django_assert_max_num_queries(6):
        assert client.get("/api/clips/").status_code == 200


def test_the_schema_is_served_with_swagger_ui(api_as):
    client = api_as(Role.VIEWER)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/clips/batch/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_a_member_who_leaves_no_longer_reads_that_workspaces_notifications(mine):
    from rest_framework.test import APIClient

    from accounts.models import Membership
    from tests.factories import MembershipFactory

    editor = MembershipFactory(workspace=mine.workspace, role=Role.EDITOR)
    add_comment(mine)  # notifies the editor
    client = APIClient()
    client.force_authenticate(editor.user)
    notification = Notification.objects.get(user=editor.user)
    assert client.get("/api/notifications/").json()["count"] == 1

    Membership.objects.filter(pk=editor.pk).delete()

    assert client.get("/api/notifications/").json()["count"] == 0
    assert client.get(f"/api/notifications/{notification.pk}/").status_code == 404
    assert client.post(f"/api/notifications/{notification.pk}/read/").status_code == 404
    assert client.post("/api/notifications/read-all/").json() == {"marked": 0}
