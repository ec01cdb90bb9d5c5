"""Stage 1, structured: a latent whose colour and layout are separate channels (`--structured-latent`).

The learned autoencoder's latents mix colour and layout, so a held-out (colour, background) pair needs latent
patterns no training clip had, and the UNet drew those pairs' squares round (TRAINING_LOG.md, seventeenth session:
with the token embeddings of a seen background the same squares keep their corners). Here the latent is built, not
learned, on the colour side:

- channels 0-2: the frame average-pooled to 8x8, linear in the colours (a held-out pair is a sum of seen ones);
- channels 3-7: a code of the shape's mask alone (`LayoutEncoder`), the same for every colour pair by construction.

The diffusers `AutoencoderKL` decoder learns to draw both back (with jitter, as diffusion samples land near, not on,
the latents), each channel is standardised (folded into `post_quant_conv`, so the folder stays a plain
`AutoencoderKL`), and its RGB encoder is regressed onto the latents for completeness. Training reads the exact
latents (`ExactEncoder`), never the regressed encoder; the layout encoder is kept beside the released folder
(`layout_encoder.safetensors`) so that later rounds cache the same latents.
"""

from __future__ import annotations

import argparse
import math
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from training import components as C
from training.autoencoder import frame_batch, reconstruction_loss
from training.journal import log

COLOUR_CHANNELS = 3
LAYOUT_CHANNELS = C.LATENT_CHANNELS - COLOUR_CHANNELS
LAYOUT_FILE = "layout_encoder.safetensors"
_PATCH = 8  # the autoencoder's downsampling


class LayoutEncoder(nn.Module):
    """A 64x64 foreground mask -> a (LAYOUT_CHANNELS, 8, 8) code in -1..1. Training only: it never sees a colour."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(16, 32, 4, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(64, 64, 4, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(64, LAYOUT_CHANNELS, 1),
        )

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(mask * 2 - 1))


def foreground_mask(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) frames in -1..1 -> (N, 1, H, W) 0/1: the pixels unlike the corner (always background)."""
    return ((x - x[:, :, :1, :1]).abs().amax(1, keepdim=True) > 0.1).float()


def raw_latents(x: torch.Tensor, layout: LayoutEncoder) -> torch.Tensor:
    """Unstandardised latents (N, 8, 8, 8): pooled colours, then the mask's layout code."""
    return torch.cat([F.avg_pool2d(x, _PATCH), layout(foreground_mask(x))], 1)


@dataclass
class ChannelNorm:
    mean: torch.Tensor  # (C,)
    std: torch.Tensor  # (C,)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.mean.view(1, -1, 1, 1)) / self.std.view(1, -1, 1, 1)

    @classmethod
    def measure(cls, z: torch.Tensor) -> ChannelNorm:
        return cls(z.mean(dim=(0, 2, 3)), z.std(dim=(0, 2, 3)))


@torch.no_grad()
def fold_channel_norm(vae: C.AutoencoderKL, norm: ChannelNorm) -> None:
    """Make the decoder take standardised latents: post_quant_conv(std * z + mean), folded into its 1x1 weights."""
    conv = vae.post_quant_conv
    weight = conv.weight[:, :, 0, 0].clone()
    conv.bias.copy_(conv.bias + weight @ norm.mean)
    conv.weight.copy_((weight * norm.std[None, :])[:, :, None, None])


class ExactEncoder:
    """Stands in for `vae` where the cache encodes clips: the constructed latents, standardised (unscaled, as
    `latent_dist.mean` is)."""

    def __init__(self, vae: C.AutoencoderKL, layout: LayoutEncoder, norm: ChannelNorm) -> None:
        self.vae, self.layout, self.norm = vae, layout.eval().requires_grad_(False), norm

    @property
    def config(self) -> object:  # the vae's current config: fitting the RGB encoder sets its scaling factor
        return self.vae.config

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> types.SimpleNamespace:
        # fp32 even under the cache's bf16 autocast: standardising divides the small layout codes by their std.
        with torch.autocast("cpu", enabled=False):
            z = self.norm(raw_latents(x.float(), self.layout))
        return types.SimpleNamespace(latent_dist=types.SimpleNamespace(mean=z))

    def save(self, path: Path) -> None:
        tensors = {f"layout.{k}": v.contiguous() for k, v in self.layout.state_dict().items()}
        save_file({**tensors, "norm.mean": self.norm.mean, "norm.std": self.norm.std}, path)

    @classmethod
    def load(cls, path: Path, vae: C.AutoencoderKL) -> ExactEncoder:
        tensors = load_file(path)
        layout = LayoutEncoder()
        layout.load_state_dict({k.removeprefix("layout."): v for k, v in tensors.items() if k.startswith("layout.")})
        return cls(vae, layout, ChannelNorm(tensors["norm.mean"], tensors["norm.std"]))


