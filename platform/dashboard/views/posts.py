"""Scheduling approved clips, the posts list, and a post's page (reschedule, cancel, metrics)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.models import Role
from campaigns.models import Campaign, CaptionTemplate
from dashboard.forms.posts import RescheduleForm, ScheduleForm
from dashboard.preview import messages_of
from dashboard.workspace import page, scoped, workspace_view
from generation.costs import attach_forecasts
from generation.models import Clip
from publishing import services
from publishing.captions import measure
from publishing.metrics import METRIC_KEYS, METRIC_LABELS
from publishing.models import Post, PostStatus
from publishing.preview import post_preview
from publishing.scheduling import local_to_utc, utc_to_local

PAGE_SIZE = 50


GOES_OUT = ("it goes out within a minute, or later if the account posted moments ago (its spacing between posts "
            "applies).")


def _when_text(post: Post) -> str:
    tz = post.clip.campaign.timezone
    return f"{utc_to_local(post.scheduled_at, tz):%a %-d %b %Y, %H:%M} ({tz})"


@workspace_view(read=Role.EDITOR)
def schedule(request: HttpRequest, clip_pk: int) -> HttpResponse:
    clip = get_object_or_404(scoped(Clip, request).select_related("campaign"), pk=clip_pk)
    tz_name = clip.campaign.timezone
    kwargs = {"workspace": request.workspace, "tz_name": tz_name, "campaign": clip.campaign}
    if request.method == "POST" and request.POST.get("action") == "use_template":
        # The caption template picker changed: refill the caption from the picked template, keep the rest.
        picked = ScheduleForm(request.POST, **kwargs)
        picked.is_valid()
        template = picked.cleaned_data.get("caption_template")
        form = ScheduleForm(initial={**request.POST.dict(), **_fill_caption(request, clip, template)}, **kwargs)
    else:
        template = clip.campaign.default_caption_template()
        form = ScheduleForm(request.POST or None, initial=_fill_caption(request, clip, template), **kwargs)
    form.fields["caption_template"].widget.attrs["hx-post"] = request.path
    if request.method == "POST" and request.POST.get("action") != "use_template" and form.is_valid():
        account, caption = form.cleaned_data["account"], form.cleaned_data["caption"]
        try:
            if form.template_changed():
                caption = services.caption_for(clip, form.cleaned_data["caption_template"])
            if request.POST.get("action") == "queue":
                post = services.add_to_queue(clip, account, caption)
            elif request.POST.get("action") == "now":
                post = services.post_now(clip, account, caption)
            else:
                post = services.schedule_post_local(clip, account, caption, form.cleaned_data["when"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if request.POST.get("action") == "now":
                messages.success(request, f"Posting now on @{account.handle}: {GOES_OUT}")
            else:
                messages.success(request, f"Scheduled on @{account.handle} for {_when_text(post)}.")
            for warning in services.caption_warnings(post) + services.clip_warnings(post):
                messages.warning(request, warning)
            return redirect("dashboard:post", pk=post.pk)
    caption = form["caption"].value() or ""
    problem = None
    try:
        if form.fields["account"].queryset.exists():
            services.check_postable(clip, form.fields["account"].queryset.first())
        else:
            problem = "This workspace has no active X account: an owner can add one under Accounts."
    except ValidationError as exc:
        problem = messages_of(exc)
    return page(
        request, "dashboard/posts/schedule.html",
        {
            "clip": clip, "form": form, "counter": measure(caption), "problem": problem, "tz_name": tz_name,
            "has_slots": clip.campaign.posting_slots.exists(),
            "preview": post_preview(clip, caption, _preview_handle(form)),
        },
    )


def _preview_handle(form: ScheduleForm) -> str:
    """The handle the X preview shows: the picked account, else the first one offered."""
    value, accounts = str(form["account"].value() or ""), form.fields["account"].queryset
    account = accounts.filter(pk=int(value)).first() if value.isdigit() and len(value) < 10 else accounts.first()
    return account.handle if account else ""


def _fill_caption(request: HttpRequest, clip: Clip, template: CaptionTemplate | None) -> dict[str, str]:
    """The caption field's text from `template` (the prompt when it does not fit the clip, with a warning)."""
    try:
        caption = services.caption_for(clip, template)
    except ValidationError as exc:
        messages.warning(request, f"Caption template “{template.name}” does not fit this clip ({messages_of(exc)}); "
                                  "starting from the prompt instead.")
        return {"caption": clip.prompt, "caption_from": "", "caption_template": ""}
    chosen = str(template.pk) if template else ""
    return {"caption": caption, "caption_from": chosen, "caption_template": chosen}


