"""Template editor: saving prompt/caption templates, the live preview and the weighted character counter."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import CaptionTemplate, PromptTemplate
from dashboard.forms.campaigns import format_variables, parse_variables

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def preview(client, campaign, **data):
    return client.post(reverse("dashboard:template_preview", args=[campaign.pk]), data, **HTMX)


def test_variables_are_written_one_per_line_and_read_back_the_same():
    text = "colour: red, green blue,  yellow\n\nshape: circle"
    variables = parse_variables(text)
    assert variables == {"colour": ["red", "green blue", "yellow"], "shape": ["circle"]}
    assert parse_variables(format_variables(variables)) == variables
    with_comma = {"mood": ["calm, slow", "fast"]}
    assert parse_variables(format_variables(with_comma)) == with_comma


def test_an_editor_saves_a_prompt_template_with_variables(editor, mine):
    response = editor.post(
        reverse("dashboard:prompt_create", args=[mine.campaign.pk]),
        {"name": "Spinning", "body": "a {colour} cube spinning", "variables_text": "colour: red, blue"},
    )
    assert response.status_code == 302
    template = PromptTemplate.objects.get(name="Spinning")
    assert template.campaign == mine.campaign and template.variables == {"colour": ["red", "blue"]}


def test_undeclared_placeholders_and_bad_syntax_are_form_errors(editor, mine):
    url = reverse("dashboard:prompt_create", args=[mine.campaign.pk])
    response = editor.post(url, {"name": "Bad", "body": "a {colour} {size} cube", "variables_text": "colour: red"})
    assert response.status_code == 200
    assert "declare them or remove them" in response.content.decode()
    response = editor.post(url, {"name": "Bad", "body": "a {colour.__class__}", "variables_text": "colour red"})
    errors = response.context["form"].errors
    assert "has no colon" in str(errors["variables_text"])
    assert not PromptTemplate.objects.filter(name="Bad").exists()


def test_editing_a_prompt_template_shows_its_variables_and_preview(editor, mine):
    body = editor.get(reverse("dashboard:prompt_edit", args=[mine.template.pk])).content.decode()
    assert "colour: red, blue" in body
    assert 'id="rendered-prompt">a red circle moving left on a black background' in body


def test_an_editor_saves_a_caption_template(editor, mine):
    response = editor.post(
        reverse("dashboard:caption_edit", args=[mine.caption.pk]),
        {"name": "Short", "body": "{colour}!", "hashtags": "#go"},
    )
    assert response.status_code == 302
    mine.caption.refresh_from_db()
    assert (mine.caption.name, mine.caption.body) == ("Short", "{colour}!")
    response = editor.post(
        reverse("dashboard:caption_create", args=[mine.campaign.pk]),
        {"name": "Broken", "body": "oops {", "hashtags": ""},
    )
    assert "Unmatched" in response.content.decode()
    assert not CaptionTemplate.objects.filter(name="Broken").exists()


def test_the_prompt_preview_renders_chosen_values_and_the_default_caption(editor, mine):
    response = preview(
        editor, mine.campaign, kind="prompt", body="a {colour} {shape}",
        variables_text="colour: red, blue\nshape: star", value_colour="blue",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="rendered-prompt">a blue star<' in body
    assert "Look at this blue star! #clipcast #ai" in body
    assert '<option value="blue" selected>' in body
    assert "37/280" in body and "counter over" not in body


def test_the_caption_preview_counts_weighted_characters_and_turns_red_over_280(editor, mine):
    ok = preview(editor, mine.campaign, kind="caption", body="{colour} " + "é" * 200, hashtags="", value_colour="blue")
    assert "blue" in ok.content.decode() and "205/280" in ok.content.decode()
    emoji = "\N{SPARKLES}" * 150  # emoji weigh 2 on X
    over = preview(editor, mine.campaign, kind="caption", body=emoji, hashtags="")
    text = over.content.decode()
    assert "300/280" in text and 'class="counter over"' in text and "20 too many" in text


def test_preview_errors_are_explained_not_raised(editor, mine):
    body = preview(editor, mine.campaign, kind="prompt", body="a {size}", variables_text="colour: red").content.decode()
    assert "declare them or remove them" in body
    body = preview(editor, mine.campaign, kind="caption", body="{nope}", hashtags="").content.decode()
    assert "Missing value" in body


def test_user_text_in_the_preview_is_escaped(editor, mine):
    body = preview(
        editor, mine.campaign, kind="prompt", body="<script>alert(1)</script> {colour}",
        variables_text="colour: <b>x</b>",
    ).content.decode()
    assert "<script>alert(1)</script>" not in body and "<b>x</b>" not in body
    assert "&lt;script&gt;" in body


def test_the_caption_counter_endpoint_for_the_schedule_page(editor):
    response = editor.post(reverse("dashboard:caption_counter"), {"caption": "hi https://example.com"}, **HTMX)
    assert "26/280" in response.content.decode()


@pytest.mark.parametrize("variables_text", ["colour red, blue", "colour: red\ncolour: blue", '{"colour": ["red"'])
def test_a_malformed_variables_line_gets_only_its_own_error(editor, mine, variables_text):
    url = reverse("dashboard:prompt_create", args=[mine.campaign.pk])
    response = editor.post(url, {"name": "Bad", "body": "a {colour} cube", "variables_text": variables_text})
    form = response.context["form"]
    assert list(form.errors) == ["variables_text"], form.errors
    assert "Unknown variable" not in response.content.decode()
    panel = preview(editor, mine.campaign, body="a {colour} cube", variables_text=variables_text).content.decode()
    assert "Unknown variable" not in panel and str(form.errors["variables_text"][0])[:20] in panel


def test_an_undeclared_placeholder_is_still_reported_with_well_formed_variables(editor, mine):
    url = reverse("dashboard:prompt_create", args=[mine.campaign.pk])
    response = editor.post(url, {"name": "Bad", "body": "a {colour} {size}", "variables_text": "colour: red"})
    assert "Unknown variable(s) {size}" in response.content.decode()
