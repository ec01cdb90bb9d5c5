"""Workflows across workspaces, memberships and invitations: inviting, accepting, declining, revoking.

Nobody is added to a workspace without their consent: an owner invites, and the membership (with the role the
invitation names) is made only when the invitee accepts. The inviter gets the same answer whether or not the
name or address belongs to an account, so invitations cannot be used to find out who uses Clipcast.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import audit
from accounts.models import Invitation, InvitationStatus, Membership, Role, Workspace, hash_token

log = logging.getLogger(__name__)


class InvitationError(Exception):
    """A request about an invitation that cannot be done; the message says why and what to do."""


def _match_user(invitee: str):
    users = get_user_model().objects.filter(is_active=True)
    if "@" in invitee:
        matches = list(users.filter(email__iexact=invitee)[:2])
        return matches[0] if len(matches) == 1 else None  # an address shared by two accounts names neither
    return users.filter(username=invitee).first()


def invite(workspace: Workspace, invitee: str, role: str, invited_by) -> tuple[Invitation, str]:
    """Invite a username or an email address; returns the invitation and its one-time token (for the link)."""
    invitee = invitee.strip()
    user = _match_user(invitee)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Inviting again replaces the earlier offer (a new role, a fresh expiry, a new link).
        earlier = Invitation.objects.pending().filter(workspace=workspace, invitee__iexact=invitee)
        replaced = list(earlier.values_list("pk", flat=True))
        earlier.update(status=InvitationStatus.REVOKED, responded_at=timezone.now())
        invitation = Invitation.objects.create(
            workspace=workspace, invitee=invitee, email=invitee if "@" in invitee else "", user=user,
            role=Role(role), token_hash=hash_token(token), invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        )
        changes = {"invitee": [None, invitee], "role": [None, invitation.role]}
        if replaced:
            changes["replaces_invitations"] = [None, replaced]
        audit.record("invited", invitation, changes, actor=invited_by)
        if user is not None and user.email:
            transaction.on_commit(lambda: _send_invitation(invitation, token, user.email))
    log.info("invitation.created invitation=%s workspace=%s", invitation.pk, workspace.pk)
    return invitation, token


def _send_invitation(invitation: Invitation, token: str, address: str) -> None:
    context = {
        "invitation": invitation,
        "inviter": invitation.invited_by.get_username() if invitation.invited_by else "An owner",
        "link": f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/",
    }
    body = render_to_string("emails/invitation.txt", context)
    subject = f"You are invited to {invitation.workspace.name} on Clipcast"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=True)


def _pending_for(invitation_id: int, user) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).addressed_to(user).filter(pk=invitation_id).select_related("workspace")
        .first()
    )
    if invitation is None:
        raise Invitation.DoesNotExist
    if invitation.current_status != InvitationStatus.PENDING:
        raise InvitationError(
            f"This invitation is {invitation.get_current_status_display().lower()}: "
            "ask a workspace owner to invite you again."
        )
    return invitation


def accept(invitation_id: int, user) -> Membership:
    """The invitee joins with the invitation's role (a member already keeps the role they have)."""
    with transaction.atomic():
        invitation = _pending_for(invitation_id, user)
        joined = False
        try:
            with transaction.atomic():
                membership, joined = Membership.objects.get_or_create(
                    user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
                )
        except IntegrityError:  # accepted twice at the same moment
            membership = Membership.objects.get(user=user, workspace=invitation.workspace)
        invitation.status, invitation.user, invitation.responded_at = InvitationStatus.ACCEPTED, user, timezone.now()
        invitation.save(update_fields=["status", "user", "responded_at"])
        audit.record("member_added" if joined else "invitation_accepted", membership,
                     {"user": [None, user.get_username()], "role": [None, membership.role],
                      "invitation": [None, invitation.pk]}, actor=user)
    log.info("invitation.accepted invitation=%s user=%s", invitation.pk, user.pk)
    return membership


def decline(invitation_id: int, user) -> Invitation:
    with transaction.atomic():
        invitation = _pending_for(invitation_id, user)
        invitation.status, invitation.responded_at = InvitationStatus.DECLINED, timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
        audit.record("invitation_declined", invitation,
                     {"status": [InvitationStatus.PENDING, InvitationStatus.DECLINED]}, actor=user)
    return invitation


def revoke(invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation (its link stops working); answered invitations stay as they are."""
    with transaction.atomic():
        updated = Invitation.objects.pending().filter(pk=invitation.pk).update(
            status=InvitationStatus.REVOKED, responded_at=timezone.now()
        )
        if updated:
            audit.record("invitation_revoked", invitation,
                         {"status": [InvitationStatus.PENDING, InvitationStatus.REVOKED]})
    invitation.refresh_from_db()
    if not updated:
        raise InvitationError(
            f"This invitation is already {invitation.get_current_status_display().lower()}; nothing to revoke."
        )
    return invitation
