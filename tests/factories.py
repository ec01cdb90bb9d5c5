from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Workspace
from campaigns.models import Campaign, CaptionTemplate, PromptTemplate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-correct-horse-42")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")
    timezone = "Europe/Berlin"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    timezone = "America/New_York"


class PromptTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptTemplate

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Prompt {n}")
    body = "a {colour} {shape} moving left on a black background"
    variables = factory.LazyFunction(lambda: {"colour": ["red", "blue"], "shape": ["circle", "square"]})


class CaptionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaptionTemplate

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Caption {n}")  # names are unique within a campaign
    body = "Look at this {colour} {shape}!"
    hashtags = "clipcast #ai"


def bulk_clips(campaign, template, count: int, reviewer=None, seed: int = 0) -> None:
    """`count` clips in every state, with media and reviews, in a few bulk inserts (10,000 in about a second)."""
    from django.utils import timezone

    from generation.models import Clip, ClipStatus, ReviewStatus

    statuses = [ClipStatus.SUCCEEDED, ClipStatus.SUCCEEDED, ClipStatus.FAILED, ClipStatus.QUEUED, ClipStatus.RENDERING]
    now = timezone.now()
    rows = []
    for i in range(count):
        status = statuses[i % len(statuses)]
        done = status == ClipStatus.SUCCEEDED
        folder = f"clips/{campaign.pk}/bulk-{seed + i}"
        rows.append(Clip(
            campaign=campaign, prompt_template=template, variables={"colour": "red"}, prompt=f"a red circle {i}",
            seed=seed + i, status=status, progress=100 if done else 30, render_params={"frames": 8},
            video=f"{folder}/clip.mp4" if done else "", gif=f"{folder}/clip.gif" if done else "",
            poster=f"{folder}/poster.png" if done else "", error="boom" if status == ClipStatus.FAILED else "",
            review_status=ReviewStatus.APPROVED if done and i % 2 else ReviewStatus.PENDING,
            reviewed_by=reviewer if done and i % 2 else None, started_at=now, finished_at=now if done else None,
        ))
    Clip.objects.bulk_create(rows, batch_size=2000)
