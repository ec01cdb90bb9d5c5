"""The workspace's audit log: every change, who made it and when, newest first, filtered by object, actor, action."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse

from accounts.models import AuditEvent
from dashboard.workspace import page, scoped, workspace_view

PAGE_SIZE = 50


@workspace_view()
def audit_log(request: HttpRequest) -> HttpResponse:
    events = scoped(AuditEvent, request)
    filters = {name: request.GET.get(name, "").strip() for name in ("object_type", "object_id", "actor", "action")}
    if any("\x00" in value for value in filters.values()):
        # PostgreSQL text cannot hold NUL, so no event matches (and the query would fail): show none, quietly.
        events = events.none()
    if filters["object_type"]:
        events = events.filter(object_type=filters["object_type"])
    if filters["object_id"]:
        events = events.filter(object_id=filters["object_id"])
    if filters["actor"]:
        events = events.filter(actor_name=filters["actor"])
    if filters["action"]:
        events = events.filter(action=filters["action"])
    choices = scoped(AuditEvent, request).order_by()
    page_obj = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return page(
        request, "dashboard/audit/list.html",
        {
            "page_obj": page_obj, "events": page_obj.object_list, "filters": filters,
            "object_types": choices.values_list("object_type", flat=True).distinct().order_by("object_type"),
            "actors": choices.values_list("actor_name", flat=True).distinct().order_by("actor_name"),
            "actions": choices.values_list("action", flat=True).distinct().order_by("action"),
        },
    )
