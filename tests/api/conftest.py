from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.models import Post, XAccount
from tests.factories import (
    CampaignFactory,
    CaptionTemplateFactory,
    MembershipFactory,
    PromptTemplateFactory,
    UserFactory,
    WorkspaceFactory,
)


@dataclass
class World:
    workspace: object
    campaign: object
    template: object
    caption: object
    clip: object
    queued_clip: object
    account: object
    post: object


def build_world() -> World:
    workspace = WorkspaceFactory()
    campaign = CampaignFactory(workspace=workspace)
    template = PromptTemplateFactory(campaign=campaign)
    caption = CaptionTemplateFactory(campaign=campaign)
    clip = Clip.objects.create(
        campaign=campaign, prompt_template=template, variables={"colour": "red", "shape": "circle"},
        prompt="a red circle", seed=1, status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED,
    )
    queued = Clip.objects.create(campaign=campaign, prompt_template=template, prompt="queued", seed=2)
    account = XAccount.objects.create(workspace=workspace, handle=f"brand{workspace.pk}")
    post = Post.objects.create(clip=clip, x_account=account, caption="hi", scheduled_at=timezone.now()
                               + timedelta(days=1))
    return World(workspace, campaign, template, caption, clip, queued, account, post)


@pytest.fixture
def mine(db) -> World:
    return build_world()


@pytest.fixture
def theirs(db) -> World:
    return build_world()


@pytest.fixture
def api_as(mine):
    def client_for(role: Role) -> APIClient:
        membership = MembershipFactory(workspace=mine.workspace, role=role, user=UserFactory())
        client = APIClient()
        client.force_authenticate(membership.user)
        return client

    return client_for
