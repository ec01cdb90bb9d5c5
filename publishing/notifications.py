"""Telling people when something needs them: a post that failed for good is mailed to the workspace owners."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import Role
from publishing.models import Post

log = logging.getLogger(__name__)


def owner_emails(post: Post) -> list[str]:
    workspace = post.x_account.workspace
    return sorted(
        {
            email
            for email in workspace.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True)
            if email
        }
    )


def notify_post_failed(post: Post) -> int:
    recipients = owner_emails(post)
    if not recipients:
        return 0
    context = {"post": post, "campaign": post.clip.campaign, "site_url": settings.SITE_URL.rstrip("/")}
    subject = f"[Clipcast] A post to @{post.x_account.handle} failed: {post.last_error[:80]}"
    body = render_to_string("emails/post_failed.txt", context)
    sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)
    log.info("post.failure_mailed post=%s recipients=%s", post.pk, len(recipients))
    return sent
