"""Calendar: week and month views of scheduled and posted posts, in the campaign's or workspace's zone."""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from campaigns.models import Campaign, CampaignStatus
from dashboard.calendar_grid import VIEWS, frame, place, place_slots
from dashboard.workspace import page, scoped, workspace_view
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.models import Post, PostStatus
from publishing.scheduling import utc_to_local

MIN_DATE, MAX_DATE = date(1970, 1, 1), date(2199, 12, 31)


@workspace_view()
def calendar(request: HttpRequest) -> HttpResponse:
    campaign = None
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit():
        campaign = get_object_or_404(scoped(Campaign, request), pk=int(campaign_id))
    tz_name = campaign.timezone if campaign else request.workspace.timezone
    today = utc_to_local(timezone.now(), tz_name).date()
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    try:
        anchor = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        anchor = today
    if not MIN_DATE <= anchor <= MAX_DATE:  # the grid's edges would overflow datetime near year 1 or 9999
        anchor = today
    grid = frame(view, anchor, tz_name, today)
    start, end = grid.utc_bounds()
    posts = (
        scoped(Post, request)
        .filter(Q(scheduled_at__gte=start, scheduled_at__lt=end) | Q(posted_at__gte=start, posted_at__lt=end))
        .exclude(status=PostStatus.CANCELLED)
        .select_related("clip__campaign", "x_account")
    )
    if campaign:
        posts = posts.filter(clip__campaign=campaign)
    posts = list(posts)
    placed = place(grid, posts)
    if view == "week":
        _place_empty_slots(request, placed, campaign, posts)
    return page(
        request, "dashboard/calendar.html",
        {
            "calendar": placed, "campaign": campaign, "tz_name": tz_name, "today": today,
            "campaigns": scoped(Campaign, request).visible().only("pk", "name"), "statuses": PostStatus.choices,
            "nothing_planned": not any(day.entries for day in placed.days),
            "empty_slot_count": sum(len(day.slots) for day in placed.days),
            **_schedule_links(request, campaign),
        },
    )


def _place_empty_slots(request: HttpRequest, grid, campaign: Campaign | None, posts: list[Post]) -> None:
    """The week's free posting slots of the shown campaigns (paused and archived ones post nothing)."""
    campaigns = [campaign] if campaign else list(
        scoped(Campaign, request).exclude(status__in=[CampaignStatus.ARCHIVED, CampaignStatus.PAUSED])
        .prefetch_related("posting_slots"))
    for shown in campaigns:
        shown.slot_times = [(slot.weekday, slot.local_time) for slot in shown.posting_slots.all()]
    taken = {(post.clip.campaign_id, post.scheduled_at) for post in posts if post.status != PostStatus.FAILED}
    place_slots(grid, campaigns, taken, timezone.now())


def _schedule_links(request: HttpRequest, campaign: Campaign | None) -> dict:
    """Where an empty day sends a marketer: clips ready and not yet scheduled, or generating some when there are none.

    Scheduling starts from a clip (its Schedule button), so the calendar links to the gallery of rendered clips.
    """
    taken = [s for s in PostStatus.values if s not in (PostStatus.FAILED, PostStatus.CANCELLED)]
    clips = (
        scoped(Clip, request).filter(status=ClipStatus.SUCCEEDED)
        .filter(Q(review_status=ReviewStatus.APPROVED) | Q(campaign__approval_required=False))
        .exclude(posts__status__in=taken)  # already scheduled or posted: not what an empty day is waiting for
    )
    query = {"status": ClipStatus.SUCCEEDED}
    if campaign:
        clips = clips.filter(campaign=campaign)
        query["campaign"] = campaign.pk
    generate_url = reverse("dashboard:generate", args=[campaign.pk]) if campaign else reverse("dashboard:campaigns")
    return {
        "schedulable_count": clips.count(),
        "schedule_url": reverse("dashboard:clips") + "?" + urlencode(query),
        "generate_url": generate_url,
    }
