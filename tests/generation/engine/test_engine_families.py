"""Every stock text-to-video family renders by default: frame counts meet each family's grid, native size, fps
and pipeline arguments come from its configs (clipcast.json may override), and pipeline failures read clearly."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from generation.engine import (
    ModelIncomplete,
    ModelRegistry,
    PipelineCache,
    RenderFailed,
    RenderRequest,
    inspect_model,
    probe_video,
    render,
    validate,
)
from generation.engine.cli import run
from generation.engine.request import nearest_frames

PROMPT = "a red circle moving left on a black background"
FAMILIES = ["text-to-video-sd", "animatediff", "cogvideox", "ltx-video", "wan"]


@pytest.fixture
def folder_with(tmp_path: Path):
    """A copy of a tiny family folder with the given clipcast.json."""

    def make(source: Path, clipcast: dict) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target)
        (target / "clipcast.json").write_text(json.dumps(clipcast))
        return target

    return make


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_the_render_command_writes_a_playable_mp4_for_every_family(
    family: str, family_dirs: dict[str, Path], tmp_path: Path, cpu
) -> None:
    # The done-when: `render PROMPT --model KEY --frames 8 --fps 8 --size 64x64`, no clipcast.json needed.
    out, err = io.StringIO(), io.StringIO()
    options = {
        "prompt": PROMPT, "model": family, "frames": 8, "fps": 8, "size": (64, 64), "steps": 2,
        "output": str(tmp_path / "clip.mp4"), "no_progress": True,
    }
    code = run(options, registry=ModelRegistry({family: family_dirs[family]}), device=cpu, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    video = probe_video(tmp_path / "clip.mp4")
    rendered = 8 if family in ("text-to-video-sd", "animatediff") else 9  # 4k + 1 for the temporal VAEs
    assert (video.codec, video.pix_fmt, video.frames, video.fps, video.width, video.height) == (
        "h264", "yuv420p", rendered, 8.0, 64, 64
    )
    assert ("Note: 8 frames were asked for" in out.getvalue()) == (rendered != 8)


@pytest.mark.parametrize(
    ("family", "pipeline", "size", "frames", "fps", "call_args"),
    [
        ("text-to-video-sd", "TextToVideoSDPipeline", (16, 16), 16, 8, {}),
        ("cogvideox", "CogVideoXPipeline", (16, 16), 9, 8, {"max_sequence_length": 16}),
        ("ltx-video", "LTXPipeline", (512, 704), 161, 25, {}),
        ("wan", "WanPipeline", (480, 832), 81, 16, {}),
    ],
)
def test_native_size_frames_fps_and_arguments_come_from_the_family(
    family_dirs: dict[str, Path], family: str, pipeline: str, size: tuple, frames: int, fps: int, call_args: dict
) -> None:
    info = inspect_model(family_dirs[family])
    d = info.defaults
    assert (info.pipeline_class, (d.height, d.width), d.num_frames, d.fps) == (pipeline, size, frames, fps)
    assert info.call_args == call_args
    # The defaults alone form a valid clip: nothing for the marketer to fix.
    assert validate(RenderRequest(prompt=PROMPT, seed=0), info).num_frames == frames


@pytest.mark.parametrize(
    ("requested", "step", "limit", "rendered"),
    [(8, 4, 240, 9), (9, 4, 240, 9), (10, 4, 240, 9), (11, 4, 240, 13), (3, 4, 240, 5), (24, 8, 240, 25),
     (20, 8, 240, 17), (24, 4, 23, 21), (7, 1, 240, 7)],
)
def test_a_frame_count_becomes_the_nearest_the_family_can_render(
    requested: int, step: int, limit: int, rendered: int
) -> None:
    assert nearest_frames(requested, step, limit) == rendered


def test_validation_moves_frames_onto_the_grid_and_remembers_the_request(registry: ModelRegistry) -> None:
    wan = registry.resolve("tiny-wan")
    r = validate(RenderRequest(prompt=PROMPT, seed=0, num_frames=24, fps=8, width=16, height=16), wan)
    assert (r.num_frames, r.frames_requested) == (25, 24)
    assert "24 frames were asked for" in r.frames_note(wan.frame_step)
    on_grid = validate(RenderRequest(prompt=PROMPT, seed=0, num_frames=9, fps=8, width=16, height=16), wan)
    assert (on_grid.num_frames, on_grid.frames_requested, on_grid.frames_note(4)) == (9, None, None)


@pytest.mark.slow
def test_provenance_says_once_what_was_asked_for_and_what_was_rendered(
    registry: ModelRegistry, cpu, warm_cache: PipelineCache
) -> None:
    request = RenderRequest(prompt=PROMPT, seed=1, num_frames=8, fps=8, width=16, height=16, steps=1,
                            model="tiny-wan")
    result = render(request, registry=registry, device=cpu, cache=warm_cache)
    p = result.provenance()
    assert (p["frames_requested"], p["frames_rendered"], result.frames.shape[0]) == (8, 9, 9)
    assert len(p["notes"]) == 1 and "rendered the nearest valid count, 9 (1.12 s at 8 fps)" in p["notes"][0]


def test_clipcast_json_overrides_size_fps_and_passes_call_arguments(ltx_dir: Path, folder_with) -> None:
    folder = folder_with(ltx_dir, {"height": 32, "width": 48, "fps": 24, "num_frames": 17,
                                   "call": {"decode_timestep": 0.05, "max_sequence_length": 8}})
    info = inspect_model(folder)
    assert (info.defaults.height, info.defaults.width, info.defaults.fps, info.defaults.num_frames) == (32, 48, 24, 17)
    assert info.call_args == {"decode_timestep": 0.05, "max_sequence_length": 8}


def test_an_argument_the_pipeline_does_not_take_is_refused_at_load_naming_model_and_argument(
    ltx_dir: Path, folder_with
) -> None:
    folder = folder_with(ltx_dir, {"call": {"max_seq_len": 8}})
    with pytest.raises(ModelIncomplete, match=r"Model 'ltx'.*sets 'max_seq_len'.*LTXPipeline.__call__ does not "
                                              r"accept.*max_sequence_length"):
        ModelRegistry({"ltx": folder}).resolve("ltx")


def test_a_call_section_may_not_set_what_each_request_sets(ltx_dir: Path, folder_with) -> None:
    folder = folder_with(ltx_dir, {"call": {"num_frames": 9}})
    with pytest.raises(ModelIncomplete, match=r"sets 'num_frames', which Clipcast sets from each request"):
        inspect_model(folder)


@pytest.mark.slow
def test_a_failure_inside_the_pipeline_names_the_model_and_its_arguments(
    cogvideox_dir: Path, folder_with, tmp_path: Path, cpu
) -> None:
    # CogVideoX's positional embedding is sized for 16 text tokens: 12 makes the transformer raise a RuntimeError.
    folder = folder_with(cogvideox_dir, {"call": {"max_sequence_length": 12}})
    registry = ModelRegistry({"cog": folder})
    request = RenderRequest(prompt=PROMPT, seed=0, num_frames=9, fps=8, width=16, height=16, steps=1, model="cog")
    with pytest.raises(RenderFailed, match=r"Model 'cog' \(CogVideoXPipeline\) failed rendering 9 frames at 16x16.*"
                                           r"max_sequence_length=12: RuntimeError") as failure:
        render(request, registry=registry, device=cpu, cache=PipelineCache(capacity=1))
    assert failure.value.permanent
    out, err = io.StringIO(), io.StringIO()
    options = {"prompt": PROMPT, "model": "cog", "frames": 9, "size": (16, 16), "steps": 1,
               "output": str(tmp_path / "x.mp4"), "no_progress": True}
    assert run(options, registry=registry, device=cpu, stdout=out, stderr=err) == 2
    assert "Traceback" not in err.getvalue() and "max_sequence_length=12" in err.getvalue()
