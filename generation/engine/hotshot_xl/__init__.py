"""Hotshot-XL, run natively: its original folder loads into Clipcast's own UNet (SDXL spatial layers + Hotshot-XL
temporal layers) and pipeline, without conversion. See docs/HOTSHOT_XL.md for why it is not converted to
diffusers' AnimateDiff-SDXL classes.

Imports torch and diffusers lazily (the registry asks `NATIVE_FAMILIES` on every folder it inspects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class NativeFamily:
    """A pipeline class stock diffusers lacks and Clipcast implements: how to load it, and its render defaults."""

    pipeline_class: str
    max_frames: int
    fps: int
    sizes: tuple[tuple[int, int], ...]  # (width, height) the model was trained at; the first is the default
    loader: str  # which code loads the folder, for the user

    @property
    def route(self) -> str:
        """What the user is told about this folder: which path it takes, and the sizes it was trained for."""
        sizes = ", ".join(f"{w}x{h}" for w, h in self.sizes)
        return f"{self.loader} Trained for {self.fps} fps clips at {sizes} (width x height)."

    def pipeline_type(self) -> type:
        from generation.engine.hotshot_xl.pipeline import HotshotXLPipeline

        return HotshotXLPipeline

    def check(self, folder: str | Path) -> None:
        """Refuse, from configs alone, a folder whose UNet config this code does not implement (UnsupportedModel)."""
        from generation.engine.hotshot_xl.loading import read_unet_config

        if (Path(folder) / "unet" / "config.json").is_file():
            read_unet_config(Path(folder) / "unet")

    def load(self, folder: str | Path, dtype: Any) -> Any:
        from generation.engine.hotshot_xl.loading import load_hotshot_xl

        return load_hotshot_xl(folder, dtype)


HOTSHOT_XL = NativeFamily(
    pipeline_class="HotshotXLPipeline",
    max_frames=24,  # the frame-position table saved with the weights has 24 rows
    fps=8,
    # Hotshot-XL's aspect-ratio buckets around 512x512 (its README, "Supported Aspect Ratios").
    sizes=((512, 512), (320, 768), (384, 672), (416, 608), (608, 416), (672, 384), (768, 320)),
    loader=(
        "Hotshot-XL folder: Clipcast loads it natively from the original folder (its own Hotshot-XL UNet and "
        "pipeline in generation/engine/hotshot_xl), no conversion and no hotshot_xl package needed."
    ),
)
NATIVE_FAMILIES = {HOTSHOT_XL.pipeline_class: HOTSHOT_XL}

__all__ = ["HOTSHOT_XL", "NATIVE_FAMILIES", "NativeFamily"]
