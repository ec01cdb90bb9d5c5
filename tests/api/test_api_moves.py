"""Moves: an update never carries an object into another workspace, campaign, clip, account or user.

The matrix is generated from the API's routers: every viewset that takes updates, every writable related field
of its serializer, every role the caller holds at the source, and every target (same workspace, another
workspace where the caller holds each role, another workspace where the caller is no member). A new related
field shows up here by itself; if no maker below knows its model, the test fails and says so.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.models import ROLE_RANK, Membership, Role, Workspace
from campaigns.models import Campaign, CaptionTemplate, PostingSlot, PromptTemplate
from generation.models import BrandLora, CampaignLora, Clip, ClipStatus, ReviewStatus
from publishing.models import Post, XAccount
from tests.factories import (
    CampaignFactory,
    CaptionTemplateFactory,
    MembershipFactory,
    PromptTemplateFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

ROLES = [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER]
API_APPS = ["accounts", "campaigns", "generation", "publishing"]


def _clip(ws: Workspace) -> Clip:
    campaign = CampaignFactory(workspace=ws)
    return Clip.objects.create(
        campaign=campaign, prompt_template=PromptTemplateFactory(campaign=campaign), prompt="p", seed=1,
        status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED,
    )


def _post(ws: Workspace) -> Post:
    account = XAccount.objects.create(workspace=ws, handle=f"h{XAccount.objects.count()}")
    return Post.objects.create(clip=_clip(ws), x_account=account, caption="c",
                               scheduled_at=timezone.now() + timedelta(days=1))


def _brand_lora(ws: Workspace) -> BrandLora:
    count = BrandLora.objects.count()
    return BrandLora.objects.create(workspace=ws, name=f"lora {count}", model_key="bundled", sha256=f"{count:064x}",
                                    file=f"loras/{ws.pk}/{count}.safetensors")


# One object of each model inside a given workspace.
MAKERS = {
    Workspace: lambda ws: ws,
    get_user_model(): lambda ws: MembershipFactory(workspace=ws, role=Role.VIEWER).user,
    Membership: lambda ws: MembershipFactory(workspace=ws, role=Role.VIEWER),
    Campaign: lambda ws: CampaignFactory(workspace=ws),
    PromptTemplate: lambda ws: PromptTemplateFactory(campaign=CampaignFactory(workspace=ws)),
    CaptionTemplate: lambda ws: CaptionTemplateFactory(campaign=CampaignFactory(workspace=ws)),
    PostingSlot: lambda ws: PostingSlot.objects.create(campaign=CampaignFactory(workspace=ws), weekday=1,
                                                       local_time="09:00"),
    Clip: _clip,
    XAccount: lambda ws: XAccount.objects.create(workspace=ws, handle=f"h{XAccount.objects.count()}"),
    Post: _post,
    BrandLora: _brand_lora,
    CampaignLora: lambda ws: CampaignLora.objects.create(campaign=CampaignFactory(workspace=ws), lora=_brand_lora(ws)),
}


def writable_related_fields() -> list[tuple[str, type, str, type]]:
    """(route prefix, viewset, field name, related model) for every updatable route and writable relation."""
    found = []
    for app in API_APPS:
        for prefix, viewset, _ in import_module(f"{app}.api.urls").router.registry:
            if not hasattr(viewset, "partial_update") or getattr(viewset, "serializer_class", None) is None:
                continue
            for name, field in viewset.serializer_class().fields.items():
                if field.read_only or not isinstance(field, serializers.RelatedField):
                    continue
                if field.source not in {f.name for f in viewset.queryset.model._meta.concrete_fields}:
                    continue  # an input only (e.g. the caption template a post is created from): nothing stored
                found.append((prefix, viewset, name, field.queryset.model))
    return found


FIELDS = writable_related_fields()
# Targets: the caller's own workspace (another object there), another workspace with each role, or none.
TARGETS = [("own", None)] + [(f"other-{r.value}", r) for r in ROLES] + [("other-none", None)]


def test_the_matrix_finds_the_related_fields_we_know_of():
    names = {(prefix, name) for prefix, _, name, _ in FIELDS}
    assert {("campaigns", "workspace"), ("prompt-templates", "campaign"), ("caption-templates", "campaign"),
            ("posting-slots", "campaign"), ("memberships", "workspace"), ("memberships", "user"),
            ("posts", "clip"), ("posts", "x_account"), ("campaign-loras", "campaign"),
            ("campaign-loras", "lora")} <= names


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(("prefix", "viewset", "field", "related"), FIELDS, ids=[f"{f[0]}.{f[2]}" for f in FIELDS])
def test_an_update_that_moves_an_object_is_refused_and_changes_nothing(prefix, viewset, field, related, role):
    model = viewset.queryset.model
    assert model in MAKERS and related in MAKERS, f"add a maker for {model.__name__} / {related.__name__}"
    home = WorkspaceFactory()
    caller = MembershipFactory(workspace=home, role=role).user
    client = APIClient()
    client.force_authenticate(caller)
    needed = viewset.action_roles.get("partial_update", Role.EDITOR)
    for target_name, target_role in TARGETS:
        obj = MAKERS[model](home)
        before = getattr(obj, field).pk
        if target_name == "own":
            target = MAKERS[related](home)
        else:
            elsewhere = WorkspaceFactory()
            if target_role is not None:
                MembershipFactory(workspace=elsewhere, user=caller, role=target_role)
            target = MAKERS[related](elsewhere)
        if target.pk == before:
            continue  # the workspace itself: not a move

        value = viewset.serializer_class().fields[field].to_representation(target)
        response = client.patch(f"/api/{prefix}/{obj.pk}/", {field: value}, format="json")

        case = (prefix, field, role.value, target_name, response.status_code, response.content[:300])
        if ROLE_RANK[role] < ROLE_RANK[needed]:
            assert response.status_code == 403, case
        else:
            assert response.status_code == 400, case
            assert "cannot move" in str(response.json()), case
        obj.refresh_from_db()
        assert getattr(obj, field).pk == before, case


def test_repeating_the_current_workspace_in_a_full_update_is_fine(api_as, mine):
    client = api_as(Role.EDITOR)
    body = client.get(f"/api/campaigns/{mine.campaign.pk}/").json()
    writable = {k: v for k, v in body.items() if k not in ("id", "clip_count", "created_at", "updated_at")}

    response = client.put(f"/api/campaigns/{mine.campaign.pk}/", {**writable, "name": "Renamed"}, format="json")

    assert response.status_code == 200, response.content[:300]
    mine.campaign.refresh_from_db()
    assert (mine.campaign.name, mine.campaign.workspace_id) == ("Renamed", mine.workspace.pk)


def test_a_move_is_refused_with_a_message_saying_what_to_do_instead(mine, theirs):
    owner_of_both = UserFactory()
    for world in (mine, theirs):
        MembershipFactory(workspace=world.workspace, user=owner_of_both, role=Role.OWNER)
    client = APIClient()
    client.force_authenticate(owner_of_both)

    response = client.patch(f"/api/prompt-templates/{mine.template.pk}/", {"campaign": theirs.campaign.pk},
                            format="json")

    assert response.status_code == 400
    assert response.json() == {"campaign": [
        "A prompt template cannot move to another campaign: leave campaign as it is, "
        "or create a new prompt template for the other campaign."
    ]}


def test_the_schema_says_the_scoping_fields_are_fixed_after_create(api_as):
    schema = api_as(Role.VIEWER).get("/api/schema/?format=json").json()["components"]["schemas"]
    for component, field in [("Campaign", "workspace"), ("PromptTemplate", "campaign"), ("PostingSlot", "campaign"),
                             ("CaptionTemplate", "campaign"), ("Membership", "user")]:
        assert "fixed afterwards" in schema[component]["properties"][field]["description"], (component, field)
