"""Stage 2 of training: the cache of encoded training clips the diffusion stages sample their batches from.

Distinct clips, not steps, were what moved held-out shape (TRAINING_LOG.md: each stage-3e round on a fresh cache
gained, repeats over one cache did not). So the cache is built for count: most clips are encoded for 8 frames only
(a 24-frame batch is one step in seven, at a third of the batch), and the frozen encoder runs under bf16 autocast,
2.7x faster on CPU; its latents differ from fp32 by less than the jitter the decoder is sharpened against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from training import components as C
from training.autoencoder import frames_to_tensor
from training.data import MAX_FRAMES, SHAPES, ClipSpec, render_clip, sample_training_spec
from training.journal import log

SHORT_FRAMES = 8
_ENCODE_FRAMES = 384  # frames per encoder batch


@dataclass
class LatentCache:
    """Scaled latents of training clips: every clip's first 8 frames, and the whole 24 for the first `len(long)`."""

    specs: list[ClipSpec]
    short: np.ndarray  # (N, 8, C, 8, 8) float16
    long: np.ndarray  # (M, 24, C, 8, 8) float16, M <= N; clip i < M is specs[i]
    shape_mix: tuple[float, ...] | None = None  # the weights the specs' shapes were drawn with (None: uniform)

    def __post_init__(self) -> None:
        if len(self.short) != len(self.specs) or len(self.long) > len(self.specs):
            raise ValueError(
                f"cache shapes disagree: {len(self.specs)} specs, {len(self.short)} short, {len(self.long)} long clips"
            )
        if len(self.long) == 0:
            raise ValueError("the cache needs at least one 24-frame clip for the long batches")

    @classmethod
    def from_full(cls, latents: np.ndarray, specs: list[ClipSpec]) -> LatentCache:
        """A cache whose clips all have their 24 frames (the layout of caches before the short/long split)."""
        return cls(specs=list(specs), short=np.ascontiguousarray(latents[:, :SHORT_FRAMES]), long=latents)

    def sample(self, rng: np.random.Generator, batch: int, frames: int) -> tuple[torch.Tensor, list[ClipSpec]]:
        """A batch of clean latents (B, C, F, H, W) and their specs; 24-frame batches draw from the long clips, and
        single-frame batches (the image steps) one random frame of each of `batch` short clips."""
        if frames == 1:
            idx = rng.integers(len(self.short), size=batch)
            latents = self.short[idx, rng.integers(SHORT_FRAMES, size=batch)][:, None]
        elif frames == SHORT_FRAMES:
            idx = rng.integers(len(self.short), size=batch)
            latents = self.short[idx]
        else:
            idx = rng.integers(len(self.long), size=batch)
            latents = self.long[idx, :frames]
        x0 = torch.from_numpy(latents.astype(np.float32)).permute(0, 2, 1, 3, 4)
        return x0, [self.specs[i] for i in idx]

    def save(self, path: Path) -> None:
        np.savez(
            path,
            short=self.short,
            long=self.long,
            specs=np.array(self.specs, dtype=object),
            shape_mix=np.array(self.shape_mix if self.shape_mix is not None else [], dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path) -> LatentCache:
        data = np.load(path, allow_pickle=True)
        if "latents" in data:
            return cls.from_full(data["latents"], list(data["specs"]))
        mix = tuple(float(w) for w in data["shape_mix"]) if "shape_mix" in data else ()
        return cls(specs=list(data["specs"]), short=data["short"], long=data["long"], shape_mix=mix or None)


def encode_clips(vae: C.AutoencoderKL, specs: list[ClipSpec], frames: int, desc: str) -> np.ndarray:
    """Scaled latents (N, frames, C, 8, 8) float16 of the clips drawn from `specs`."""
    scale = vae.config.scaling_factor
    out = np.empty((len(specs), frames, C.LATENT_CHANNELS, 8, 8), dtype=np.float16)
    per_batch = max(1, _ENCODE_FRAMES // frames)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for i in tqdm(range(0, len(specs), per_batch), desc=desc, dynamic_ncols=True):
            pixels = np.concatenate([render_clip(s, frames) for s in specs[i : i + per_batch]])
            z = vae.encode(frames_to_tensor(pixels)).latent_dist.mean.float() * scale
            out[i : i + per_batch] = z.reshape(-1, frames, C.LATENT_CHANNELS, 8, 8).numpy().astype(np.float16)
    return out


def build_cache(
    vae: C.AutoencoderKL,
    workdir: Path,
    clips: int,
    long_share: float,
    seed: int,
    name: str = "latents.npz",
    shape_mix: tuple[float, ...] | None = None,
) -> LatentCache:
    """The workdir's cache, built once: `clips` training clips, the first `long_share` of them at 24 frames, their
    shapes drawn by `shape_mix` (weights of circle, square, triangle; None: uniform)."""
    path = workdir / name
    if path.exists():
        cache = LatentCache.load(path)
        wanted = tuple(float(w) for w in shape_mix) if shape_mix is not None else None
        if cache.shape_mix != wanted:
            raise ValueError(
                f"{path} was built with shape mix {cache.shape_mix or 'uniform'}, not {wanted or 'uniform'}: "
                "use a new --workdir for another mix"
            )
        return cache
    if clips < 1 or not 0 < long_share <= 1:
        raise ValueError(f"need clips >= 1 and 0 < long share <= 1, got {clips} and {long_share}")
    rng = np.random.default_rng(seed)
    specs = [sample_training_spec(rng, shape_mix) for _ in range(clips)]
    long_count = max(1, round(clips * long_share))
    long = encode_clips(vae, specs[:long_count], MAX_FRAMES, "encode 24-frame clips")
    short_rest = encode_clips(vae, specs[long_count:], SHORT_FRAMES, "encode 8-frame clips")
    cache = LatentCache(
        specs=specs,
        short=np.concatenate([long[:, :SHORT_FRAMES], short_rest]),
        long=long,
        shape_mix=tuple(float(w) for w in shape_mix) if shape_mix is not None else None,
    )
    cache.save(path)
    log(
        workdir,
        "cache_done",
        clips=clips,
        long_clips=long_count,
        std=float(cache.short.astype(np.float32).std()),
        shapes={shape: sum(s.shape == shape for s in specs) for shape in SHAPES},
    )
    return cache
