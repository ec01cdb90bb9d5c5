"""The live parts in a real browser under the real CSP: template preview, clip count, progress polling.

Screenshots of the dashboard pages at 1280 and 390 px land in var/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from generation.models import Clip, ClipStatus
from publishing.models import Post, PostStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def in_own_browser(scenario) -> None:
    """Run `scenario(page)` with a Chromium of its own, in a thread of its own.

    Playwright's sync API allows one instance per thread, and tests/browser keeps one open for the whole
    session; a separate thread (with its own database connection) keeps the two apart.
    """
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    failures: list[BaseException] = []

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(15_000)
                page.problems = []
                page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"{page.url}: {msg.text}"))
                page.on("pageerror", lambda exc: page.problems.append(str(exc)))
                try:
                    scenario(page)
                finally:
                    # Inside Playwright's context the ORM has a connection of its own: close it here, or the
                    # test database cannot be dropped at the end of the run.
                    connections.close_all()
                    browser.close()
        except BaseException as exc:  # re-raised in the test's thread below
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="dashboard-browser")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the browser scenario did not finish within 5 minutes"
    if failures:
        raise failures[0]


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}-mobile.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, f"{name} scrolls sideways at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_live_preview_count_and_progress_work_under_the_csp(live_server, mine):
    user = UserFactory()
    MembershipFactory(user=user, workspace=mine.workspace, role=Role.OWNER)
    in_own_browser(lambda page: walk_through_the_dashboard(page, live_server.url, mine, user))


def walk_through_the_dashboard(page, url: str, mine, user) -> None:
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
