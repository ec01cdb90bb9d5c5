"""Marketer-facing pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Workspace
from campaigns.models import Campaign


@login_required
def home(request: HttpRequest) -> HttpResponse:
    workspaces = list(Workspace.objects.for_user(request.user))
    workspace = workspaces[0] if workspaces else None
    campaigns = Campaign.objects.for_workspace(workspace).visible() if workspace else Campaign.objects.none()
    return render(
        request,
        "dashboard/home.html",
        {"workspaces": workspaces, "workspace": workspace, "campaigns": campaigns},
    )
