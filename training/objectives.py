"""What the diffusion stages minimise: the weighted v-loss and the auxiliary slot loss on the pooled text.

The slot loss exists because of a measured failure (TRAINING_LOG.md, 2026-12-03): trained on the denoising loss
alone, the text encoder left "moving left/right/up/down" 0.06-0.13 apart in pooled space (a colour change moves
it 2-6), so the UNet could not tell the directions apart. A linear head that must read colour, shape, motion and
background back from the pooled embedding forces each slot to be linearly separable there. The head is used only
for training and is never saved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from training.autoencoder import frames_to_tensor, reconstruction_loss
from training.data import (
    COLOUR_NAMES,
    MOTIONS,
    SHAPES,
    SIZE,
    ClipSpec,
    render_clip,
    shape_mask,
    trajectory,
)

SLOT_VOCABULARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("colour", COLOUR_NAMES),
    ("shape", SHAPES),
    ("motion", MOTIONS),
    ("background", COLOUR_NAMES),
)


def slot_labels(specs: Sequence[ClipSpec]) -> torch.Tensor:
    """(B, 4) class indices of each clip's colour, shape, motion and background."""
    return torch.tensor(
        [[vocab.index(getattr(spec, slot)) for slot, vocab in SLOT_VOCABULARIES] for spec in specs],
        dtype=torch.long,
    )


class SlotHeads(torch.nn.Module):
    """One linear classifier per slot over the pooled text embedding."""

    def __init__(self, text_dim: int) -> None:
        super().__init__()
        self.sizes = [len(vocab) for _, vocab in SLOT_VOCABULARIES]
        self.linear = torch.nn.Linear(text_dim, sum(self.sizes))

    def forward(self, pooled: torch.Tensor) -> list[torch.Tensor]:
        return list(self.linear(pooled).split(self.sizes, dim=-1))

    def loss(self, pooled: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Sum over the slots of the cross-entropy, averaged over the batch."""
        return sum(F.cross_entropy(logits, labels[:, i]) for i, logits in enumerate(self(pooled)))  # type: ignore[return-value]

    @torch.no_grad()
    def accuracy(self, pooled: torch.Tensor, labels: torch.Tensor) -> float:
        """Share of (clip, slot) pairs the heads read right."""
        hits = [(logits.argmax(-1) == labels[:, i]).float().mean() for i, logits in enumerate(self(pooled))]
        return float(torch.stack(hits).mean())


def v_loss_weight(snr: torch.Tensor, x0_floor: float = 0.0) -> torch.Tensor:
    """Min-SNR-5 weight for a v-prediction loss, i.e. an x0-loss weight of min(snr, 5).

    `x0_floor` raises that x0 weight to at least the floor: plain min-SNR gives the noisiest steps (snr near 0)
    almost no weight, yet those steps decide where the shape starts and which way it goes.
    """
    return snr.clamp(max=5.0).clamp(min=x0_floor) / (snr + 1)


def shape_footprint(spec: ClipSpec, num_frames: int, latent_size: int = 8) -> np.ndarray:
    """(F, latent_size, latent_size) bool: the latent pixels the shape touches, grown by one pixel all round.

    Grown, because where a wrongly drawn shape differs from the right one (a square's corners, a circle's rim)
    lies on the shape's edge, half outside it.
    """
    cx, cy, sides = trajectory(spec, num_frames)
    cell = SIZE // latent_size
    touched = np.stack(
        [
            shape_mask(spec.shape, x, y, side).reshape(latent_size, cell, latent_size, cell).any(axis=(1, 3))
            for x, y, side in zip(cx, cy, sides, strict=True)
        ]
    )
    grown = touched.copy()
    grown[:, 1:] |= touched[:, :-1]
    grown[:, :-1] |= touched[:, 1:]
    grown[:, :, 1:] |= grown[:, :, :-1].copy()
    grown[:, :, :-1] |= grown[:, :, 1:].copy()
    return grown


def shape_loss_weight(specs: Sequence[ClipSpec], num_frames: int, shape_weight: float) -> torch.Tensor:
    """(B, 1, F, 8, 8) per-latent weight: 1 on the background, 1 + `shape_weight` on and around the shape.

    The shape covers about a tenth of the frame, so an unweighted loss spends nine tenths of its effort on a flat
    background and is content with rounded corners: squares read as circles was the last failure left after the
    slot loss fixed motion (TRAINING_LOG.md).
    """
    footprints = np.stack([shape_footprint(spec, num_frames) for spec in specs])
    return 1.0 + shape_weight * torch.from_numpy(footprints).float().unsqueeze(1)


def decoded_pixel_loss(
    vae: torch.nn.Module,
    x0_pred: torch.Tensor,
    specs: Sequence[ClipSpec],
    signal: torch.Tensor,
    rng: np.random.Generator,
    clips: int = 8,
    frames_per_clip: int = 2,
) -> torch.Tensor:
    """Shape-weighted pixel loss of the predicted clean latents, decoded by the frozen decoder.

    A latent-space loss cannot see what decides circle against square: a corner is a sub-latent-pixel detail that
    only the decoder turns into pixels, and a small latent error there costs little in latent MSE. Decoding a few
    frames of the x0 prediction and comparing them with the true frames puts the loss where the analyser looks.
    `x0_pred` is (B, C, F, H, W) in scaled latent units; `signal` (B,) is alpha-bar of each sample's timestep, so
    the nearly clean steps, where the prediction can be sharp, count most.
    """
    num_frames = x0_pred.shape[2]
    chosen = list(range(min(clips, len(specs))))
    latents, targets, weights = [], [], []
    for b in chosen:
        picks = rng.choice(num_frames, frames_per_clip, replace=False)
        truth = render_clip(specs[b], num_frames)[picks]
        latents.append(x0_pred[b, :, picks].permute(1, 0, 2, 3))
        targets.append(frames_to_tensor(truth))
        weights.append(signal[b].expand(frames_per_clip))
    z = torch.cat(latents) / vae.config.scaling_factor
    recon = vae.decode(z).sample
    return reconstruction_loss(recon, torch.cat(targets), torch.cat(weights))
