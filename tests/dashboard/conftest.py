"""A small world per workspace (campaign, templates, clips in every state, an account, a post) and role logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

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
    approved: Clip
    pending: Clip
    failed: Clip
    rendering: Clip
    queued: Clip
    account: XAccount
    post: Post


def make_clip(campaign, template, **fields) -> Clip:
    defaults = {
        "prompt": "a red circle moving left on a black background", "seed": 1,
        "variables": {"colour": "red", "shape": "circle"}, "render_params": {"frames": 8, "fps": 8},
    }
    return Clip.objects.create(campaign=campaign, prompt_template=template, **{**defaults, **fields})


def build_world(**workspace_fields) -> World:
    workspace = WorkspaceFactory(**workspace_fields)
    campaign = CampaignFactory(workspace=workspace)
    template = PromptTemplateFactory(campaign=campaign)
    caption = CaptionTemplateFactory(campaign=campaign)
    done = {"status": ClipStatus.SUCCEEDED, "progress": 100, "finished_at": timezone.now()}
    approved = make_clip(campaign, template, review_status=ReviewStatus.APPROVED, **done)
    pending = make_clip(campaign, template, seed=2, **done)
    failed = make_clip(
        campaign, template, seed=3, status=ClipStatus.FAILED, error="Out of GPU memory: retry with fewer frames."
    )
    rendering = make_clip(
        campaign, template, seed=4, status=ClipStatus.RENDERING, progress=40, stage="denoise",
        started_at=timezone.now() - timedelta(seconds=20),
    )
    queued = make_clip(campaign, template, seed=5)
    account = XAccount.objects.create(
        workspace=workspace, handle=f"brand{workspace.pk}", access_token="tok-SECRET-access",
        access_token_secret="tok-SECRET-secret", refresh_token="tok-SECRET-refresh",
    )
    post = Post.objects.create(
        clip=approved, x_account=account, caption="Look at this red circle! #clipcast",
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    return World(workspace, campaign, template, caption, approved, pending, failed, rendering, queued, account, post)


@pytest.fixture
def mine(db) -> World:
    return build_world()


@pytest.fixture
def theirs(db) -> World:
    return build_world()


@pytest.fixture
def login_as(mine):
    """A client logged in with `role` in `mine`'s workspace."""

    def login(role: Role, workspace=None) -> Client:
        membership = MembershipFactory(workspace=workspace or mine.workspace, role=role, user=UserFactory())
        client = Client()
        client.force_login(membership.user)
        client.user = membership.user
        return client

    return login


@pytest.fixture
def editor(login_as) -> Client:
    return login_as(Role.EDITOR)


@pytest.fixture
def owner(login_as) -> Client:
    return login_as(Role.OWNER)


@pytest.fixture
def viewer(login_as) -> Client:
    return login_as(Role.VIEWER)


@pytest.fixture
def reviewer(login_as) -> Client:
    return login_as(Role.REVIEWER)
