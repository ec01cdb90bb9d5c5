"""The publisher writes the audit log as the system: one `posted` event when a post lands on X (the sandbox), one
`failed` event when X refuses it, and nothing for the steps in between."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEvent
from publishing.models import PostStatus
from tests.factories import PromptTemplateFactory
from tests.publishing.test_publish_reconcile import going_out, run_until_settled
from tests.publishing.test_publish_worker import approved_clip, connected_account, x_env  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("x_env")]


def test_posting_and_failing_each_write_one_system_event_without_tokens(sandbox, make_video):
    campaign = PromptTemplateFactory().campaign
    account = connected_account(sandbox, campaign.workspace)
    first = going_out(approved_clip(make_video, campaign), account, "Winter sale starts now")
    second = going_out(approved_clip(make_video, campaign), account, "Winter sale starts now")

    assert run_until_settled(first).status == PostStatus.POSTED
    assert run_until_settled(second).status == PostStatus.FAILED

    events = list(AuditEvent.objects.filter(object_type="publishing.post").order_by("pk"))
    assert [(e.action, e.object_id, e.actor, e.actor_name) for e in events] == [
        ("posted", str(first.pk), None, "system"), ("failed", str(second.pk), None, "system")]
    assert events[0].changes["x_post_id"] == [None, first.x_post_id]
    assert events[1].changes["status"] == [PostStatus.POSTING, PostStatus.FAILED]
    written = json.dumps([e.changes for e in AuditEvent.objects.all()])
    assert account.access_token not in written and account.access_token_secret not in written


def test_a_revoked_token_records_the_failure_and_the_account_needing_a_reconnect(sandbox, make_video):
    campaign = PromptTemplateFactory().campaign
    account = connected_account(sandbox, campaign.workspace)
    post = going_out(approved_clip(make_video, campaign), account, "Spring is here")
    sandbox.fault(account.x_user_id, "revoke_tokens")

    assert run_until_settled(post).status == PostStatus.FAILED

    events = [(e.action, e.object_type, e.actor_name) for e in AuditEvent.objects.order_by("pk")]
    assert events == [("needs_reconnect", "publishing.xaccount", "system"), ("failed", "publishing.post", "system")]
