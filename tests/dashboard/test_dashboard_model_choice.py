"""A campaign picks its model among the configured keys in the dashboard; a clip's page and the API say how many
frames were asked for and rendered, and why they differ."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from generation.models import ClipStatus
from tests.worlds import make_clip

pytestmark = pytest.mark.django_db

NOTE = ("24 frames were asked for; this model cannot render that many (it renders 4k + 1 frames), so it rendered "
        "the nearest valid count, 25 (3.12 s at 8 fps).")


def campaign_form(**overrides) -> dict:
    data = {
        "name": "Spring launch", "status": "active", "timezone": "UTC", "approval_required": "on",
        "frames": 8, "fps": 8, "width": 64, "height": 64, "output_width": 720, "output_height": 720, "steps": 20,
        "guidance": 7.5, "negative_prompt": "",
    }
    return {**data, **overrides}


def test_an_editor_picks_one_of_the_configured_models(editor, settings):
    settings.CLIPCAST_MODELS = {"ltx": "Lightricks/LTX-Video", "wan": "/srv/models/wan"}
    body = editor.get(reverse("dashboard:campaign_create")).content.decode()
    assert all(f'<option value="{key}"' in body for key in ("default", "bundled", "ltx", "wan"))
    assert editor.post(reverse("dashboard:campaign_create"), campaign_form(model_key="ltx")).status_code == 302
    assert Campaign.objects.get(name="Spring launch").model_key == "ltx"


def test_a_model_that_is_not_configured_is_refused(editor, settings):
    settings.CLIPCAST_MODELS = {"ltx": "Lightricks/LTX-Video"}
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form(model_key="../etc"))
    assert response.status_code == 200 and "model_key" in response.context["form"].errors
    assert not Campaign.objects.filter(name="Spring launch").exists()


def test_saving_a_campaign_keeps_its_model_when_the_form_leaves_it_out_or_it_is_no_longer_configured(editor, mine):
    Campaign.objects.filter(pk=mine.campaign.pk).update(model_key="retired")
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    assert "retired (no longer configured)" in editor.get(url).content.decode()
    assert editor.post(url, campaign_form(name="Renamed")).status_code == 302
    assert editor.post(url, campaign_form(name="Again", model_key="retired")).status_code == 302
    mine.campaign.refresh_from_db()
    assert (mine.campaign.name, mine.campaign.model_key) == ("Again", "retired")


def test_the_clip_page_and_the_api_say_how_many_frames_were_asked_for_and_rendered(editor, mine):
    clip = make_clip(mine.campaign, mine.template, status=ClipStatus.SUCCEEDED)
    clip.frames_note = {"frames_requested": 24, "frames_rendered": 25, "notes": [NOTE]}
    clip.save(update_fields=["frames_note"])
    body = editor.get(reverse("dashboard:clip", args=[clip.pk])).content.decode()
    assert '<dd id="clip-frames">25 rendered (24 asked for)' in body and NOTE in body
    assert editor.get(f"/api/clips/{clip.pk}/").json()["frames_note"] == clip.frames_note
