"""Other workspaces' objects: 404 on every detail route, never their data in any list."""

from __future__ import annotations

import pytest

from accounts.models import Role

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
    ]


def test_every_detail_route_of_another_workspace_is_404_even_for_owners(api_as, theirs):
    client = api_as(Role.OWNER)
    for method, path in detail_routes(theirs):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)


def test_lists_never_include_another_workspaces_rows(api_as, mine, theirs):
    client = api_as(Role.OWNER)
    for path, own_id, other_id in [
        ("/api/campaigns/", mine.campaign.pk, theirs.campaign.pk),
        ("/api/clips/", mine.approved.pk, theirs.approved.pk),
        ("/api/posts/", mine.post.pk, theirs.post.pk),
        ("/api/x-accounts/", mine.account.pk, theirs.account.pk),
        ("/api/prompt-templates/", mine.template.pk, theirs.template.pk),
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
