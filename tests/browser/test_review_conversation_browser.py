"""Approvals as a conversation in real browsers: a reviewer comments on a clip, the editor (in a browser of their
own) sees the unread badge, opens the notification, lands on the clip and reads the comment beside the history."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Role
from generation.models import Clip, ClipStatus
from tests.browser.test_media_playback import log_in
from tests.factories import MembershipFactory, PromptTemplateFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def person(workspace, role: Role, password: str, email: str = ""):
    user = MembershipFactory(workspace=workspace, role=role, user__email=email).user
    user.set_password(password)
    user.save()
    return user


def test_a_reviewers_comment_reaches_the_editor(live_server, browser, screenshot):
    template = PromptTemplateFactory()
    workspace = template.campaign.workspace
    clip = Clip.objects.create(campaign=template.campaign, prompt_template=template, prompt="a red circle", seed=1,
                               status=ClipStatus.SUCCEEDED, variables={"colour": "red", "shape": "circle"})
    reviewer = person(workspace, Role.REVIEWER, "conv-pw-reviewer")
    editor = person(workspace, Role.EDITOR, "conv-pw-editor", "editor@example.com")

    reviewer_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(reviewer_page, live_server.url, reviewer.username, "conv-pw-reviewer")
    reviewer_page.goto(f"{live_server.url}/clips/{clip.pk}/")
    reviewer_page.get_by_label("Comment").fill("The red is too dark for our brand: can we try a lighter one?")
    reviewer_page.click("#post-comment")
    reviewer_page.wait_for_selector("text=Comment posted")
    reviewer_page.context.close()

    editor_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(editor_page, live_server.url, editor.username, "conv-pw-editor")
    assert editor_page.locator("#unread-count").inner_text() == "1"
    editor_page.click("#notifications-link")
    item = editor_page.locator("#notification-list li.unread")
    assert f"{reviewer.username} commented on clip {clip.pk}" in item.inner_text()
    item.locator("button").click()
    editor_page.wait_for_url(f"{live_server.url}/clips/{clip.pk}/")
    note = editor_page.locator("#clip-notes li[data-kind=comment]")
    assert "too dark for our brand" in note.inner_text() and reviewer.username in note.inner_text()
    assert editor_page.locator("#unread-count").count() == 0, "read once opened"
    screenshot(editor_page, "review-conversation")
    editor_page.context.close()

    assert [m.to for m in mail.outbox] == [["editor@example.com"]]
