"""Members and invitations: owners invite and revoke; everyone answers the invitations they received."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.models import Invitation, Membership, Role
from dashboard.forms.members import InviteForm
from dashboard.workspace import SESSION_KEY, nav_context, page, scoped, workspace_view


@workspace_view(read=Role.VIEWER, write=Role.OWNER)
def member_list(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitee = form.cleaned_data["invitee"]
        services.invite(request.workspace, invitee, form.cleaned_data["role"], request.user)
        # The same words whether or not such an account exists: invitations tell nobody who uses Clipcast.
        messages.success(
            request, f"Invitation recorded for {invitee}. If they have a Clipcast account, they will find it on "
            "their dashboard (and by email) and join once they accept it.",
        )
        return redirect("dashboard:members")
    members = scoped(Membership, request).select_related("user").order_by("user__username")
    invitations = (
        scoped(Invitation, request).pending().select_related("invited_by") if request.membership.has_role(Role.OWNER)
        else Invitation.objects.none()
    )
    return page(request, "dashboard/members/list.html", {"members": members, "invitations": invitations,
                                                         "form": form})


@workspace_view(read=Role.OWNER, write=Role.OWNER)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(scoped(Invitation, request), pk=pk)
    try:
        services.revoke(invitation)
        messages.success(request, f"Invitation for {invitation.invitee} revoked; its link no longer works.")
    except services.InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("dashboard:members")


def _received(request: HttpRequest):
    return Invitation.objects.addressed_to(request.user).select_related("workspace", "invited_by")


@login_required
def my_invitations(request: HttpRequest) -> HttpResponse:
    invitations = _received(request).pending()
    return render(request, "dashboard/members/received.html", {"invitations": invitations, **nav_context(request)})


@login_required
def invitation_link(request: HttpRequest, token: str) -> HttpResponse:
    """Where the email link leads: the invitation, if it is addressed to the logged-in account."""
    invitation = _received(request).with_token(token).first()
    if invitation is None:
        raise Http404("This invitation is not addressed to this account. Log in as the invited account.")
    return render(request, "dashboard/members/received.html", {"invitations": [invitation], "single": True,
                                                                **nav_context(request)})


@login_required
@require_POST
def invitation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    if not _received(request).filter(pk=pk).exists():
        raise Http404("No such invitation.")
    try:
        if request.POST.get("decision") == "accept":
            membership = services.accept(pk, request.user)
            request.session[SESSION_KEY] = membership.workspace_id
            messages.success(request, f"You joined {membership.workspace.name} as {membership.get_role_display()}.")
            return redirect("dashboard:home")
        if request.POST.get("decision") == "decline":
            services.decline(pk, request.user)
            messages.info(request, "Invitation declined.")
        else:
            messages.error(request, "Choose accept or decline.")
    except services.InvitationError as exc:
        messages.error(request, str(exc))
    return redirect("dashboard:my_invitations")
