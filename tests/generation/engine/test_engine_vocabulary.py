"""A closed-vocabulary model says which prompt words it cannot draw; an open-vocabulary model says nothing."""

from __future__ import annotations

import io
from pathlib import Path

from generation.engine import ModelRegistry
from generation.engine.cli import run


def test_the_bundled_model_knows_its_colours_shapes_motions_and_function_words() -> None:
    info = ModelRegistry().resolve("bundled")
    assert {"red", "magenta", "circle", "triangle", "moving", "left", "growing", "background"} <= info.vocabulary
    assert {"a", "an", "the", "on"} <= info.vocabulary
    assert info.unknown_words("a red circle moving left on a black background") == []
    assert info.unknown_words("A cat surfing at sunset", "a Red cat") == ["cat", "surfing", "at", "sunset"]


def test_the_warning_names_the_unknown_words_and_the_words_to_use() -> None:
    warning = ModelRegistry().resolve("bundled").vocabulary_warning("a cat surfing at sunset")
    assert "“cat”, “surfing”, “at”, “sunset”" in warning
    assert "colours: red, green" in warning and "shapes: circle, square, triangle" in warning


def test_a_model_without_a_vocabulary_is_open_and_flags_nothing(registry: ModelRegistry) -> None:
    info = registry.resolve("tiny")
    assert info.vocabulary is None
    assert info.unknown_words("a cat surfing at sunset") == []
    assert info.vocabulary_warning("a cat surfing at sunset") is None


def test_the_render_command_warns_on_stderr_before_rendering(tmp_path: Path, cpu) -> None:
    # 1000 frames is refused by validation, after the vocabulary check and before any denoising.
    options = {"prompt": "a cat surfing at sunset", "output": str(tmp_path / "x.mp4"), "frames": 1000,
               "no_progress": True}
    err = io.StringIO()
    assert run(options, registry=ModelRegistry(), device=cpu, stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().startswith("Warning: Model 'bundled' was never trained on “cat”, “surfing”")


def test_the_render_command_says_nothing_for_words_the_model_knows(tmp_path: Path, cpu) -> None:
    options = {"prompt": "a red circle moving left on a black background", "output": str(tmp_path / "x.mp4"),
               "frames": 1000, "no_progress": True}
    err = io.StringIO()
    run(options, registry=ModelRegistry(), device=cpu, stdout=io.StringIO(), stderr=err)
    assert "Warning" not in err.getvalue()
