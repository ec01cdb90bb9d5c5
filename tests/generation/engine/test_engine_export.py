"""Export: an MP4 that X accepts (proved by reading it back), a looping GIF and a poster PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.engine import ExportError, probe_video, write_gif, write_mp4, write_poster


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    # A white square moving right over black: each frame differs, like a real clip.
    clip = np.zeros((8, 16, 16, 3), dtype=np.uint8)
    for t in range(8):
        clip[t, 5:11, t : t + 6] = 255
    return clip


def test_mp4_reads_back_as_h264_yuv420p_with_the_expected_frames(tmp_path: Path, frames: np.ndarray) -> None:
    info = write_mp4(frames, tmp_path / "clip.mp4", fps=8, size=(64, 64))
    again = probe_video(tmp_path / "clip.mp4")
    assert again == info
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.frames, info.fps, info.width, info.height) == (8, 8.0, 64, 64)
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert info.faststart
    assert info.x_problems() == []
    assert not (tmp_path / "clip.mp4.part").exists()


def test_mp4_upscaled_with_nearest_keeps_hard_edges(tmp_path: Path, frames: np.ndarray) -> None:
    info = write_mp4(frames, tmp_path / "clip.mp4", fps=8, size=(128, 96), resize="nearest")
    assert (info.width, info.height) == (128, 96)


@pytest.mark.parametrize(
    ("count", "fps", "size", "message"),
    [
        (2, 8, (64, 64), "last 0.25 s"),
        (8, 61, (64, 64), "61 fps"),
        (8, 8, (63, 64), "odd side"),
        (8, 8, (16, 16), "outside X's"),
        (8, 8, (200, 64), "exceeds 3:1"),
    ],
)
def test_mp4_that_x_would_refuse_is_not_written(tmp_path: Path, frames, count, fps, size, message) -> None:
    with pytest.raises(ExportError, match=message):
        write_mp4(frames[:count], tmp_path / "clip.mp4", fps=fps, size=size)
    assert not (tmp_path / "clip.mp4").exists()


def test_bad_frames_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"uint8 shaped \(T, H, W, 3\)"):
        write_mp4(np.zeros((8, 16, 16), dtype=np.float32), tmp_path / "clip.mp4", fps=8)


def test_probe_of_a_non_video_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"hello")
    with pytest.raises(ExportError, match=r"Cannot read junk\.mp4"):
        probe_video(junk)


def test_gif_loops_with_every_frame(tmp_path: Path, frames: np.ndarray) -> None:
    path = write_gif(frames, tmp_path / "clip.gif", fps=8, size=(48, 48))
    with Image.open(path) as gif:
        assert gif.size == (48, 48)
        assert gif.n_frames == 8
        assert gif.info["loop"] == 0
        assert abs(gif.info["duration"] - 125) <= 10  # GIF delays are whole centiseconds


def test_gif_frames_keep_the_clip_colours(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    colours = rng.integers(0, 256, size=(40, 3), dtype=np.uint8)  # more colours than one frame shows
    clip = colours[rng.integers(0, len(colours), size=(6, 12, 12))]
    path = write_gif(clip, tmp_path / "clip.gif", fps=8)
    with Image.open(path) as gif:
        shown = []
        for index in range(gif.n_frames):
            gif.seek(index)
            shown.append(np.asarray(gif.convert("RGB")))
    assert np.array_equal(np.stack(shown), clip)


def test_mp4_frames_match_the_upscaled_clip(tmp_path: Path, frames: np.ndarray) -> None:
    import av

    write_mp4(frames, tmp_path / "clip.mp4", fps=8, size=(64, 64), resize="nearest")
    with av.open(str(tmp_path / "clip.mp4")) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(int)
    expected = frames.repeat(4, axis=1).repeat(4, axis=2).astype(int)
    assert np.abs(decoded - expected).mean() < 4  # H.264 at CRF 18: close, not lossless


def test_poster_is_the_middle_frame(tmp_path: Path, frames: np.ndarray) -> None:
    path = write_poster(frames, tmp_path / "poster.png")
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert np.array_equal(np.asarray(png.convert("RGB")), frames[4])
    first = write_poster(frames, tmp_path / "first.png", size=(64, 64), which="first")
    with Image.open(first) as png:
        assert png.size == (64, 64)


def test_export_clip_writes_all_three_and_times_it(tmp_path: Path, frames: np.ndarray) -> None:
    from generation.engine import export_clip

    clip = export_clip(frames, tmp_path, fps=8, size=(720, 720), stem="c1", gif_max_side=120)
    assert (clip.video.width, clip.video.frames) == (720, 8)
    assert clip.mp4.exists() and clip.poster is not None and clip.poster.exists()
    assert clip.gif is not None
    with Image.open(clip.gif) as gif:
        assert gif.size == (120, 120)
        gif.seek(3)
        shown = np.asarray(gif.convert("RGB"))
    # The preview is a plain pixel upscale of the frame: no edge blended by a smoothing filter into a colour the
    # palette lacks.
    assert np.array_equal(shown, np.asarray(Image.fromarray(frames[3]).resize((120, 120), Image.Resampling.NEAREST)))
    assert clip.encode_s > 0
