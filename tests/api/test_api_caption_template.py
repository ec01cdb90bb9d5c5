"""Scheduling through the API with a chosen caption template, rendered with the clip's own values and prompt."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Role
from tests.factories import CampaignFactory, CaptionTemplateFactory


def future() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


def test_a_post_can_be_scheduled_with_a_chosen_caption_template(api_as, mine):
    chosen = CaptionTemplateFactory(campaign=mine.campaign, name="Short", body="{colour}! {prompt}", hashtags="")
    answer = api_as(Role.EDITOR).post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "caption_template": chosen.pk, "scheduled_at": future(),
    }, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["caption"] == f"red! {mine.approved.prompt}"


def test_without_caption_or_template_the_default_template_is_used(api_as, mine):
    CaptionTemplateFactory(campaign=mine.campaign, name="Another", body="{prompt}", hashtags="")
    answer = api_as(Role.EDITOR).post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "scheduled_at": future(),
    }, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["caption"] == mine.caption.render({**mine.approved.variables, "prompt": mine.approved.prompt})


def test_a_template_of_another_campaign_or_both_caption_and_template_are_400(api_as, mine):
    client = api_as(Role.EDITOR)
    elsewhere = CaptionTemplateFactory(campaign=CampaignFactory(workspace=mine.workspace))
    answer = client.post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "caption_template": elsewhere.pk,
        "scheduled_at": future(),
    }, format="json")
    assert answer.status_code == 400 and "belongs to another campaign" in answer.content.decode()
    answer = client.post("/api/posts/", {
        "clip": mine.approved.pk, "x_account": mine.account.pk, "caption_template": mine.caption.pk,
        "caption": "mine", "scheduled_at": future(),
    }, format="json")
    assert answer.status_code == 400 and "not both" in answer.content.decode()
