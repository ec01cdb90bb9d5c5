"""The publishing bench writes its 1 M rows with COPY, bypassing the ORM: a new non-null column must not break it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.publish import copy_rows
from generation.models import Clip, ClipStatus
from publishing.models import Post, PostStatus, XAccount
from tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db


def test_bench_rows_are_valid_posts_and_only_the_due_ones_are_due():
    template = PromptTemplateFactory()
    account = XAccount.objects.create(workspace=template.campaign.workspace, handle="bench")
    clip = Clip.objects.create(campaign=template.campaign, prompt="p", seed=1, status=ClipStatus.SUCCEEDED)

    copy_rows(clip.pk, account.pk, count=50, due=5, start=0)

    posts = Post.objects.filter(x_account=account)
    assert posts.count() == 50
    assert posts.due(timezone.now() + timedelta(seconds=1)).count() == 5
    assert posts.filter(status=PostStatus.POSTED).count() == 9
    first = posts.get(caption="q0")
    first.full_clean()
