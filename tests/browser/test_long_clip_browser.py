"""Ten seconds in the dashboard, in a real browser: the generate page offers 10 s, the gallery's bar moves through
the render on a real worker, and the finished clip plays for ten seconds and seeks to its last second."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from generation.models import Clip, ClipStatus
from tests.browser.test_marketer_journey import RECORD_PROGRESS
from tests.browser.test_media_playback import PLAY_AND_SEEK, log_in
from tests.factories import MembershipFactory, PromptTemplateFactory
from tests.generation.conftest import media_root, render_worker  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEEK_TO_LAST_SECOND = PLAY_AND_SEEK.replace("video.currentTime = 2.5", "video.currentTime = 9.5")


def test_a_marketer_renders_a_ten_second_clip_watches_it_render_and_plays_it(
        live_server, page, screenshot, render_worker, media_root):  # noqa: F811
    render_worker()
    template = PromptTemplateFactory(body="a {colour} {shape} moving left on a yellow background",
                                     variables={"colour": ["blue"], "shape": ["square"]})
    campaign = template.campaign
    campaign.output_width = campaign.output_height = 128
    campaign.steps = 8
    campaign.save()
    editor = MembershipFactory(workspace=campaign.workspace, role=Role.EDITOR).user
    editor.set_password("ten-seconds-pw-1")
    editor.save()

    log_in(page, live_server.url, editor.username, "ten-seconds-pw-1")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/generate/?template={template.pk}")
    page.get_by_label("blue", exact=True).check()
    page.get_by_label("square", exact=True).check()
    page.get_by_label("10 seconds (80 frames)").check()
    page.locator("#clip-count-number", has_text="1").wait_for()
    page.locator("#generate-clips").click()

    page.wait_for_url(re.compile(r".*/clips/.*"))
    page.evaluate(RECORD_PROGRESS)
    page.locator(".badge", has_text="Succeeded").first.wait_for(timeout=600_000)
    clip = Clip.objects.get(campaign=campaign)
    assert clip.status == ClipStatus.SUCCEEDED and clip.render_params["frames"] == 80
    seen = [v for values in page.evaluate("() => window.progressSeen").values() for v in values]
    assert any(0 < v < 100 for v in seen), f"the bar never showed the render under way: {seen}"

    page.goto(f"{live_server.url}/clips/{clip.pk}/")
    played = page.evaluate(SEEK_TO_LAST_SECOND, f"#clip-{clip.pk}-video")
    screenshot(page, "ten-second-clip")
    assert played["error"] is None and 9.9 < played["duration"] < 10.1 and abs(played["time"] - 9.5) < 0.2
    clip.refresh_from_db()
    assert clip.windowing["windows"] == 4, clip.windowing
    assert f"4 windows of {clip.windowing['window']} frames" in page.locator("body").inner_text()
