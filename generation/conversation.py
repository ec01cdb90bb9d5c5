"""Approvals as a conversation: reviewers comment on a clip, the people who make clips are told (in the dashboard,
and by email to those with an address), and every approval and rejection joins the clip's history."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from accounts import audit
from accounts.models import ROLE_RANK, Membership, Notification, Role
from core.urls import reverse_pk
from generation.models import Clip, ClipNote, NoteKind

log = logging.getLogger(__name__)

MAX_COMMENT = 2000


def clean_comment(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("Write a comment first.")
    body = body.strip()
    if len(body) > MAX_COMMENT:
        raise ValidationError(f"A comment is at most {MAX_COMMENT:,} characters; this one has {len(body):,}.")
    if "\x00" in body:
        raise ValidationError("A comment cannot contain NUL characters.")
    return body


def who_to_tell(clip: Clip, author) -> list:
    """The workspace's editors and owners, and anyone who already took part in this clip's conversation; never
    the author, never someone who has left the workspace."""
    workspace_id = clip.campaign.workspace_id
    members = {m.user_id: m for m in Membership.objects.filter(workspace_id=workspace_id).select_related("user")}
    chosen = {uid for uid, m in members.items() if ROLE_RANK[Role(m.role)] >= ROLE_RANK[Role.EDITOR]}
    chosen |= {uid for uid in clip.notes.exclude(author=None).values_list("author_id", flat=True) if uid in members}
    chosen.discard(getattr(author, "pk", None))
    return [members[uid].user for uid in sorted(chosen)]


@transaction.atomic
def comment_on(clip: Clip, author, body: object) -> ClipNote:
    note = ClipNote.objects.create(clip=clip, author=author, kind=NoteKind.COMMENT, body=clean_comment(body))
    audit.record("commented", note, {"body": [None, note.body]}, actor=author)
    recipients = who_to_tell(clip, author)
    url = reverse_pk("dashboard:clip", clip.pk)
    excerpt = note.body if len(note.body) <= 120 else note.body[:119] + "…"
    message = f"{author.get_username()} commented on clip {clip.pk}: {excerpt}"
    Notification.objects.bulk_create(
        Notification(user=user, workspace_id=clip.campaign.workspace_id, message=message[:300], url=url)
        for user in recipients)
    emails = sorted({user.email for user in recipients if user.email})
    if emails:
        transaction.on_commit(lambda: _mail(note, emails, url))
    log.info("clip.commented clip=%s note=%s notified=%s", clip.pk, note.pk, len(recipients))
    return note


def _mail(note: ClipNote, emails: list[str], url: str) -> None:
    context = {"note": note, "clip": note.clip, "link": settings.SITE_URL.rstrip("/") + url}
    subject = f"[Clipcast] {note.author.get_username()} commented on clip {note.clip_id}"
    send_mail(subject, render_to_string("emails/clip_comment.txt", context), settings.DEFAULT_FROM_EMAIL, emails,
              fail_silently=True)


def record_decision(clip: Clip, user, approved: bool) -> ClipNote:
    return ClipNote.objects.create(clip=clip, author=user if getattr(user, "is_authenticated", False) else None,
                                   kind=NoteKind.APPROVED if approved else NoteKind.REJECTED)
