"""Workspace scoping and role checks for the dashboard, written once.

The current workspace lives in the session. Every dashboard view goes through `workspace_view`, which
loads the caller's memberships in one query, picks the current one, enforces the role the request needs
(reads and writes separately) and puts `request.workspace` / `request.membership` on the request.
Objects are then fetched with `scoped(...)`, so another workspace's ids answer 404, never data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Membership, Notification, Role

SESSION_KEY = "dashboard_workspace_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def memberships_of(request: HttpRequest) -> list[Membership]:
    """The caller's memberships with their workspaces, loaded once per request."""
    cached = getattr(request, "_dashboard_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=request.user)
            .select_related("workspace")
            .order_by("workspace__name", "workspace_id")
        )
        request._dashboard_memberships = cached
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the workspace kept in the session, or the first one (then remembered)."""
    if not request.user.is_authenticated:
        return None
    memberships = memberships_of(request)
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.workspace_id == wanted:
            return membership
    if not memberships:
        return None
    request.session[SESSION_KEY] = memberships[0].workspace_id
    return memberships[0]


def switch_workspace(request: HttpRequest, workspace_id: int) -> Membership:
    """Make `workspace_id` current; a workspace the caller is not a member of does not exist (404)."""
    for membership in memberships_of(request):
        if membership.workspace_id == workspace_id:
            request.session[SESSION_KEY] = workspace_id
            return membership
    raise Http404("No such workspace.")


@dataclass(frozen=True)
class Abilities:
    """What the current role may do; templates show only the buttons the user can use."""

    review: bool
    edit: bool
    manage: bool

    @classmethod
    def of(cls, membership: Membership) -> Abilities:
        return cls(
            review=membership.has_role(Role.REVIEWER),
            edit=membership.has_role(Role.EDITOR),
            manage=membership.has_role(Role.OWNER),
        )


def forbidden(request: HttpRequest, needed: Role) -> HttpResponse:
    reason = (
        f"This needs the {needed.label.lower()} role (or higher) in this workspace; "
        "ask a workspace owner to change your role."
    )
    return render(request, "dashboard/forbidden.html", {"reason": reason, **nav_context(request)}, status=403)


def workspace_view(read: Role = Role.VIEWER, write: Role = Role.EDITOR) -> Callable:
    """Decorator: log-in, current workspace, and the role needed for reads (GET) and writes (POST...)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = current_membership(request)
            if membership is None:
                return render(request, "dashboard/no_workspace.html")
            needed = read if request.method in SAFE_METHODS else write
            request.workspace = membership.workspace
            request.membership = membership
            if not membership.has_role(needed):
                return forbidden(request, needed)
            return view(request, *args, **kwargs)

        wrapper.required_roles = (read, write)
        return wrapper

    return decorator


def scoped(model: type[models.Model], request: HttpRequest) -> models.QuerySet:
    """The model's rows in the current workspace (every tenant-owned queryset knows its workspace path)."""
    return model.objects.for_workspace(request.workspace)


SECTIONS = (
    ("campaigns", ("home", "campaign", "slot", "prompt", "caption", "template", "generate")),
    ("clips", ("clip",)),
    ("calendar", ("calendar",)),
    ("posts", ("post", "schedule")),
    ("experiments", ("experiment",)),
    ("notifications", ("notification",)),
    ("accounts", ("account", "x_")),
    ("members", ("member", "invitation_revoke")),
    ("loras", ("lora",)),
    ("invitations", ("my_invitations", "invitation_")),
    ("audit", ("audit_",)),
)


def section_of(request: HttpRequest) -> str:
    """Which navigation entry the current page belongs to (for aria-current)."""
    name = getattr(request.resolver_match, "url_name", "") or ""
    for section, prefixes in SECTIONS:
        if name.startswith(prefixes):
            return section
    return ""


def nav_context(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None) or current_membership(request)
    if membership is None:
        return {}
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "memberships": memberships_of(request),
        "can": Abilities.of(membership),
        "section": section_of(request),
        "unread_notifications": Notification.objects.filter(
            user=request.user, workspace=membership.workspace).unread().count(),
    }


def page(request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """Render a dashboard page with the navigation context (workspace switcher, role abilities)."""
    return render(request, template, {**nav_context(request), **(context or {})}, status=status)