@workspace_view()
def post_list(request: HttpRequest) -> HttpResponse:
    """Upcoming posts soonest first, then past ones newest first: each list reads in the order a marketer scans."""
    posts = scoped(Post, request).select_related("clip__campaign", "x_account")
    status = request.GET.get("status") if request.GET.get("status") in PostStatus.values else ""
    campaign_id = request.GET.get("campaign", "")
    if status:
        posts = posts.filter(status=status)
    if campaign_id.isdigit():
        posts = posts.filter(clip__campaign_id=int(campaign_id))
    upcoming = posts.exclude(status__in=FINAL_STATUSES).order_by("scheduled_at", "pk")
    past = posts.filter(status__in=FINAL_STATUSES).order_by("-scheduled_at", "-pk")
    upcoming_page = Paginator(upcoming, PAGE_SIZE).get_page(request.GET.get("upcoming_page"))
    page_obj = Paginator(past, PAGE_SIZE).get_page(request.GET.get("page"))
    return page(
        request, "dashboard/posts/list.html",
        {
            "page_obj": page_obj, "upcoming_page": upcoming_page,
            "posts": [*upcoming_page.object_list, *page_obj.object_list],
            "status": status, "statuses": PostStatus.choices,
            "campaign_id": int(campaign_id) if campaign_id.isdigit() else None,
            "campaigns": scoped(Campaign, request).only("pk", "name"),
        },
    )


def _post(request: HttpRequest, pk: int) -> Post:
    return get_object_or_404(
        scoped(Post, request).select_related("clip__campaign", "clip__prompt_template", "x_account"), pk=pk
    )


@workspace_view()
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    attach_forecasts([post.clip])
    tz_name = post.clip.campaign.timezone
    form = RescheduleForm(
        initial={"when": utc_to_local(post.scheduled_at, tz_name).replace(tzinfo=None), "caption": post.caption},
        tz_name=tz_name,
    )
    return _post_page(request, post, form)


FINAL_STATUSES = (PostStatus.POSTED, PostStatus.FAILED, PostStatus.CANCELLED)


@workspace_view()
def post_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live status box of a post's page; 286 stops htmx polling once the post can no longer change."""
    post = get_object_or_404(scoped(Post, request), pk=pk)
    final = post.status in FINAL_STATUSES
    context = {"post": post, "post_final": final}
    return page(request, "dashboard/posts/_status.html", context, status=286 if final else 200)


def _post_page(request: HttpRequest, post: Post, form: RescheduleForm, status: int = 200) -> HttpResponse:
    metrics = [(METRIC_LABELS[key], (post.metrics or {}).get(key)) for key in METRIC_KEYS]
    return page(
        request, "dashboard/posts/detail.html",
        {
            "post": post, "form": form, "tz_name": post.clip.campaign.timezone,
            "counter": measure(form["caption"].value() or ""), "metrics": metrics,
            "editable": post.status == PostStatus.SCHEDULED, "post_final": post.status in FINAL_STATUSES,
        },
        status=status,
    )


@workspace_view()
@require_POST
def post_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    attach_forecasts([post.clip])
    tz_name = post.clip.campaign.timezone
    form = RescheduleForm(request.POST, tz_name=tz_name)
    if form.is_valid():
        try:
            moved = services.reschedule_post(
                post, local_to_utc(form.cleaned_data["when"], tz_name), form.cleaned_data["caption"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if moved:
                post.refresh_from_db()
                messages.success(request, f"Post moved to {_when_text(post)}.")
                for warning in services.caption_warnings(post):
                    messages.warning(request, warning)
            else:
                messages.error(request, "This post has already started going out (or was cancelled): it can no "
                                        "longer be changed.")
            return redirect("dashboard:post", pk=post.pk)
    return _post_page(request, post, form)


@workspace_view()
@require_POST
def post_publish_now(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    if services.publish_now(post):
        if post.x_account.queue_paused:
            messages.warning(request, f"Post {post.pk} is due now, but @{post.x_account.handle}'s queue is paused: it "
                                      "goes out when you resume the queue (Accounts → Queue).")
        else:
            messages.success(request, f"Post {post.pk} is due now on @{post.x_account.handle}: {GOES_OUT}")
    else:
        messages.error(request, "This post has already started going out (or was cancelled): only a scheduled post "
                                "can be posted now.")
    if request.POST.get("next") == "list":
        return redirect("dashboard:posts")
    return redirect("dashboard:post", pk=post.pk)


@workspace_view()
@require_POST
def post_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    if services.cancel_post(post):
        messages.success(request, "Post cancelled; the clip stays approved and can be scheduled again.")
    else:
        messages.error(request, "This post has already started going out (or was cancelled): it cannot be cancelled.")
    return redirect("dashboard:post", pk=post.pk)

