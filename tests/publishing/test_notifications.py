from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from generation.models import Clip, ClipStatus
from publishing.models import Post, XAccount
from publishing.notifications import notify_post_failed
from tests.factories import MembershipFactory, PromptTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_failed_post_is_mailed_to_the_workspace_owners_only():
    template = PromptTemplateFactory()
    workspace = template.campaign.workspace
    MembershipFactory(workspace=workspace, role=Role.OWNER, user=UserFactory(email="owner@example.com"))
    MembershipFactory(workspace=workspace, role=Role.EDITOR, user=UserFactory(email="editor@example.com"))
    account = XAccount.objects.create(workspace=workspace, handle="brand")
    clip = Clip.objects.create(campaign=template.campaign, prompt="p", seed=1, status=ClipStatus.SUCCEEDED)
    post = Post.objects.create(clip=clip, x_account=account, caption="hi", scheduled_at=timezone.now()
                               - timedelta(minutes=1), last_error="X refused the video: it is longer than 140 s.")
    assert notify_post_failed(post) == 1
    assert mail.outbox[0].to == ["owner@example.com"]
    assert "longer than 140 s" in mail.outbox[0].subject
    assert "@brand" in mail.outbox[0].body
