"""The marketer's week (#43): an account's queue (reorder, pause, resume, post the next now), a post created from
an empty calendar slot, bulk actions on gallery clips, the X preview of a post and the CSV export.

Dragging (calendar moves, queue reorders) is done by dashboard/static/dashboard/planner.js through the REST API;
every other action here is a plain form, so it works without JavaScript too."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.models import Role
from campaigns.models import Campaign
from dashboard.forms.planner import BulkForm, SlotPostForm
from dashboard.preview import messages_of
from dashboard.workspace import page, scoped, workspace_view
from generation.models import Clip
from publishing import bulk, queue, services
from publishing.export import MAX_EXPORT_ROWS, export_rows, to_csv
from publishing.models import Post, PostStatus, XAccount
from publishing.preview import post_preview
from publishing.scheduling import utc_to_local


def _id(raw: str | None) -> int | None:
    """A primary key from a query or form value; None for anything else (too long for the column included)."""
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


def _account(request: HttpRequest, pk: int) -> XAccount:
    return get_object_or_404(scoped(XAccount, request), pk=pk)


@workspace_view()
def account_queue(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    places = queue.queue_places(account)
    tz_name = request.workspace.timezone
    for place in places:
        place.local = utc_to_local(place.at, tz_name).replace(tzinfo=None)
        place.fill_url = _new_post_url(place.campaign, place.at) if place.empty else ""
    return page(request, "dashboard/accounts/queue.html", {
        "account": account, "places": places, "tz_name": tz_name,
        "post_count": sum(not place.empty for place in places),
    })


@workspace_view()
@require_POST
def queue_pause(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    paused = request.POST.get("paused") != "0"
    queue.set_queue_paused(account, paused)
    if paused:
        messages.success(request, f"@{account.handle}'s queue is paused: its posts stay scheduled, but none goes out "
                                  "until you resume it.")
    else:
        messages.success(request, f"@{account.handle}'s queue is running again. Posts that fell due meanwhile go out "
                                  "spaced; those later than its maximum lateness are skipped.")
    return redirect("dashboard:account_queue", pk=account.pk)


@workspace_view()
@require_POST
def queue_post_next(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    try:
        post = queue.post_next_now(account)
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
    else:
        messages.success(request, f"Post {post.pk} is due now on @{account.handle}: it goes out within a minute.")
    return redirect("dashboard:account_queue", pk=account.pk)


@workspace_view()
@require_POST
def queue_move(request: HttpRequest, pk: int) -> HttpResponse:
    """The keyboard's way to reorder: swap a post with the one before or after it."""
    post = get_object_or_404(scoped(Post, request).select_related("x_account"), pk=pk)
    direction = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if direction is None:
        messages.error(request, "Choose to move the post up or down.")
    else:
        try:
            if not queue.move_in_queue(post, direction):
                messages.info(request, f"Post {post.pk} is already {'first' if direction < 0 else 'last'}.")
        except ValidationError as exc:
            messages.error(request, messages_of(exc))
    return redirect("dashboard:account_queue", pk=post.x_account_id)


def _new_post_url(campaign: Campaign | None, at: datetime) -> str:
    query = {"at": at.isoformat()}
    if campaign is not None:
        query["campaign"] = campaign.pk
    return reverse("dashboard:calendar_new") + "?" + urlencode(query)


@workspace_view(read=Role.EDITOR)
def slot_post(request: HttpRequest) -> HttpResponse:
    """A post created from an empty slot of the calendar or the queue: pick an approved clip and a caption template."""
    campaigns = scoped(Campaign, request).visible()
    campaign_id = _id(request.POST.get("campaign") or request.GET.get("campaign"))
    campaign = campaigns.filter(pk=campaign_id).first() if campaign_id else None
    if campaign is None:
        return page(request, "dashboard/calendar/slot_post.html", {"campaigns": campaigns, "campaign": None,
                                                                   "query": request.GET.urlencode()})
    form = SlotPostForm(request.POST or None, workspace=request.workspace, campaign=campaign,
                        initial=SlotPostForm.initial_for(campaign, request.GET))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            caption = services.caption_for(data["clip"], data["caption_template"])
            post = services.schedule_post_local(data["clip"], data["account"], caption, data["when"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Scheduled clip {post.clip_id} on @{post.x_account.handle} for "
                                      f"{data['when']:%a %-d %b %Y, %H:%M} ({campaign.timezone}).")
            for warning in services.caption_warnings(post):
                messages.warning(request, warning)
            week = utc_to_local(post.scheduled_at, campaign.timezone).date()
            return redirect(reverse("dashboard:calendar") + "?" + urlencode({"date": week.isoformat(),
                                                                             "campaign": campaign.pk}))
    return page(request, "dashboard/calendar/slot_post.html", {"form": form, "campaign": campaign,
                                                               "campaigns": campaigns})


@workspace_view(write=Role.REVIEWER)
@require_POST
def clip_bulk(request: HttpRequest) -> HttpResponse:
    """Approve, reject, queue or schedule many clips; the answer lists what happened to each."""
    form = BulkForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(request.POST.get("next") if _safe_next(request) else "dashboard:clips")
    data = form.cleaned_data
    wanted = data["clips"]
    found = {clip.pk: clip for clip in scoped(Clip, request).filter(pk__in=wanted).select_related("campaign")}
    action = bulk.BulkAction(data["action"])
    try:
        outcomes = bulk.act_on_clips(request.user, [found[pk] for pk in wanted if pk in found], action,
                                     data.get("account"), starting=data.get("starting_at"))
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return redirect("dashboard:clips")
    outcomes += [bulk.Outcome(pk, False, "Not found in this workspace.") for pk in wanted if pk not in found]
    return page(request, "dashboard/clips/bulk_result.html", {
        "outcomes": outcomes, "action": dict(form.fields["action"].choices)[action.value],
        "done": sum(o.done for o in outcomes), "skipped": sum(not o.done for o in outcomes),
        "back": request.POST.get("next") if _safe_next(request) else "",
    })


def _safe_next(request: HttpRequest) -> bool:
    return request.POST.get("next", "").startswith("/") and not request.POST.get("next", "").startswith("//")


@workspace_view()
@require_POST
def post_preview_panel(request: HttpRequest, clip_pk: int) -> HttpResponse:
    """The X preview of the schedule page, refreshed as the caption is typed (htmx)."""
    clip = get_object_or_404(scoped(Clip, request).select_related("campaign"), pk=clip_pk)
    wanted = _id(request.POST.get("account"))
    account = scoped(XAccount, request).filter(pk=wanted).first() if wanted else None
    return page(request, "dashboard/posts/_x_preview.html", {
        "preview": post_preview(clip, request.POST.get("caption", ""), account.handle if account else ""),
    })


@workspace_view()
def post_export(request: HttpRequest) -> HttpResponse:
    """This workspace's posts (filtered like the posts list) with their metrics, as CSV."""
    posts = scoped(Post, request).select_related("clip__campaign", "x_account")
    if request.GET.get("status") in PostStatus.values:
        posts = posts.filter(status=request.GET["status"])
    if _id(request.GET.get("campaign")):
        posts = posts.filter(clip__campaign_id=_id(request.GET["campaign"]))
    rows = export_rows(posts.order_by("scheduled_at", "pk")[:MAX_EXPORT_ROWS])
    response = HttpResponse(to_csv(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clipcast-posts-{request.workspace.slug}-{stamp}.csv"'
    return response
