"""The workspace switcher."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.workspace import switch_workspace


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    try:
        workspace_id = int(request.POST.get("workspace", ""))
    except ValueError as exc:
        raise Http404("No such workspace.") from exc
    membership = switch_workspace(request, workspace_id)
    messages.info(request, f"You are now working in {membership.workspace.name} as {membership.get_role_display()}.")
    # Back to the start: ids on the previous page belong to the other workspace and would answer 404.
    return redirect("dashboard:home")
