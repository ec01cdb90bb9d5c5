"""Every stock text-to-video family through the whole service: `manage.py render`, and a campaign set to the family
in the dashboard, a 3-second batch generated from the dashboard, rendered by a real render worker, and the clip's
frame note shown."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import Campaign, PromptTemplate
from generation.engine import probe_video
from generation.models import Clip, ClipStatus
from tests.generation.engine.conftest import (
    build_animatediff,
    build_cogvideox,
    build_ltx,
    build_text_to_video_sd,
    build_wan,
)
from tests.generation.test_render_worker import wait_for

BUILDERS = {"text-to-video-sd": build_text_to_video_sd, "animatediff": build_animatediff,
            "cogvideox": build_cogvideox, "ltx-video": build_ltx, "wan": build_wan}
# 3 seconds at 8 fps is 24 frames; the families with a temporal VAE render 4k + 1 frames, so 25.
RENDERED = {"text-to-video-sd": 24, "animatediff": 24, "cogvideox": 25, "ltx-video": 25, "wan": 25}


@pytest.fixture(scope="session")
def tiny_family_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {family: build(tmp_path_factory.mktemp(family)) for family, build in BUILDERS.items()}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("family", list(BUILDERS))
def test_the_dashboard_renders_a_three_second_clip_with_every_family(
    family: str, tiny_family_dirs: dict[str, Path], settings, start_worker, media_root: Path, login_as, mine
) -> None:
    from accounts.models import Role

    # The world's queued clip has no render message of its own; a render message is a turn for the queue's first
    # clip, so it would take this test's turn.
    Clip.objects.filter(pk=mine.queued.pk).update(status=ClipStatus.CANCELLED)
    models = ",".join(f"{key}={folder}" for key, folder in tiny_family_dirs.items())
    settings.CLIPCAST_MODELS = dict(item.split("=", 1) for item in models.split(","))
    start_worker("gpu", name=f"gpu-{family}", CLIPCAST_MODELS=models, MEDIA_ROOT=str(media_root),
                 CLIPCAST_TORCH_THREADS="1")
    editor = login_as(Role.EDITOR)

    # Given a campaign set to the family in the dashboard, at a tiny size and 2 steps
    response = editor.post(reverse("dashboard:campaign_create"), {
        "name": f"{family} launch", "status": "active", "timezone": "UTC", "approval_required": "on",
        "model_key": family, "frames": 8, "fps": 8, "width": 64, "height": 64, "output_width": 64,
        "output_height": 64, "steps": 2, "guidance": 1.0, "negative_prompt": "",
    })
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(name=f"{family} launch", workspace=mine.workspace)
    assert campaign.model_key == family
    response = editor.post(reverse("dashboard:prompt_create", args=[campaign.pk]), {
        "name": "Circles", "body": "a {colour} circle moving left on a black background",
        "variables_text": "colour: red",
    })
    assert response.status_code == 302
    template = PromptTemplate.objects.get(campaign=campaign)

    # When a 3-second clip is generated from the dashboard and a render worker takes it
    response = editor.post(reverse("dashboard:generate", args=[campaign.pk]), {
        "template": template.pk, "source": "grid", "grid_colour": ["red"], "length": "3", "seed_policy": "fixed",
        "seed": "3", "action": "generate",
    })
    assert response.status_code == 302, response.context["form"].errors
    clip = wait_for(Clip.objects.get(campaign=campaign), {ClipStatus.SUCCEEDED, ClipStatus.FAILED}, timeout=300)

    # Then it is a playable MP4 of the family's nearest frame count, and the clip says why it has that many
    assert clip.status == ClipStatus.SUCCEEDED, clip.error
    with av.open(str(media_root / clip.video.name)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.name, stream.codec_context.pix_fmt, int(stream.average_rate)) == (
            "h264", "yuv420p", 8)
    rendered = RENDERED[family]
    assert frames == rendered and clip.render_params["model_key"] == family
    assert (clip.frames_note["frames_requested"], clip.frames_note["frames_rendered"]) == (24, rendered)
    assert bool(clip.frames_note["notes"]) == (rendered != 24)
    page = editor.get(reverse("dashboard:clip", args=[clip.pk])).content.decode()
    assert f"{rendered} rendered" in page and all(note in page for note in clip.frames_note["notes"])
    assert editor.get(f"/api/clips/{clip.pk}/").json()["frames_note"] == clip.frames_note


@pytest.mark.slow
@pytest.mark.parametrize("family", list(BUILDERS))
def test_manage_py_render_writes_a_playable_mp4_with_every_family(
    family: str, tiny_family_dirs: dict[str, Path], settings, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    settings.CLIPCAST_MODELS = {key: str(folder) for key, folder in tiny_family_dirs.items()}
    call_command("render", "a red circle moving left on a black background", "--model", family, "--frames", "8",
                 "--fps", "8", "--size", "64x64", "--steps", "2", "--output", str(tmp_path / "clip.mp4"),
                 "--no-progress")
    video = probe_video(tmp_path / "clip.mp4")
    rendered = 8 if RENDERED[family] == 24 else 9
    assert (video.codec, video.pix_fmt, video.frames, video.fps, video.width, video.height) == (
        "h264", "yuv420p", rendered, 8.0, 64, 64)
    assert ("Note: 8 frames were asked for" in capsys.readouterr().out) == (rendered != 8)
