from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import CampaignStatus, validate_variables
from tests.factories import CampaignFactory, CaptionTemplateFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def test_prompt_template_renders_declared_values():
    template = PromptTemplateFactory()
    assert template.render({"colour": "red", "shape": "square"}) == "a red square moving left on a black background"


def test_prompt_template_refuses_an_unknown_variable_in_its_body():
    template = PromptTemplateFactory.build(body="a {colour} {size} thing", variables={"colour": ["red"]})
    with pytest.raises(ValidationError, match=r"\{size\}"):
        template.clean()


def test_prompt_template_names_a_missing_value():
    template = PromptTemplateFactory()
    with pytest.raises(ValidationError, match=r"Missing value\(s\) for \{shape\}"):
        template.render({"colour": "red"})


def test_prompt_template_refuses_undeclared_names_and_values():
    template = PromptTemplateFactory()
    with pytest.raises(ValidationError, match=r"\{speed\}"):
        template.render({"colour": "red", "shape": "square", "speed": "fast"})
    with pytest.raises(ValidationError, match="not a value of"):
        template.render({"colour": "purple", "shape": "square"})


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ([], "must be an object"),
        ({"colour": []}, "non-empty list"),
        ({"colour": "red"}, "non-empty list"),
        ({"bad name": ["x"]}, "invalid"),
        ({"colour": ["red", "red"]}, "twice"),
        ({"colour": [""]}, "non-empty text"),
    ],
)
def test_variables_are_validated(variables, message):
    with pytest.raises(ValidationError, match=message):
        validate_variables(variables)


def test_full_clean_runs_the_template_checks():
    template = PromptTemplateFactory.build(body="{a.b}", variables={"a": ["x"]})
    template.campaign.workspace.save()
    template.campaign.save()
    with pytest.raises(ValidationError):
        template.full_clean()


def test_caption_template_appends_normalised_hashtags():
    caption = CaptionTemplateFactory()
    assert caption.render({"colour": "red", "shape": "circle"}) == "Look at this red circle! #clipcast #ai"


def test_campaign_archive_hides_it_from_visible():
    campaign = CampaignFactory()
    campaign.archive()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ARCHIVED
    assert not type(campaign).objects.visible().filter(pk=campaign.pk).exists()


def test_campaign_timezone_must_exist():
    campaign = CampaignFactory.build(timezone="Mars/Olympus_Mons")
    campaign.workspace.save()
    with pytest.raises(ValidationError, match="time zone"):
        campaign.full_clean()


def test_templates_at_the_caps_are_accepted_and_past_them_refused():
    from campaigns.models import MAX_TEMPLATE_COMBINATIONS, MAX_VALUES_PER_VARIABLE, MAX_VARIABLES_PER_TEMPLATE

    def values(n: int) -> list[str]:
        return [str(i) for i in range(n)]

    validate_variables({f"v{i}": ["x"] for i in range(MAX_VARIABLES_PER_TEMPLATE)})
    assert MAX_TEMPLATE_COMBINATIONS == 100 * 100 * 10
    validate_variables({"a": values(MAX_VALUES_PER_VARIABLE), "b": values(100), "c": values(10)})
    with pytest.raises(ValidationError, match="21 variables; the limit is 20"):
        validate_variables({f"v{i}": ["x"] for i in range(MAX_VARIABLES_PER_TEMPLATE + 1)})
    with pytest.raises(ValidationError, match="101 values; the limit is 100"):
        validate_variables({"a": values(MAX_VALUES_PER_VARIABLE + 1)})
    with pytest.raises(ValidationError, match=r"110,000 combinations \(100 x 100 x 11\); the limit is 100,000"):
        validate_variables({"a": values(100), "b": values(100), "c": values(11)})
