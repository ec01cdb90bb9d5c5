"""Caption templates: the one marked default is the one used, scheduling picks another, and the preview renders one
caption template with one prompt template's own values and prompt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing import services
from publishing.models import Post
from tests.factories import CaptionTemplateFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(mine):
    """A caption template created after mine.caption, whose name sorts first."""
    mine.caption.name = "Zeta"
    mine.caption.save()
    return CaptionTemplateFactory(campaign=mine.campaign, name="Alpha", body="{shape} in {colour}: {prompt}",
                                  hashtags="")


def when() -> str:
    return (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


def test_the_template_marked_default_is_the_one_scheduling_uses(editor, mine, second):
    page = editor.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert '<strong>Zeta</strong> <span class="chip" id="default-caption-template">default</span>' in page
    assert '<strong>Alpha</strong> <span class="chip"' not in page
    assert services.default_caption(mine.approved) == "Look at this red circle! #clipcast #ai"


def test_the_schedule_page_offers_the_campaigns_caption_templates(editor, mine, second):
    page = editor.get(reverse("dashboard:schedule", args=[mine.approved.pk])).content.decode()
    assert f'<option value="{mine.caption.pk}" selected>Zeta</option>' in page
    assert f'<option value="{second.pk}">Alpha</option>' in page


def test_picking_a_template_refills_the_caption_with_the_clips_own_values(editor, mine, second):
    answer = editor.post(reverse("dashboard:schedule", args=[mine.approved.pk]), {
        "action": "use_template", "caption_template": second.pk, "caption_from": mine.caption.pk,
        "caption": "Look at this red circle! #clipcast #ai", "account": mine.account.pk,
    })
    page = answer.content.decode()
    assert "circle in red: a red circle moving left on a black background</textarea>" in page
    assert f'<option value="{second.pk}" selected>Alpha</option>' in page
    assert not Post.objects.filter(clip=mine.approved).exclude(pk=mine.post.pk).exists()


def test_scheduling_with_a_picked_template_uses_it_even_without_a_refresh(editor, mine, second):
    # Without JavaScript the caption still holds the default template's text when the form is sent.
    editor.post(reverse("dashboard:schedule", args=[mine.approved.pk]), {
        "action": "schedule", "caption_template": second.pk, "caption_from": mine.caption.pk,
        "caption": "Look at this red circle! #clipcast #ai", "account": mine.account.pk, "when": when(),
    })
    post = Post.objects.exclude(pk=mine.post.pk).get(clip=mine.approved)
    assert post.caption == "circle in red: a red circle moving left on a black background"


def test_an_edited_caption_is_kept(editor, mine, second):
    editor.post(reverse("dashboard:schedule", args=[mine.approved.pk]), {
        "action": "schedule", "caption_template": second.pk, "caption_from": second.pk,
        "caption": "My own words", "account": mine.account.pk, "when": when(),
    })
    assert Post.objects.exclude(pk=mine.post.pk).get(clip=mine.approved).caption == "My own words"


def test_the_caption_preview_uses_one_prompt_templates_values_and_prompt(editor, mine):
    other = PromptTemplateFactory(campaign=mine.campaign, name="Moods", body="a {mood} square",
                                  variables={"mood": ["calm"]})
    answer = editor.post(reverse("dashboard:template_preview", args=[mine.campaign.pk]), {
        "kind": "caption", "body": "{prompt}!", "hashtags": "", "prompt_template": other.pk,
    })
    page = answer.content.decode()
    assert 'id="rendered-prompt">a calm square<' in page
    assert 'id="rendered-caption">a calm square!<' in page
    assert 'name="value_mood"' in page and 'name="value_colour"' not in page
    assert f'<option value="{other.pk}" selected>Moods</option>' in page


def test_the_prompt_preview_names_the_default_caption_template(editor, mine, second):
    answer = editor.post(reverse("dashboard:template_preview", args=[mine.campaign.pk]), {
        "kind": "prompt", "body": "a {colour} {shape}", "variables_text": "colour: red\nshape: star",
    })
    page = answer.content.decode()
    assert "(default template “Zeta”)" in page and "Look at this red star!" in page
