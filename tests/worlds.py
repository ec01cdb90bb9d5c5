"""A small world per workspace (campaign, templates, clips in every state, an account, a post), for every test
folder: `mine` and `theirs` in tests/conftest.py are two of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.models import Post, XAccount
from tests.factories import CampaignFactory, CaptionTemplateFactory, PromptTemplateFactory, WorkspaceFactory


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


def add_experiment(world: World):
    """A running A/B experiment on the world's template: a second approved variant (blue square) beside the red
    circle, a daily 10:00 slot to post into. For the matrices of experiment routes."""
    from datetime import time as clock

    from campaigns.models import PostingSlot
    from publishing import experiments

    make_clip(world.campaign, world.template, prompt="a blue square", seed=7, variables={"colour": "blue",
              "shape": "square"}, status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED)
    for weekday in range(7):
        PostingSlot.objects.get_or_create(campaign=world.campaign, weekday=weekday, local_time=clock(10))
    return experiments.start_experiment(world.template, world.account)


def add_comment(world: World, author=None):
    """A comment on the world's approved clip, with the notification of an editor (as the product writes it)."""
    from generation import conversation
    from tests.factories import MembershipFactory

    MembershipFactory(workspace=world.workspace, role="editor")
    if author is None:
        author = MembershipFactory(workspace=world.workspace, role="reviewer").user
    return conversation.comment_on(world.approved, author, "Colour looks off at 0:02.")
