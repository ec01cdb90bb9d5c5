"""Generate: grid or CSV, clip length, seed policy; the count before confirming; clips created, renders enqueued."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Clip

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def grid_form(template, **overrides) -> dict:
    data = {
        "template": template.pk, "source": "grid", "grid_colour": ["red", "blue"], "grid_shape": ["square"],
        "length": "3", "seed_policy": "increment", "seed": "100", "action": "generate",
    }
    return {**data, **overrides}


def new_clips(campaign, before: set[int]):
    return Clip.objects.filter(campaign=campaign).exclude(pk__in=before).order_by("seed")


def test_the_page_offers_each_variables_values_as_checkboxes(editor, mine):
    body = editor.get(reverse("dashboard:generate", args=[mine.campaign.pk])).content.decode()
    for value in ("red", "blue", "circle", "square"):
        assert f'value="{value}"' in body
    assert 'id="generate-clips"' in body and ">Generate</button>" in body


def test_the_count_fragment_says_how_many_clips_will_be_rendered(editor, mine):
    url = reverse("dashboard:generate_count", args=[mine.campaign.pk])
    response = editor.post(url, grid_form(mine.template, grid_shape=["circle", "square"]), **HTMX)
    assert '<strong id="clip-count-number">4</strong> clips will be rendered, 3 s each (24 frames)' in (
        response.content.decode()
    )
    response = editor.post(url, grid_form(mine.template, grid_shape=[]), **HTMX)
    assert "Tick at least one value for {shape}" in response.content.decode()


def test_generating_from_the_grid_creates_clips_and_enqueues_them_after_commit(
    editor, mine, django_capture_on_commit_callbacks
):
    before = set(Clip.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = editor.post(reverse("dashboard:generate", args=[mine.campaign.pk]), grid_form(mine.template))
    assert response.status_code == 302
    gallery = reverse("dashboard:clips") + f"?campaign={mine.campaign.pk}&template={mine.template.pk}"
    assert response["Location"] == gallery
    clips = list(new_clips(mine.campaign, before))
    assert [(c.variables, c.seed) for c in clips] == [
        ({"colour": "red", "shape": "square"}, 100), ({"colour": "blue", "shape": "square"}, 101),
    ]
    assert all(c.render_params["frames"] == 24 and c.render_params["fps"] == 8 for c in clips)
    assert clips[0].prompt == "a red square moving left on a black background"
    assert len(callbacks) == 1  # one enqueue of the whole batch, only once the rows are committed


def test_generating_from_a_csv_upload(editor, mine, django_capture_on_commit_callbacks):
    before = set(Clip.objects.values_list("pk", flat=True))
    upload = SimpleUploadedFile("rows.csv", b"colour,shape\nred,circle\nblue,circle\nblue,square\n", "text/csv")
    data = grid_form(mine.template, source="csv", csv_file=upload, length="1", seed_policy="fixed", seed="7")
    with django_capture_on_commit_callbacks(execute=False):
        response = editor.post(reverse("dashboard:generate", args=[mine.campaign.pk]), data)
    assert response.status_code == 302
    clips = list(new_clips(mine.campaign, before))
    assert len(clips) == 3 and {c.seed for c in clips} == {7}
    assert all(c.render_params["frames"] == 8 for c in clips)


def test_a_bad_csv_is_a_form_error_and_creates_nothing(editor, mine):
    before = Clip.objects.count()
    upload = SimpleUploadedFile("rows.csv", b"colour,size\nred,big\n", "text/csv")
    response = editor.post(
        reverse("dashboard:generate", args=[mine.campaign.pk]), grid_form(mine.template, source="csv", csv_file=upload)
    )
    assert response.status_code == 200
    assert "The CSV header must name exactly the template&#x27;s variables" in response.content.decode()
    assert Clip.objects.count() == before


def test_a_missing_seed_and_values_not_declared_are_refused(editor, mine):
    url = reverse("dashboard:generate", args=[mine.campaign.pk])
    response = editor.post(url, grid_form(mine.template, seed=""))
    assert "Give a seed" in str(response.context["form"].errors["seed"])
    response = editor.post(url, grid_form(mine.template, grid_colour=["purple"]))
    assert "grid_colour" in response.context["form"].errors


def test_service_validation_errors_are_shown_on_the_form(editor, mine, settings):
    settings.CLIPCAST_MAX_CLIPS_PER_BATCH = 1
    response = editor.post(reverse("dashboard:generate", args=[mine.campaign.pk]), grid_form(mine.template))
    assert response.status_code == 200
    assert "This grid makes 2 clips; the limit is 1 per batch" in response.content.decode()


def test_the_models_objections_are_shown_on_the_form(editor, mine):
    # The campaign's settings are checked against the bundled model's own configs before anything is queued.
    mine.campaign.width = 12
    mine.campaign.save(update_fields=["width"])
    before = Clip.objects.count()
    response = editor.post(reverse("dashboard:generate", args=[mine.campaign.pk]), grid_form(mine.template))
    assert response.status_code == 200
    assert "Width must be a multiple of 8 (this model&#x27;s size factor) from 8 to" in response.content.decode()
    assert Clip.objects.count() == before


def test_the_count_button_works_without_javascript(editor, mine):
    before = Clip.objects.count()
    url = reverse("dashboard:generate", args=[mine.campaign.pk])
    response = editor.post(url, grid_form(mine.template, action="count"))
    assert response.status_code == 200 and Clip.objects.count() == before
    assert '<strong id="clip-count-number">2</strong>' in response.content.decode()


def test_random_seeds_need_no_seed(editor, mine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = editor.post(
            reverse("dashboard:generate", args=[mine.campaign.pk]),
            grid_form(mine.template, seed="", seed_policy="random", grid_colour=["red"]),
        )
    assert response.status_code == 302
