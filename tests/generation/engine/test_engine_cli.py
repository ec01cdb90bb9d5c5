"""The render command's core: files written, one clear line and a non-zero code on bad input."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from generation.engine import ModelRegistry, probe_video
from generation.engine.cli import add_arguments, run


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_it_writes_the_mp4_gif_and_poster(tmp_path: Path, registry: ModelRegistry, cpu) -> None:
    out, err = io.StringIO(), io.StringIO()
    options = parse(
        "a red circle moving left on a black background", "--model", "tiny", "--frames", "8", "--fps", "8",
        "--seed", "7", "--output-size", "64x64", "-o", str(tmp_path / "out.mp4"), "--gif", str(tmp_path / "out.gif"),
        "--poster", str(tmp_path / "out.png"),
    )
    code = run(options, registry=registry, device=cpu, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    info = probe_video(tmp_path / "out.mp4")
    assert (info.codec, info.pix_fmt, info.frames, info.fps, info.width) == ("h264", "yuv420p", 8, 8.0, 64)
    assert (tmp_path / "out.gif").stat().st_size > 0 and (tmp_path / "out.png").stat().st_size > 0
    assert "Wrote" in out.getvalue() and "seed 7" in out.getvalue()
    assert "denoising" in err.getvalue()  # the progress bar


def test_bad_input_exits_2_with_the_reason(tmp_path: Path, registry: ModelRegistry, cpu) -> None:
    err = io.StringIO()
    options = parse("a red circle", "--model", "tiny", "--frames", "0", "-o", str(tmp_path / "out.mp4"))
    assert run(options, registry=registry, device=cpu, stdout=io.StringIO(), stderr=err) == 2
    assert "Frames must be a whole number from 1 to 24" in err.getvalue()
    assert not (tmp_path / "out.mp4").exists()


def test_an_unknown_model_exits_2(tmp_path: Path, registry: ModelRegistry, cpu) -> None:
    err = io.StringIO()
    options = parse("a red circle", "--model", "nope", "-o", str(tmp_path / "out.mp4"))
    assert run(options, registry=registry, device=cpu, stdout=io.StringIO(), stderr=err) == 2
    assert "Unknown model 'nope'" in err.getvalue()


def test_a_too_short_clip_is_refused_before_rendering(tmp_path: Path, registry: ModelRegistry, cpu) -> None:
    err = io.StringIO()
    options = parse("a red circle", "--model", "tiny", "--frames", "2", "-o", str(tmp_path / "out.mp4"))
    assert run(options, registry=registry, device=cpu, stdout=io.StringIO(), stderr=err) == 2
    assert "X accepts 0.5 to 140 s" in err.getvalue()
