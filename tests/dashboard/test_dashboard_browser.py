"""The live parts in a real browser under the real CSP: template preview, clip count, progress polling.

Screenshots of the dashboard pages at 1280 and 390 px land in var/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from generation.models import Clip, ClipStatus
from publishing.models import Post, PostStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def chromium_page():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        page.problems = []
        page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"{page.url}: {msg.text}"))
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        yield page
        browser.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}-mobile.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, f"{name} scrolls sideways at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_live_preview_count_and_progress_work_under_the_csp(live_server, chromium_page, mine):
    page, url = chromium_page, live_server.url
    user = UserFactory()
    MembershipFactory(user=user, workspace=mine.workspace, role=Role.OWNER)
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    shoot(page, "campaigns")

    # Template editor: typing re-renders the prompt, the caption and the counter.
    page.goto(url + reverse("dashboard:prompt_edit", args=[mine.template.pk]))
    page.get_by_label("Prompt", exact=True).fill("a {colour} {shape} spinning fast")
    page.get_by_label("colour").select_option("blue")
    page.locator("#rendered-prompt", has_text="a blue circle spinning fast").wait_for()
    page.locator("#caption-counter", has_text="39/280").wait_for()
    shoot(page, "template-editor")
    page.goto(url + reverse("dashboard:caption_edit", args=[mine.caption.pk]))
    page.get_by_label("Caption", exact=True).fill("\N{SPARKLES}" * 150)
    page.locator("#caption-counter.over", has_text="314/280").wait_for()  # 150 emoji + " #clipcast #ai"

    # Generate: ticking values updates the count before anything is created.
    page.goto(url + reverse("dashboard:generate", args=[mine.campaign.pk]))
    for value in ("red", "blue", "circle", "square"):
        page.get_by_label(value, exact=True).check()
    page.locator("#clip-count-number", has_text="4").wait_for()
    shoot(page, "generate")

    # Gallery: the rendering card follows the database while the page polls.
    page.goto(url + reverse("dashboard:clips"))
    shoot(page, "gallery")
    Clip.objects.filter(pk=mine.rendering.pk).update(progress=80, stage="decode")
    page.locator(f"#clip-{mine.rendering.pk}-progress-text", has_text="80% · decode").wait_for()
    Clip.objects.filter(pk=mine.rendering.pk).update(status=ClipStatus.SUCCEEDED, progress=100)
    page.locator(f"#clip-{mine.rendering.pk} .badge", has_text="Succeeded").wait_for()
    page.locator(f"#approve-clip-{mine.rendering.pk}").click()
    page.locator(f"#clip-{mine.rendering.pk} .badge", has_text="Approved").wait_for()

    now = timezone.now()
    for days, impressions, likes in ((3, 1200, 40), (2, 800, 65), (0, 2100, 90)):
        Post.objects.create(
            clip=mine.approved, x_account=mine.account, caption=f"posted {days} days ago", status=PostStatus.POSTED,
            scheduled_at=now - timedelta(days=days), posted_at=now - timedelta(days=days),
            metrics={"impression_count": impressions, "like_count": likes}, x_post_url="https://x.com/b/status/1",
        )
    for name, path in [
        ("campaign", reverse("dashboard:campaign", args=[mine.campaign.pk])),
        ("schedule", reverse("dashboard:schedule", args=[mine.approved.pk])),
        ("post", reverse("dashboard:post", args=[mine.post.pk])),
        ("posts", reverse("dashboard:posts")),
        ("calendar-week", reverse("dashboard:calendar")),
        ("calendar-month", reverse("dashboard:calendar") + "?view=month"),
        ("accounts", reverse("dashboard:accounts")),
    ]:
        page.goto(url + path)
        shoot(page, name)
    page.goto(url + reverse("dashboard:schedule", args=[mine.approved.pk]))
    page.get_by_label("Caption", exact=True).fill("x" * 290)
    page.locator("#caption-counter.over", has_text="290/280").wait_for()
    # The login page is not the dashboard's (its inline style is reported); navigating away aborts a poll.
    ignored = ("/login/", "favicon", "htmx:sendAbort", "htmx:afterRequest")
    assert [p for p in page.problems if not any(word in p for word in ignored)] == []
