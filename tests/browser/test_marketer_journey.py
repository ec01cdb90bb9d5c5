"""The marketer's whole journey in a real browser: a campaign, a prompt template (with the warning about words the
bundled model cannot draw), caption templates, a grid of two clips with live progress, approval, scheduling with a
chosen caption template, the post on the X sandbox by the real beat and worker, and its metrics read back.

Screenshots of each step land in var/artefacts/journey/ (the path is printed at the end of the test)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
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
ARTEFACTS = ROOT / "var" / "artefacts" / "journey"
# Records every value each clip's <progress> shows, sampled faster than the page's 2 s poll replaces the cards.
RECORD_PROGRESS = """() => {
  window.progressSeen = {};
  setInterval(() => {
    for (const bar of document.querySelectorAll("progress[id^='clip-']")) {
      const seen = (window.progressSeen[bar.id] = window.progressSeen[bar.id] || []);
      if (seen[seen.length - 1] !== bar.value) seen.push(bar.value);
    }
  }, 100);
}"""


@pytest.fixture
def chain(start_worker, sandbox, render_model_dir, tmp_path, settings):  # noqa: F811
    """Render worker, publish worker and a real beat, all pointed at the test database and the sandbox."""
    settings.CLIPCAST_MODEL_PATH = str(render_model_dir)  # the web side validates clips against the same model
    sandbox.configure(processing_secs=0.5)
    x_env = {"X_API_BASE_URL": sandbox.url, "X_UPLOAD_BASE_URL": sandbox.url, "X_WEB_BASE_URL": sandbox.url,
             "X_CONSUMER_KEY": CONSUMER["consumer_key"], "X_CONSUMER_SECRET": CONSUMER["consumer_secret"],
             "MEDIA_ROOT": str(settings.MEDIA_ROOT), "CLIPCAST_MODEL_PATH": str(render_model_dir),
             "DISPATCH_INTERVAL": "3", "METRICS_INTERVAL": "10", "CLIPCAST_TORCH_THREADS": "1"}
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


@pytest.fixture
def shot(capsys):
    """Screenshots of the journey, numbered in order, as artefacts of the run."""
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    taken: list[str] = []

    def take(page, name: str) -> None:
        taken.append(f"{len(taken) + 1:02d}-{name}.png")
        page.screenshot(path=str(ARTEFACTS / taken[-1]), full_page=True)

    yield take
    with capsys.disabled():
        print(f"\nJourney screenshots ({len(taken)}) in {ARTEFACTS}: {', '.join(taken)}")


def test_a_marketer_goes_from_a_campaign_to_a_posted_clip_and_its_metrics(chain, live_server, page, shot):
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
    shot(page, "campaigns")

    # Campaign.
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Launch week")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Time zone").select_option(TZ)
    # Renders long enough (3 s clips, the most steps) that the gallery's 2-second polls catch them mid-way even on
    # a quiet machine, where a 1-second clip of the bundled model renders in half a second.
    page.locator("#id_steps").evaluate("field => { field.value = '150'; }")  # under the folded render settings
    shot(page, "new-campaign")
    page.locator("#save-campaign").click()
    page.locator("h1", has_text="Launch week").wait_for()

    # Prompt template: a prompt the bundled model cannot draw is warned about while typing, naming the words.
    page.locator("#new-prompt-template").click()
    page.locator("#model-vocabulary", has_text="circle").wait_for()
    page.get_by_label("Name").fill("Shapes")
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a cat surfing at sunset")
    warning = page.locator(".vocabulary-warning")
    warning.wait_for()
    for word in ("cat", "surfing", "at", "sunset"):
        assert f"“{word}”" in warning.inner_text()
    assert "“a”" not in warning.inner_text()
    shot(page, "vocabulary-warning")
    prompt.fill("a {colour} {shape} moving left on a black background")
    page.get_by_label("Variables").fill("colour: red, blue\nshape: circle, square")
    page.locator("#rendered-prompt", has_text="moving left on a black background").wait_for()
    assert warning.count() == 0
    shot(page, "prompt-template")
    page.locator("#save-template").click()
    page.locator("h1", has_text="Launch week").wait_for()

    # Two caption templates: the first is the default, the journey picks the second when scheduling.
    for name, body, tags in [("Launch", "Meet the {colour} {shape}.", "#launch"),
                             ("Teaser", "Something {colour} is coming: watch the {shape}.", "#teaser")]:
        page.locator("#new-caption-template").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Caption", exact=True).fill(body)
        page.get_by_label("Hashtags").fill(tags)
        page.locator("#save-template").click()
        page.locator("h1", has_text="Launch week").wait_for()
    shot(page, "campaign")

    # Grid: red and blue circles.
    page.locator("#generate-link").click()
    page.get_by_label("red", exact=True).check()
    page.get_by_label("blue", exact=True).check()
    page.get_by_label("circle", exact=True).check()
    page.get_by_label("3 seconds (24 frames)").check()
    page.locator("#clip-count-number", has_text="2").wait_for()
    shot(page, "grid")
    page.locator("#generate-clips").click()

    # Live progress: the gallery's bars move while the worker renders, without reloading the page.
    page.wait_for_url(re.compile(r".*/clips/.*"))
    page.evaluate(RECORD_PROGRESS)
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"progress[id^='clip-']\")].some(p => p.value > 0 && p.value < 100)",
        timeout=240_000,
    )
    shot(page, "rendering")
    page.locator(".badge", has_text="Succeeded").nth(1).wait_for(timeout=240_000)
    shot(page, "rendered")
    from generation.models import Clip, ClipStatus

    clips = list(Clip.objects.filter(campaign__name="Launch week").order_by("pk"))
    assert [c.status for c in clips] == [ClipStatus.SUCCEEDED] * 2
    assert all(c.progress == 100 and not c.out_of_vocabulary for c in clips)
    seen = page.evaluate("() => window.progressSeen")
    moving = {bar: values for bar, values in seen.items() if any(0 < v < 100 for v in values)}
    assert moving, f"no progress bar showed a value between 0 and 100 while rendering: {seen}"
    assert any(len(values) >= 2 for values in seen.values()), seen

    # Approve the first clip and schedule it a minute ahead with the chosen (not the default) caption template.
    first, second = clips
    for clip in clips:
        page.locator(f"#approve-clip-{clip.pk}").click()
        page.locator(f"#clip-{clip.pk} .badge", has_text="Approved").wait_for()
    page.locator(f"#schedule-clip-{first.pk}").click()
    caption = page.get_by_label("Caption", exact=True)
    assert caption.input_value() == "Meet the red circle. #launch"  # the default template's
    page.get_by_label("Caption template").select_option(label="Teaser")
    teaser = "Something red is coming: watch the circle. #teaser"
    page.wait_for_function(
        "text => document.querySelector('#id_caption').value === text", arg=teaser, timeout=15_000
    )
    when = (datetime.now(ZoneInfo(TZ)) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label(re.compile("Date and time")).fill(when)
    shot(page, "schedule")
    page.locator("#schedule-submit").click()

    # The post page updates itself until the real beat and worker have posted it to the sandbox.
    page.wait_for_url(re.compile(r".*/posts/\d+/"))
    link = page.locator("#post-link")
    link.wait_for(timeout=180_000)
    shot(page, "posted")
    post = Post.objects.get(clip=first)
    assert post.status == PostStatus.POSTED and post.caption == teaser
    assert link.get_attribute("href") == post.x_post_url
    on_x = x.posts(creds["user_id"])
    assert [p["id"] for p in on_x] == [post.x_post_id]
    assert on_x[0]["text"].startswith(teaser)

    # Metrics: the beat's refresh reads them back from the sandbox and the post page shows them.
    metrics = page.locator("#post-metrics-heading + ul.stats")
    deadline = time.monotonic() + 90
    while not metrics.count() and time.monotonic() < deadline:
        page.wait_for_timeout(2_000)
        page.reload()
    shown = re.search(r"(\d+) impressions", " ".join(metrics.inner_text().split()))
    assert shown, f"the post page shows no impressions: {metrics.inner_text() if metrics.count() else 'no metrics'}"
    post.refresh_from_db()  # the sandbox's numbers only grow, and the beat may have refreshed them since
    assert post.metrics_at and 0 <= int(shown[1]) <= post.metrics["impression_count"]
    shot(page, "metrics")

    page.goto(f"{url}/posts/")
    shot(page, "posts")
    page.goto(f"{url}/calendar/")
    page.locator(".cal-entry", has_text="Something red is coming").wait_for()
    shot(page, "calendar")
    # An empty week invites the next post: the second approved clip is waiting, and the link leads to it.
    page.locator("#calendar-next").click()
    page.locator("#calendar-empty", has_text="1 clip is ready and not scheduled yet").wait_for()
    shot(page, "calendar-empty-week")
    page.locator("#calendar-schedule").click()
    page.locator(f"#schedule-clip-{second.pk}").wait_for()
    page.goto(post.x_post_url)
    assert teaser in page.content()
    shot(page, "on-the-sandbox")
