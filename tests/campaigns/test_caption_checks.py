"""Caption templates are checked when saved, like prompt templates: declared variables only, and no grid value may
push the caption over X's 280 weighted characters (the worst case is shown)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from campaigns.caption_bounds import MAX_ENUMERATED, worst_case
from campaigns.models import CaptionTemplate
from tests.factories import CampaignFactory, MembershipFactory, PromptTemplateFactory, UserFactory

pytestmark = pytest.mark.django_db
LONG = "a very long and elaborate ultramarine"  # 37 characters, against "red"


@pytest.fixture
def campaign():
    campaign = CampaignFactory()
    PromptTemplateFactory(campaign=campaign, name="Shapes", body="a {colour} {shape}",
                          variables={"colour": ["red", LONG], "shape": ["circle", "big square"]})
    return campaign


def editor_of(campaign) -> MembershipFactory:
    return MembershipFactory(workspace=campaign.workspace, role=Role.EDITOR, user=UserFactory()).user


def test_an_undeclared_variable_is_refused_at_save(campaign):
    caption = CaptionTemplate(campaign=campaign, name="Moody", body="Feeling {mood} about {colour}")
    with pytest.raises(ValidationError, match=r"Unknown variable\(s\) \{mood\}"):
        caption.full_clean()


def test_prompt_and_the_templates_variables_are_allowed(campaign):
    CaptionTemplate(campaign=campaign, name="Ok", body="{prompt}: the {colour} one", hashtags="#shapes").full_clean()


def test_a_literal_caption_over_280_is_refused_with_its_length(campaign):
    caption = CaptionTemplate(campaign=campaign, name="Essay", body="x" * 410)
    with pytest.raises(ValidationError, match=r"Caption can be 410/280 weighted characters.*Shorten it by 130"):
        caption.full_clean()


def test_the_longest_grid_value_is_the_worst_case_shown(campaign):
    # 250 + " " + colour: "red" gives 254 (fits), the long colour gives 288.
    body = "y" * 250 + " {colour}"
    caption = CaptionTemplate(campaign=campaign, name="Edge", body=body)
    with pytest.raises(ValidationError) as raised:
        caption.full_clean()
    message = raised.value.message_dict["body"][0]
    assert "288/280" in message and f"colour={LONG}" in message and "“Shapes”" in message
    assert f"{'y' * 250} {LONG}”" in message


def test_prompt_counts_with_the_prompt_each_grid_value_renders(campaign):
    body = "z" * 240 + " {prompt}"  # "a red circle" fits, "a <LONG> square" does not
    with pytest.raises(ValidationError, match=r"291/280 weighted characters with colour=.*, shape=big square"):
        CaptionTemplate(campaign=campaign, name="P", body=body).full_clean()


def test_hashtags_count_toward_the_worst_case(campaign):
    caption = CaptionTemplate(campaign=campaign, name="Tags", body="x" * 270, hashtags="#abcdefgh #ijk")
    with pytest.raises(ValidationError, match="285/280"):
        caption.full_clean()


def test_a_grid_too_big_to_enumerate_is_bounded_by_each_variables_longest_value():
    campaign = CampaignFactory()
    values = [f"v{i:03d}" for i in range(99)] + ["w" * 60]
    PromptTemplateFactory(campaign=campaign, name="Big", body="{a} {b}",
                          variables={"a": values, "b": values})
    assert len(values) ** 2 > MAX_ENUMERATED
    caption = CaptionTemplate(campaign=campaign, name="Big", body="q" * 160 + " {a} {b}")
    worst = worst_case(caption, list(campaign.prompt_templates.all()))
    assert worst.weighted_length == 160 + 1 + 60 + 1 + 60 and not worst.exact
    with pytest.raises(ValidationError, match="each variable at its longest value"):
        caption.full_clean()


def test_the_api_refuses_both_with_a_400(campaign):
    client = APIClient()
    client.force_authenticate(editor_of(campaign))
    response = client.post("/api/caption-templates/", {"campaign": campaign.pk, "name": "M", "body": "{mood}"},
                           format="json")
    assert response.status_code == 400 and "{mood}" in str(response.json())
    response = client.post("/api/caption-templates/", {"campaign": campaign.pk, "name": "L", "body": "x" * 410},
                           format="json")
    assert response.status_code == 400 and "410/280" in str(response.json())
    assert not CaptionTemplate.objects.filter(campaign=campaign).exists()


def test_the_dashboard_editor_shows_the_error_on_the_caption_field(campaign):
    client = Client()
    client.force_login(editor_of(campaign))
    response = client.post(reverse("dashboard:caption_create", args=[campaign.pk]),
                           {"name": "L", "body": "y" * 250 + " {colour}", "hashtags": ""})
    assert response.status_code == 200
    assert "288/280" in str(response.context["form"].errors["body"])
    assert not CaptionTemplate.objects.filter(campaign=campaign).exists()
