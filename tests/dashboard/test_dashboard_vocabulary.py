"""The dashboard shows the model's words where prompts are written and warns (never refuses) about others."""

from __future__ import annotations

from django.urls import reverse

from generation.models import Clip


def test_the_prompt_editor_lists_the_models_vocabulary(editor, mine):
    page = editor.get(reverse("dashboard:prompt_create", args=[mine.campaign.pk])).content.decode()
    assert 'id="model-vocabulary"' in page
    assert "red, green, blue, yellow, cyan, magenta, white, black" in page
    assert "moving left, moving right" in page


def test_the_live_preview_warns_while_typing(editor, mine):
    answer = editor.post(reverse("dashboard:template_preview", args=[mine.campaign.pk]), {
        "kind": "prompt", "body": "a {animal} surfing at sunset", "variables_text": "animal: cat, red circle",
    })
    assert "vocabulary-warning" in answer.content.decode()
    assert "“surfing”" in answer.content.decode()


def test_saving_such_a_template_succeeds_with_a_warning(editor, mine):
    answer = editor.post(reverse("dashboard:prompt_create", args=[mine.campaign.pk]), {
        "name": "Cats", "body": "a {animal} surfing at sunset", "variables_text": "animal: cat",
    }, follow=True)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Prompt template “Cats” saved." in page
    assert "was never trained on “surfing”, “at”, “sunset”, “cat”" in page


def test_the_generate_page_warns_before_anything_renders(editor, mine):
    mine.template.variables = {**mine.template.variables, "colour": ["red", "orange"]}
    mine.template.save()
    page = editor.get(reverse("dashboard:generate", args=[mine.campaign.pk])).content.decode()
    assert "vocabulary-warning" in page and "“orange”" in page


def test_a_flagged_clip_says_so_on_its_card_and_page(editor, mine):
    Clip.objects.filter(pk=mine.approved.pk).update(out_of_vocabulary=["cat", "surfing"])
    page = editor.get(reverse("dashboard:clip", args=[mine.approved.pk])).content.decode()
    assert f'id="clip-{mine.approved.pk}-oov"' in page and "Unknown to the model: cat, surfing" in page
    assert "Words the model does not know" in page
    gallery = editor.get(reverse("dashboard:clips")).content.decode()
    assert f'id="clip-{mine.approved.pk}-oov"' in gallery
