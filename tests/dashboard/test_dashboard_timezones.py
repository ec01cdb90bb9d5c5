"""Canonical IANA time zones only, and the campaign form never changes a zone the user did not touch."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from campaigns.models import Campaign
from core.timezones import canonical_timezones
from tests.dashboard.test_dashboard_campaigns import campaign_form
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def submitted_zone(html: str) -> str:
    """What a browser sends for the time zone select: the selected option, else the first one."""
    select = re.search(r'<select name="timezone".*?</select>', html, re.S).group(0)
    selected = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return (selected or re.search(r'<option value="([^"]*)"', select)).group(1)


@pytest.mark.parametrize(("zone", "message"), [
    ("localtime", "not a canonical IANA time zone"),
    ("Factory", "not a canonical IANA time zone"),
    ("posixrules", "not a canonical IANA time zone"),
    ("US/Eastern", "old alias of America/New_York"),
    ("Asia/Calcutta", "old alias of Asia/Kolkata"),
    ("Etc/GMT+5", "not a canonical IANA time zone"),
])
def test_the_api_refuses_special_and_alias_zones(mine, zone, message):
    client = APIClient()
    client.force_authenticate(MembershipFactory(workspace=mine.workspace, role=Role.EDITOR, user=UserFactory()).user)
    response = client.post("/api/campaigns/", {"workspace": mine.workspace.pk, "name": "Z", "timezone": zone},
                           format="json")
    assert response.status_code == 400 and message in str(response.json()["timezone"])
    response = client.patch(f"/api/campaigns/{mine.campaign.pk}/", {"timezone": zone}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Europe/Kyiv"])
def test_canonical_zones_are_accepted(editor, zone):
    assert zone in canonical_timezones()
    response = editor.post(reverse("dashboard:campaign_create"), campaign_form(timezone=zone))
    assert response.status_code == 302 and Campaign.objects.filter(timezone=zone).exists()


def test_the_form_offers_no_special_zones(editor):
    html = editor.get(reverse("dashboard:campaign_create")).content.decode()
    for zone in ("localtime", "Factory", "US/Eastern", "Etc/GMT+5", "EST5EDT"):
        assert f'<option value="{zone}"' not in html


def test_editing_a_campaign_with_an_odd_stored_zone_shows_it_and_never_saves_another(editor, mine):
    Campaign.objects.filter(pk=mine.campaign.pk).update(timezone="localtime")  # stored before this check existed
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    html = editor.get(url).content.decode()
    assert submitted_zone(html) == "localtime"
    response = editor.post(url, campaign_form(name="Renamed", timezone=submitted_zone(html)))
    assert response.status_code == 200 and "not a canonical IANA time zone" in str(response.context["form"].errors)
    mine.campaign.refresh_from_db()
    assert mine.campaign.timezone == "localtime"  # refused with a reason, never swapped for Africa/Abidjan


def test_editing_keeps_a_canonical_zone_untouched(editor, mine):
    Campaign.objects.filter(pk=mine.campaign.pk).update(timezone="Pacific/Auckland")
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    zone = submitted_zone(editor.get(url).content.decode())
    assert editor.post(url, campaign_form(timezone=zone)).status_code == 302
    mine.campaign.refresh_from_db()
    assert mine.campaign.timezone == "Pacific/Auckland"