def structured_seed(args: argparse.Namespace) -> int:
    """`--structured-seed`, else the run's `--seed` (the shipped autoencoder is seed 0 under a seed-21 round)."""
    chosen = getattr(args, "structured_seed", None)
    return args.seed if chosen is None else chosen


def _cosine(step: int, steps: int, lr: float, floor: float) -> float:
    warm = min(1.0, (step + 1) / 100)
    return lr * warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / steps)))


def train_structured_vae(args: argparse.Namespace, workdir: Path) -> tuple[C.AutoencoderKL, ExactEncoder]:
    """The decoder and the layout encoder together, then the channel norm, then the RGB encoder; kept in
    `workdir/vae` and `workdir/layout_encoder.safetensors` (a second call loads them)."""
    folder, layout_path = workdir / "vae", workdir / LAYOUT_FILE
    if (folder / "config.json").exists() and layout_path.exists():
        vae = C.AutoencoderKL.from_pretrained(folder).requires_grad_(False).eval()
        return vae, ExactEncoder.load(layout_path, vae)
    seed = structured_seed(args)
    torch.manual_seed(seed)
    vae, layout = C.build_vae(), LayoutEncoder()
    params = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters(), *layout.parameters()]
    opt = torch.optim.Adam(params, lr=args.vae_lr)
    rng = np.random.default_rng(seed)
    bar = tqdm(range(args.structured_steps), desc="structured decoder", dynamic_ncols=True)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = _cosine(step, args.structured_steps, args.vae_lr, 0.1)
        x = frame_batch(rng, 8)
        z = raw_latents(x, layout)
        z = z + args.structured_jitter * torch.rand(len(z), 1, 1, 1) * torch.randn_like(z)
        loss = reconstruction_loss(vae.decode(z).sample, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    layout.eval().requires_grad_(False)
    with torch.no_grad():
        norm = ChannelNorm.measure(raw_latents(frame_batch(np.random.default_rng(seed + 99), 128), layout))
    fold_channel_norm(vae, norm)
    exact = ExactEncoder(vae, layout, norm)
    log(workdir, "structured_decoder_done", loss=round(loss.item(), 5), channel_std=norm.std.tolist())
    fit_rgb_encoder(args, workdir, vae, exact)
    vae.requires_grad_(False).eval()
    vae.save_pretrained(folder)
    exact.save(layout_path)
    return vae, exact


def fit_rgb_encoder(args: argparse.Namespace, workdir: Path, vae: C.AutoencoderKL, exact: ExactEncoder) -> None:
    """Regress the folder's RGB encoder onto the exact latents (img2img users get them), and set the scale."""
    vae.requires_grad_(False)
    params = [*vae.encoder.parameters(), *vae.quant_conv.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=args.vae_lr)
    seed = structured_seed(args)
    rng = np.random.default_rng(seed + 7)
    bar = tqdm(range(args.encoder_fit_steps), desc="rgb encoder", dynamic_ncols=True)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = _cosine(step, args.encoder_fit_steps, args.vae_lr, 0.05)
        x = frame_batch(rng, 8)
        loss = ((vae.encode(x).latent_dist.mean - exact.encode(x).latent_dist.mean) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    with torch.no_grad():
        x = frame_batch(np.random.default_rng(seed + 200), 64)
        z = exact.encode(x).latent_dist.mean
        rmse = float(((vae.encode(x).latent_dist.mean - z) ** 2).mean().sqrt())
    vae.register_to_config(scaling_factor=float(1.0 / z.std()))
    log(workdir, "rgb_encoder_done", rmse=round(rmse, 4), scaling_factor=vae.config.scaling_factor)


def exact_encoder_for(folder: Path, vae: C.AutoencoderKL) -> ExactEncoder | None:
    """A released folder's exact encoder, if it was trained with a structured latent."""
    path = folder / LAYOUT_FILE
    return ExactEncoder.load(path, vae) if path.exists() else None
