"""Stage 1 of training: the autoencoder (64x64 frames <-> 8x8x8 latents) and its decoder fine-tune."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from training import components as C
from training.analyser import analyse
from training.data import MAX_FRAMES, render_clip, sample_training_spec
from training.journal import log


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in -1..1."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1.0


# ---------------------------------------------------------------- stage 1: autoencoder


def reconstruction_loss(
    recon: torch.Tensor, x: torch.Tensor, frame_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """MSE + L1, with the shape's pixels weighted up: edges decide circle vs square vs triangle, and the shape
    covers a tenth of the frame, so an unweighted loss is happy to blur it. `frame_weights` (N,) scales each frame."""
    background = x[:, :, :1, :1]  # every frame's corner pixel is background (shapes stay MARGIN px inside)
    shape = ((x - background).abs().amax(1, keepdim=True) > 0.1).float()
    weight = 1.0 + 4.0 * shape
    if frame_weights is not None:
        weight = weight * frame_weights.view(-1, 1, 1, 1)
    return (weight * ((recon - x) ** 2 + 0.1 * (recon - x).abs())).mean()


def frame_batch(rng: np.random.Generator, clips: int) -> torch.Tensor:
    """Two random frames from each of `clips` fresh training clips."""
    batch = []
    for _ in range(clips):
        clip = render_clip(sample_training_spec(rng), MAX_FRAMES)
        batch.append(clip[rng.choice(MAX_FRAMES, 2, replace=False)])
    return frames_to_tensor(np.concatenate(batch))


def train_vae(args: argparse.Namespace, workdir: Path) -> C.AutoencoderKL:
    path = workdir / "vae"
    if (path / "config.json").exists():
        return C.AutoencoderKL.from_pretrained(path)
    torch.manual_seed(args.seed)
    vae = C.build_vae()
    opt = torch.optim.Adam(vae.parameters(), lr=args.vae_lr)
    rng = np.random.default_rng(args.seed)
    bar = tqdm(range(args.vae_steps), desc="autoencoder", dynamic_ncols=True)
    for step in bar:
        # Warmup, then cosine: a fresh autoencoder first sits on a "mean colour" plateau; it leaves it sooner at a
        # moderate rate than at a high one.
        warm = min(1.0, (step + 1) / 100)
        for group in opt.param_groups:
            group["lr"] = args.vae_lr * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * step / args.vae_steps)))
        x = frame_batch(rng, args.vae_batch // 2)
        loss = reconstruction_loss(vae.decode(vae.encode(x).latent_dist.mean).sample, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % 250 == 0 or step == args.vae_steps - 1:
            log_agreement(vae, args, workdir, "vae_step", step, loss.item())
    vae.eval()
    rng = np.random.default_rng(args.seed + 200)
    # Unit-variance latents for the diffusion stage.
    with torch.no_grad():
        z = vae.encode(frame_batch(rng, 64)).latent_dist.mean
    vae.register_to_config(scaling_factor=float(1.0 / z.std()))
    vae.save_pretrained(path)
    log(workdir, "vae_done", scaling_factor=vae.config.scaling_factor)
    return vae


def reconstruction_agreement(vae: C.AutoencoderKL, seed: int, count: int = 32) -> float:
    """Share of clips whose decoded reconstruction the analyser reads exactly as the original."""
    rng = np.random.default_rng(seed)
    clips = [render_clip(sample_training_spec(rng), 8) for _ in range(count)]
    with torch.no_grad():
        z = vae.encode(frames_to_tensor(np.concatenate(clips))).latent_dist.mean
        recon = vae.decode(z).sample.permute(0, 2, 3, 1).clamp(-1, 1).add(1).div(2).numpy()
    recon = recon.reshape(count, 8, *recon.shape[1:])
    return sum(analyse(r).as_dict() == analyse(c).as_dict() for r, c in zip(recon, clips, strict=True)) / count


def log_agreement(
    vae: C.AutoencoderKL, args: argparse.Namespace, workdir: Path, event: str, step: int, loss: float
) -> None:
    vae.eval()
    agreement = reconstruction_agreement(vae, args.seed + 400)
    log(workdir, event, step=step, loss=round(loss, 5), analyser_agreement=agreement)
    vae.train()


def decoder_optimiser(
    vae: C.AutoencoderKL, lr: float, steps: int, warmup_share: float
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam with a one-cycle schedule over the decoder alone; the encoder stays frozen, so cached latents stay valid."""
    vae.requires_grad_(False)
    params = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=warmup_share)


def jittered_latents(vae: C.AutoencoderKL, x: torch.Tensor, noise: float) -> torch.Tensor:
    """The encoder's latents of frames `x`, jittered: diffusion samples land near, not on, them."""
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mean
    return z + noise * torch.randn_like(z)


def optimiser_step(opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()


def finetune_decoder(args: argparse.Namespace, workdir: Path, vae: C.AutoencoderKL) -> C.AutoencoderKL:
    """Sharpen the decoder (edges decide circle vs triangle) with the encoder frozen, so cached latents stay valid."""
    path = workdir / "vae_decoder"
    if (path / "config.json").exists():
        return C.AutoencoderKL.from_pretrained(path)
    torch.manual_seed(args.seed + 300)
    opt, sched = decoder_optimiser(vae, args.decoder_lr, args.decoder_steps, warmup_share=0.02)
    rng = np.random.default_rng(args.seed + 300)
    bar = tqdm(range(args.decoder_steps), desc="decoder", dynamic_ncols=True)
    for step in bar:
        x = frame_batch(rng, 8)
        loss = reconstruction_loss(vae.decode(jittered_latents(vae, x, args.decoder_noise)).sample, x)
        optimiser_step(opt, sched, loss)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % 250 == 0 or step == args.decoder_steps - 1:
            log_agreement(vae, args, workdir, "decoder_step", step, loss.item())
            vae.save_pretrained(workdir / "vae_decoder_partial")
    vae.requires_grad_(False).eval()
    vae.save_pretrained(path)
    return vae
