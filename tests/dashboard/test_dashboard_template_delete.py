"""Templates can be deleted (API and dashboard, editor or above), and names are unique within a campaign."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from campaigns.models import CaptionTemplate, PromptTemplate
from generation.models import Clip
from tests.factories import CaptionTemplateFactory, MembershipFactory, PromptTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


def api_as(world, role: Role) -> APIClient:
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=world.workspace, role=role, user=UserFactory()).user)
    return client


def test_the_campaign_page_links_delete_and_it_asks_before_deleting(editor, mine):
    page = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    url = reverse("dashboard:prompt_delete", args=[mine.template.pk])
    assert url in page and reverse("dashboard:caption_delete", args=[mine.caption.pk]) in page
    confirm = editor.get(url).content.decode()
    clips = Clip.objects.filter(prompt_template=mine.template).count()
    assert "Delete prompt template" in confirm and f"{clips} clips were made from it" in confirm
    assert PromptTemplate.objects.filter(pk=mine.template.pk).exists()  # a GET deletes nothing


def test_deleting_a_prompt_template_keeps_its_clips_with_the_template_cleared(editor, mine):
    clip_ids = list(Clip.objects.filter(prompt_template=mine.template).values_list("pk", flat=True))
    response = editor.post(reverse("dashboard:prompt_delete", args=[mine.template.pk]), follow=True)
    assert f"Its {len(clip_ids)} clip(s) keep their prompt and variables" in response.content.decode()
    assert not PromptTemplate.objects.filter(pk=mine.template.pk).exists()
    kept = Clip.objects.filter(pk__in=clip_ids)
    assert kept.count() == len(clip_ids) and not kept.exclude(prompt_template=None).exists()
    assert all(clip.prompt for clip in kept)


def test_deleting_a_caption_template_from_the_dashboard(editor, mine):
    editor.post(reverse("dashboard:caption_delete", args=[mine.caption.pk]))
    assert not CaptionTemplate.objects.filter(pk=mine.caption.pk).exists()


def test_a_reviewer_cannot_delete_and_another_workspace_cannot_see(reviewer, editor, mine, theirs):
    assert reviewer.post(reverse("dashboard:caption_delete", args=[mine.caption.pk])).status_code == 403
    assert editor.post(reverse("dashboard:caption_delete", args=[theirs.caption.pk])).status_code == 404
    assert CaptionTemplate.objects.filter(pk__in=[mine.caption.pk, theirs.caption.pk]).count() == 2


def test_the_api_deletes_for_editors_only(mine):
    assert api_as(mine, Role.REVIEWER).delete(f"/api/prompt-templates/{mine.template.pk}/").status_code == 403
    assert api_as(mine, Role.EDITOR).delete(f"/api/prompt-templates/{mine.template.pk}/").status_code == 204
    assert Clip.objects.filter(campaign=mine.campaign).exists()


def test_a_duplicate_name_is_refused_everywhere_with_a_clear_message(editor, mine):
    response = editor.post(reverse("dashboard:prompt_create", args=[mine.campaign.pk]),
                           {"name": mine.template.name.upper(), "body": "a {colour} cube",
                            "variables_text": "colour: red"})
    assert "already has a prompt template called" in str(response.context["form"].errors["name"])
    response = api_as(mine, Role.EDITOR).post(
        "/api/caption-templates/", {"campaign": mine.campaign.pk, "name": mine.caption.name, "body": "hi"},
        format="json",
    )
    assert response.status_code == 400 and "already has a caption template called" in str(response.json())
    with pytest.raises(ValidationError, match="already has a caption template"):
        CaptionTemplate(campaign=mine.campaign, name=mine.caption.name, body="x").full_clean()
    # Another campaign may use the name, and saving a template under its own name is fine.
    CaptionTemplateFactory(name=mine.caption.name)
    mine.caption.full_clean()


def test_the_database_refuses_a_duplicate_even_without_validation(mine):
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptTemplateFactory(campaign=mine.campaign, name=mine.template.name.lower())
