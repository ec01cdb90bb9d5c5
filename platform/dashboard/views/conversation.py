"""Comments on clips, and each member's notifications."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import Notification, Role
from core.urls import reverse_pk
from dashboard.forms.conversation import CommentForm
from dashboard.views.clips import clip_page
from dashboard.workspace import page, scoped, workspace_view
from generation import conversation
from generation.models import Clip

PAGE_SIZE = 50


@workspace_view(write=Role.REVIEWER)
@require_POST
def clip_comment(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(scoped(Clip, request).select_related("campaign", "reviewed_by"), pk=pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return clip_page(request, clip, comment_form=form, status=400)
    conversation.comment_on(clip, request.user, form.cleaned_data["body"])
    messages.success(request, "Comment posted; the clip's editors are notified.")
    return redirect(reverse_pk("dashboard:clip", clip.pk) + "#conversation")


def _mine(request: HttpRequest):
    return Notification.objects.filter(user=request.user, workspace=request.workspace)


@workspace_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = Paginator(_mine(request), PAGE_SIZE).get_page(request.GET.get("page"))
    return page(request, "dashboard/notifications.html", {"page_obj": rows})


@workspace_view(write=Role.VIEWER)
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark as read and go where it points (only ever a path of this site)."""
    notification = get_object_or_404(_mine(request), pk=pk)
    _mine(request).filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None) or not target.startswith("/"):
        return redirect("dashboard:notifications")
    return redirect(target)


@workspace_view(write=Role.VIEWER)
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    marked = _mine(request).unread().update(read_at=timezone.now())
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
    return redirect("dashboard:notifications")
