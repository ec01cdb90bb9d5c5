"""In a real browser under the real CSP: the model's words and the out-of-vocabulary warning in the template editor,
picking a caption template on the schedule page, and "Post now". Screenshots in var/screenshots/walkthrough-*.png."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from publishing.models import Post
from tests.browser.conftest import SCREENSHOTS
from tests.dashboard.test_dashboard_browser import in_own_browser
from tests.factories import CaptionTemplateFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"walkthrough-{name}.png"), full_page=True)


def test_vocabulary_caption_choice_and_post_now_in_the_browser(live_server, mine):
    user = UserFactory()
    MembershipFactory(user=user, workspace=mine.workspace, role=Role.EDITOR)
    short = CaptionTemplateFactory(campaign=mine.campaign, name="Short", body="{shape} in {colour}!", hashtags="")
    in_own_browser(lambda page: walk(page, live_server.url, mine, user, short))


def walk(page, url: str, mine, user, short) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")

    # The editor lists the model's words and warns while typing, before anything renders.
    page.goto(url + reverse("dashboard:prompt_edit", args=[mine.template.pk]))
    page.locator("#model-vocabulary", has_text="magenta").wait_for()
    page.get_by_label("Prompt", exact=True).fill("a {colour} {shape} surfing at sunset")
    page.get_by_label("colour").select_option("blue")
    page.locator("#rendered-prompt", has_text="a blue circle surfing at sunset").wait_for()
    page.locator(".vocabulary-warning", has_text="“surfing”, “at”, “sunset”").wait_for()
    shoot(page, "vocabulary-warning")

    # Picking another caption template refills the caption with this clip's own values.
    page.goto(url + reverse("dashboard:schedule", args=[mine.approved.pk]))
    caption = page.get_by_label("Caption", exact=True)
    assert caption.input_value() == "Look at this red circle! #clipcast #ai"
    page.get_by_label("Caption template").select_option(str(short.pk))
    expect(page.get_by_label("Caption", exact=True)).to_have_value("circle in red!")
    shoot(page, "caption-template-picked")

    # Post now: the new post is due at once.
    page.locator("#post-now-submit").click()
    page.wait_for_url(f"{url}/posts/*/")
    page.get_by_text("Posting now on @").wait_for()
    post = Post.objects.exclude(pk=mine.post.pk).get(clip=mine.approved)
    assert post.caption == "circle in red!"
    shoot(page, "posted-now")
    ignored = ("/login/", "favicon", "htmx:sendAbort", "htmx:afterRequest")
    assert [p for p in page.problems if not any(word in p for word in ignored)] == []
