"""Campaign list with counts in a constant number of queries; create, edit, archive; posting slots."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus, PostingSlot
from generation.models import ClipStatus
from tests.factories import CampaignFactory, PromptTemplateFactory
from tests.worlds import make_clip

pytestmark = pytest.mark.django_db


def campaign_form(**overrides) -> dict:
    data = {
        "name": "Spring launch", "status": "active", "timezone": "Europe/Paris", "approval_required": "on",
        "frames": 8, "fps": 8, "width": 64, "height": 64, "output_width": 720, "output_height": 720, "steps": 20,
        "guidance": 7.5, "negative_prompt": "",
    }
    return {**data, **overrides}


def test_the_list_shows_status_and_clip_and_post_counts(editor, mine):
    response = editor.get(reverse("dashboard:campaigns"))
    campaign = response.context["campaigns"].get(pk=mine.campaign.pk)
    assert (campaign.clip_count, campaign.active_clip_count, campaign.approved_clip_count) == (5, 2, 1)
    assert (campaign.scheduled_post_count, campaign.posted_post_count) == (1, 0)
    assert mine.campaign.get_status_display() in response.content.decode()


def test_the_list_makes_the_same_number_of_queries_for_many_campaigns(editor, mine):
    url = reverse("dashboard:campaigns")
    editor.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        editor.get(url)
    for _ in range(6):
        campaign = CampaignFactory(workspace=mine.workspace)
        template = PromptTemplateFactory(campaign=campaign)
        make_clip(campaign, template, status=ClipStatus.SUCCEEDED)
    with CaptureQueriesContext(connection) as many:
        response = editor.get(url)
    assert len(response.context["campaigns"]) == 7
    assert len(many) == len(few)


def test_archived_campaigns_are_hidden_unless_asked_for(editor, mine):
    archived = CampaignFactory(workspace=mine.workspace, name="Old winter sale", status=CampaignStatus.ARCHIVED)
    assert archived.name not in editor.get(reverse("dashboard:campaigns")).content.decode()
    assert archived.name in editor.get(reverse("dashboard:campaigns") + "?status=archived").content.decode()


def test_an_editor_creates_a_campaign_in_the_current_workspace(editor, mine):
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form())
    campaign = Campaign.objects.get(name="Spring launch")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:campaign", args=[campaign.pk])
    assert campaign.workspace == mine.workspace and campaign.timezone == "Europe/Paris"
    assert campaign.approval_required is True


def test_invalid_settings_come_back_as_form_errors(editor):
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form(name="", timezone="Mars/Base"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "timezone" in form.errors
    assert not Campaign.objects.filter(timezone="Mars/Base").exists()


def test_an_editor_edits_and_archives_a_campaign(editor, mine):
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    assert editor.post(url, campaign_form(name="Renamed", approval_required="")).status_code == 302
    mine.campaign.refresh_from_db()
    assert mine.campaign.name == "Renamed" and mine.campaign.approval_required is False
    response = editor.post(reverse("dashboard:campaign_archive", args=[mine.campaign.pk]))
    assert response.status_code == 302
    mine.campaign.refresh_from_db()
    assert mine.campaign.status == CampaignStatus.ARCHIVED


def test_posting_slots_are_added_and_removed(editor, mine):
    url = reverse("dashboard:slot_add", args=[mine.campaign.pk])
    editor.post(url, {"weekday": 0, "local_time": "09:30"})
    slot = PostingSlot.objects.get(campaign=mine.campaign)
    assert (slot.weekday, slot.local_time.strftime("%H:%M")) == (0, "09:30")
    response = editor.post(url, {"weekday": 0, "local_time": "09:30"}, follow=True)
    assert "already has that slot" in response.content.decode()
    editor.post(reverse("dashboard:slot_delete", args=[slot.pk]))
    assert not PostingSlot.objects.filter(campaign=mine.campaign).exists()


def test_the_campaign_page_shows_templates_slots_and_counts(viewer, mine):
    body = viewer.get(reverse("dashboard:campaign", args=[mine.campaign.pk])).content.decode()
    assert mine.template.name in body and mine.caption.name in body
    assert "Generate clips" not in body  # viewers see no editing controls
