"""Hostile input through the API: every case is a 4xx with a message, never a 500, never half-written."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from campaigns.models import Campaign, PromptTemplate
from generation.models import Clip
from tests.factories import MembershipFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

HOSTILE_BODIES = [
    "{__class__}", "{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>{b}}", "{a}}", "}", "{" * 1001,
    "x" * 100_000, "nul\x00byte", "\u202eevil", "{a.__init__.__globals__}",
]


@pytest.fixture
def editor():
    membership = MembershipFactory(role=Role.EDITOR)
    client = APIClient()
    client.force_authenticate(membership.user)
    client.workspace = membership.workspace
    return client


@pytest.fixture
def campaign(editor):
    return Campaign.objects.create(workspace=editor.workspace, name="c")


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_template_bodies_are_refused_cleanly(editor, campaign, body):
    response = editor.post("/api/prompt-templates/", {"campaign": campaign.pk, "name": "t", "body": body,
                                                      "variables": {"a": ["x"]}}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()
    assert PromptTemplate.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "<script>alert(1)</script>", "timezone": "Mars/Base"},
        {"name": "x", "timezone": "UTC", "frames": -1},
        {"name": "x", "timezone": "UTC", "fps": 10_000},
        {"name": "x" * 100_000},
        {"name": "x", "status": "exploded"},
        {"name": "x", "guidance": "NaN"},
    ],
)
def test_hostile_campaign_fields_are_refused(editor, payload):
    response = editor.post("/api/campaigns/", {"workspace": editor.workspace.pk, **payload}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert Campaign.objects.count() == 0


def test_malformed_json_is_a_400(editor):
    response = editor.generic("POST", "/api/campaigns/", '{"name": "x", ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_grid_of_millions_of_clips_is_refused_without_writing(editor, campaign):
    template = PromptTemplateFactory(campaign=campaign, body="{a} {b} {c}",
                                     variables={k: [f"{k}{i}" for i in range(100)] for k in "abc"})
    grid = {k: [f"{k}{i}" for i in range(100)] for k in "abc"}
    response = editor.post("/api/clips/batch/", {"prompt_template": template.pk, "grid": grid}, format="json")
    assert response.status_code == 400
    assert "1,000,000 clips" in str(response.json())
    assert Clip.objects.count() == 0


@pytest.mark.parametrize(
    "csv_text",
    ["a,b,c\n" + "a1,b1,c1\n" * 40_000, "a,b,c\n\x00\x00\n", '"' * 10_000, "a,b,c\n" + ("x" * 200_000)],
    ids=["many-rows", "nul", "quotes", "huge-cell"],
)
def test_csv_bombs_are_refused(editor, campaign, csv_text):
    template = PromptTemplateFactory(campaign=campaign, body="{a} {b} {c}",
                                     variables={k: [f"{k}{i}" for i in range(3)] for k in "abc"})
    response = editor.post("/api/clips/batch/", {"prompt_template": template.pk, "csv": csv_text}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert Clip.objects.count() == 0


@pytest.mark.parametrize(
    "when", ["not-a-date", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T10:00:00Z", ""],
)
def test_invalid_and_extreme_schedule_dates_are_refused(editor, campaign, when):
    from publishing.models import Post, XAccount

    clip = Clip.objects.create(campaign=campaign, prompt="p", seed=1, status="succeeded", review_status="approved")
    account = XAccount.objects.create(workspace=editor.workspace, handle="brand")
    response = editor.post("/api/posts/", {"clip": clip.pk, "x_account": account.pk, "caption": "hi",
                                           "scheduled_at": when}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert Post.objects.count() == 0


def deeply_nested(depth: int) -> str:
    return '{"name": "x", "a": ' + "[" * depth + "]" * depth + "}"


def write_routes(editor, campaign) -> list[tuple[str, str]]:
    template = PromptTemplateFactory(campaign=campaign)
    return [
        ("POST", "/api/campaigns/"), ("PATCH", f"/api/campaigns/{campaign.pk}/"),
        ("PUT", f"/api/campaigns/{campaign.pk}/"), ("POST", "/api/prompt-templates/"),
        ("PATCH", f"/api/prompt-templates/{template.pk}/"), ("POST", f"/api/prompt-templates/{template.pk}/preview/"),
        ("POST", "/api/caption-templates/"), ("POST", "/api/posting-slots/"), ("POST", "/api/clips/batch/"),
        ("POST", "/api/posts/"), ("POST", "/api/invitations/"), ("PATCH", f"/api/workspaces/{editor.workspace.pk}/"),
    ]


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_deeply_nested_json_is_a_400_on_every_api_write(editor, campaign, depth):
    Membership.objects.filter(workspace=editor.workspace).update(role=Role.OWNER)  # every route is open to owners
    body = deeply_nested(depth)
    for method, path in write_routes(editor, campaign):
        response = editor.generic(method, path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code, response.content[:200])
        assert "nested" in response.json()["detail"], (method, path)
    assert Campaign.objects.count() == 1


def test_ordinary_nesting_still_parses(editor, campaign):
    template = PromptTemplateFactory(campaign=campaign, body="{a}", variables={"a": ["x"]})
    response = editor.post("/api/clips/batch/", {"prompt_template": template.pk, "grid": {"a": ["x"]},
                                                 "params": {"frames": 8}}, format="json")
    assert response.status_code == 201, response.content[:300]


OVERSIZED_TEMPLATES = [
    # (variables, words the refusal must say: the limit and the count found)
    ({f"v{i}": ["x"] for i in range(20_000)}, ["20,000 variables", "limit is 20"]),
    ({"v0": [f"x{i}" for i in range(101)]}, ["101 values", "limit is 100"]),
    ({k: [f"{k}{i}" for i in range(100)] for k in ("v0", "b", "c")}, ["1,000,000 combinations", "limit is 100,000"]),
    ({f"v{i}": ["x", "y"] for i in range(20)} | {"v0": [f"x{i}" for i in range(2)]},
     ["1,048,576 combinations", "limit is 100,000"]),
]


@pytest.mark.parametrize(("variables", "words"), OVERSIZED_TEMPLATES, ids=["many-variables", "many-values",
                                                                           "huge-grid", "wide-grid"])
def test_oversized_templates_are_refused_with_the_limit_and_the_count(editor, campaign, variables, words):
    existing = PromptTemplateFactory(campaign=campaign, body="{v0}", variables={"v0": ["x"]})

    created = editor.post("/api/prompt-templates/", {"campaign": campaign.pk, "name": "t", "body": "{v0}",
                                                     "variables": variables}, format="json")
    updated = editor.patch(f"/api/prompt-templates/{existing.pk}/", {"variables": variables}, format="json")

    for response in (created, updated):
        assert response.status_code == 400, response.content[:300]
        assert all(word in str(response.json()) for word in words), (words, response.content[:300])
    assert PromptTemplate.objects.count() == 1
    existing.refresh_from_db()
    assert existing.variables == {"v0": ["x"]}
