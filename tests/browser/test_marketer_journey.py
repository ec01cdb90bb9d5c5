"""The whole chain in a real browser: a marketer writes a campaign, renders two clips with the bundled model,
approves one, schedules it a minute ahead, and sees it posted to the X sandbox by the real beat and worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from publishing.models import AuthKind, Post, PostStatus, XAccount
from tests.conftest import ROOT, child_env
from tests.publishing.conftest import make_video, sandbox, sandbox_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CONSUMER = {"consumer_key": "clipcast-e2e-consumer", "consumer_secret": "clipcast-e2e-consumer-secret"}
TZ = "Europe/Berlin"


@pytest.fixture
def chain(start_worker, sandbox, render_model_dir, tmp_path, settings):  # noqa: F811
    """Render worker, publish worker and a real beat, all pointed at the test database and the sandbox."""
    settings.CLIPCAST_MODEL_PATH = str(render_model_dir)  # the web side validates clips against the same model
    sandbox.configure(processing_secs=0.5)
    x_env = {"X_API_BASE_URL": sandbox.url, "X_UPLOAD_BASE_URL": sandbox.url, "X_WEB_BASE_URL": sandbox.url,
             "X_CONSUMER_KEY": CONSUMER["consumer_key"], "X_CONSUMER_SECRET": CONSUMER["consumer_secret"],
             "MEDIA_ROOT": str(settings.MEDIA_ROOT), "CLIPCAST_MODEL_PATH": str(render_model_dir),
             "DISPATCH_INTERVAL": "3", "CLIPCAST_TORCH_THREADS": "1"}
    start_worker("gpu", name="e2e-gpu", CLIPCAST_WARM_MODEL="1", **x_env)
    start_worker("default,publish", name="e2e-publish", **x_env)
    log = open(tmp_path / "beat.log", "ab")  # noqa: SIM115 - closed below
    beat = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "clipcast", "beat", "--loglevel", "INFO", "--pidfile=",
         "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT, env=child_env(**x_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    yield sandbox
    os.killpg(beat.pid, signal.SIGTERM)
    beat.wait(timeout=20)
    log.close()


def test_marketer_journey_from_template_to_posted_clip(chain, live_server, page, screenshot):
    x = chain
    call_command("seed_demo", password="journey-pw-1")
    creds = x.create_account(username="launchbrand", **CONSUMER, post_limit=1000)
    from accounts.models import Workspace

    XAccount.objects.create(workspace=Workspace.objects.get(slug="demo"), handle="launchbrand",
                            x_user_id=creds["user_id"], auth_kind=AuthKind.OAUTH1, access_token=creds["access_token"],
                            access_token_secret=creds["access_token_secret"], min_post_gap=timedelta(0))
    url = live_server.url
    page.set_default_timeout(30_000)

    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("journey-pw-1")
    page.get_by_role("button", name="Log in").click()
    page.locator("h1", has_text="Campaigns").wait_for()
    screenshot(page, "journey-01-campaigns")

    # A campaign with a prompt template and a caption template.
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Launch week")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Time zone").select_option(TZ)
    screenshot(page, "journey-02-new-campaign")
    page.locator("#save-campaign").click()
    page.locator("h1", has_text="Launch week").wait_for()

    page.locator("#new-prompt-template").click()
    page.get_by_label("Name").fill("Shapes")
    page.get_by_label("Prompt", exact=True).fill("a {colour} {shape} moving left on a black background")
    page.get_by_label("Variables").fill("colour: red, blue\nshape: circle, square")
    page.locator("#save-template").click()
    page.locator("h1", has_text="Launch week").wait_for()
    page.locator("#new-caption-template").click()
    page.get_by_label("Name").fill("Launch")
    page.get_by_label("Caption", exact=True).fill("Meet the {colour} {shape}.")
    page.get_by_label("Hashtags").fill("#launch")
    page.locator("#save-template").click()
    page.locator("h1", has_text="Launch week").wait_for()
    screenshot(page, "journey-03-campaign")

    # Generate two clips: red circle and blue circle.
    page.locator("#generate-link").click()
    page.get_by_label("red", exact=True).check()
    page.get_by_label("blue", exact=True).check()
    page.get_by_label("circle", exact=True).check()
    page.locator("#clip-count-number", has_text="2").wait_for()
    screenshot(page, "journey-04-generate")
    page.locator("#generate-clips").click()

    # The gallery shows progress until both clips reach 100 %.
    page.wait_for_url(re.compile(r".*/clips/.*"))
    page.locator(".badge", has_text="Succeeded").nth(1).wait_for(timeout=240_000)
    screenshot(page, "journey-05-gallery")
    from generation.models import Clip, ClipStatus

    clips = list(Clip.objects.filter(campaign__name="Launch week").order_by("pk"))
    assert [c.status for c in clips] == [ClipStatus.SUCCEEDED] * 2
    assert all(c.progress == 100 for c in clips)

    # Approve the first, then schedule it one minute ahead in the campaign's time zone.
    first = clips[0]
    page.locator(f"#approve-clip-{first.pk}").click()
    page.locator(f"#clip-{first.pk} .badge", has_text="Approved").wait_for()
    page.locator(f"#schedule-clip-{first.pk}").click()
    when = (datetime.now(ZoneInfo(TZ)) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label(re.compile("Date and time")).fill(when)
    screenshot(page, "journey-06-schedule")
    page.locator("#schedule-submit").click()

    # The post page updates itself until the real beat + worker have posted it to the sandbox.
    page.wait_for_url(re.compile(r".*/posts/\d+/"))
    link = page.locator("#post-link")
    link.wait_for(timeout=180_000)
    screenshot(page, "journey-07-posted")
    post = Post.objects.get(clip=first)
    assert post.status == PostStatus.POSTED
    assert link.get_attribute("href") == post.x_post_url
    on_x = x.posts(creds["user_id"])
    assert [p["id"] for p in on_x] == [post.x_post_id]
    assert on_x[0]["text"].startswith("Meet the red circle. #launch")

    page.goto(f"{url}/calendar/")
    screenshot(page, "journey-08-calendar")
    page.goto(f"{url}/posts/")
    screenshot(page, "journey-09-posts")
    page.goto(post.x_post_url)
    assert "Meet the red circle" in page.content()
    screenshot(page, "journey-10-on-the-sandbox")
