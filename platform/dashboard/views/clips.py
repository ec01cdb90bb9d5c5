"""The gallery: clip cards with live progress, retry, cancel, approve/reject and filters."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from campaigns.models import Campaign, PromptTemplate
from dashboard.forms.conversation import CommentForm
from dashboard.preview import messages_of
from dashboard.workspace import page, scoped, workspace_view
from generation import services
from generation.costs import attach_forecasts
from generation.models import Clip, ClipStatus, ReviewStatus
from publishing.models import AccountStatus, XAccount

PAGE_SIZE = 24
MAX_POLLED = 100
ACTIVE = (ClipStatus.QUEUED, ClipStatus.RENDERING)


def _clips(request: HttpRequest):
    return scoped(Clip, request).select_related("campaign", "prompt_template")


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@workspace_view()
def clip_list(request: HttpRequest) -> HttpResponse:
    clips = _clips(request)
    filters = {
        "campaign": _int(request.GET.get("campaign")),
        "template": _int(request.GET.get("template")),
        "status": request.GET.get("status") if request.GET.get("status") in ClipStatus.values else "",
        "review": request.GET.get("review") if request.GET.get("review") in ReviewStatus.values else "",
    }
    if filters["campaign"]:
        clips = clips.filter(campaign_id=filters["campaign"])
    if filters["template"]:
        clips = clips.filter(prompt_template_id=filters["template"])
    if filters["status"]:
        clips = clips.filter(status=filters["status"])
    if filters["review"]:
        clips = clips.filter(review_status=filters["review"])
    page_obj = Paginator(clips, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_forecasts(page_obj.object_list)
    campaigns = scoped(Campaign, request).only("pk", "name", "status")
    templates = scoped(PromptTemplate, request).select_related("campaign").only("pk", "name", "campaign__name")
    if filters["campaign"]:
        templates = templates.filter(campaign_id=filters["campaign"])
    return page(
        request, "dashboard/clips/list.html",
        {
            "page_obj": page_obj, "clips": page_obj.object_list, "filters": filters, "campaigns": campaigns,
            "templates": templates, "statuses": ClipStatus.choices, "reviews": ReviewStatus.choices,
            "polling": any(clip.status in ACTIVE for clip in page_obj.object_list),
            "bulk_accounts": scoped(XAccount, request).filter(status=AccountStatus.ACTIVE).only("pk", "handle"),
        },
    )


@workspace_view()
def clip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return clip_page(request, get_object_or_404(_clips(request).select_related("reviewed_by"), pk=pk))


def clip_page(request: HttpRequest, clip: Clip, comment_form: CommentForm | None = None,
              status: int = 200) -> HttpResponse:
    attach_forecasts([clip])
    posts = clip.posts.select_related("x_account").order_by("-scheduled_at")
    return page(
        request, "dashboard/clips/detail.html",
        {"clip": clip, "posts": posts, "polling": clip.status in ACTIVE, "detail": True,
         "notes": clip.notes.select_related("author"), "comment_form": comment_form or CommentForm()},
        status=status,
    )


@workspace_view()
@require_GET
def clip_progress(request: HttpRequest) -> HttpResponse:
    """Fresh cards for the clips a page is watching, swapped in out-of-band; 286 tells htmx to stop polling."""
    ids = [i for i in (_int(raw) for raw in request.GET.getlist("ids")[:MAX_POLLED]) if i]
    clips = attach_forecasts(list(_clips(request).filter(pk__in=ids)))
    polling = any(clip.status in ACTIVE for clip in clips)
    response = page(
        request, "dashboard/clips/_progress.html",
        {"clips": clips, "polling": polling, "detail": request.GET.get("detail") == "1"},
    )
    if not polling:
        response.status_code = 286
    return response


def _after_action(request: HttpRequest, clip: Clip) -> HttpResponse:
    """htmx gets the fresh card (and a poller if the clip is rendering again); a plain form goes back."""
    if request.htmx:
        clip = _clips(request).get(pk=clip.pk)
        return page(
            request, "dashboard/clips/_card_response.html",
            {
                "clip": clip, "polling": clip.status in ACTIVE, "detail": request.POST.get("detail") == "1",
                # Shown in the card itself; left in the session they would pop up on some later page.
                "flash": list(messages.get_messages(request)),
            },
        )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("dashboard:clip", pk=clip.pk)


@workspace_view()
@require_POST
def clip_retry(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(_clips(request), pk=pk)
    try:
        retried = services.retry_clip(clip)
    except ValidationError as exc:  # over the workspace's render quota
        messages.error(request, messages_of(exc))
        return _after_action(request, clip)
    if retried:
        messages.success(request, f"Clip {clip.pk} is queued again with the same seed and settings.")
    else:
        messages.error(request, f"Clip {clip.pk} is {clip.get_status_display().lower()}: only a failed or "
                                "cancelled clip can be retried.")
    return _after_action(request, clip)


@workspace_view()
@require_POST
def clip_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(_clips(request), pk=pk)
    if services.cancel_clip(clip):
        messages.success(request, f"Clip {clip.pk} cancelled (a render in progress stops at its next step).")
    else:
        messages.error(request, f"Clip {clip.pk} has already finished: nothing to cancel.")
    return _after_action(request, clip)


@workspace_view(write=Role.REVIEWER)
@require_POST
def clip_review(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(_clips(request), pk=pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        messages.error(request, "Choose Approve or Reject.")
        return _after_action(request, clip)
    try:
        services.review_clip(clip, request.user, approve=decision == "approve")
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
    else:
        messages.success(request, f"Clip {clip.pk} {'approved' if decision == 'approve' else 'rejected'}.")
    return _after_action(request, clip)
