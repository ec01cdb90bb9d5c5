"""Campaigns over the API, served here rather than by campaigns: archiving one (DELETE) cancels its scheduled posts
and stops its running experiments, as the dashboard's Archive does, and campaigns knows nothing of posts."""

from __future__ import annotations

from campaigns.api.views import CampaignViewSet
from campaigns.models import Campaign
from publishing.services import archive_campaign


class ArchivingCampaignViewSet(CampaignViewSet):
    def perform_destroy(self, campaign: Campaign) -> None:
        # "Delete" archives, so nothing posted loses its history; what has not gone out yet is cancelled.
        archive_campaign(campaign)
