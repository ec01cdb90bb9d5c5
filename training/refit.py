"""Stage 4 of training: refit the decoder on the model's own samples.

The decoder was trained on the encoder's latents (plus a little noise), but it decodes the diffusion model's
latents, which land off that manifold in a systematic way: corners half-drawn, rims lumpy. Those latents still
carry the prompt's shape more often than the stock decoder shows, so the decoder learns to read them: the model
renders training prompts (seen colour pairs only), each sample's frames are redrawn as clean ground truth with the
prompt's colour, shape and background at the position and size the sample itself shows, and the decoder is
fine-tuned to map the sample's latents to that redrawing (beside its usual reconstruction loss, so it keeps
decoding true latents). The encoder and the UNet are untouched.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from training import components as C
from training.analyser import _FOREGROUND_DISTANCE, _largest_component
from training.autoencoder import (
    decoder_optimiser,
    frame_batch,
    frames_to_tensor,
    jittered_latents,
    log_agreement,
    optimiser_step,
    reconstruction_loss,
)
from training.data import COLOURS, SIZE, ClipSpec, sample_training_spec, shape_mask
from training.journal import log

_MIN_PIXELS = 12
_SAMPLE_FRAMES = 8


def sample_latents(pipe: object, specs: list[ClipSpec], guidance: float, seed: int, batch: int = 12) -> np.ndarray:
    """The model's clean latents (N, C, F, H, W), scaled as the UNet sees them, for the canonical prompts."""
    out = []
    for i in tqdm(range(0, len(specs), batch), desc="refit samples", dynamic_ncols=True):
        chunk = specs[i : i + batch]
        generators = [torch.Generator().manual_seed(seed * 1_000_003 + i + j) for j in range(len(chunk))]
        with torch.no_grad():
            z = pipe(  # type: ignore[operator]
                prompt=[s.canonical for s in chunk],
                num_frames=_SAMPLE_FRAMES,
                num_inference_steps=20,
                guidance_scale=guidance,
                generator=generators,
                output_type="latent",
            ).frames
        out.append(z.float().numpy())
    return np.concatenate(out)


def redraw(frames: np.ndarray, spec: ClipSpec) -> np.ndarray | None:
    """Clean frames (F, 64, 64, 3) uint8 of `spec`'s colour, shape and background, each frame's shape placed in the
    bounding box of the largest foreground blob of the decoded sample `frames` (F, 64, 64, 3) in 0..1.
    None when a frame shows no shape (nothing to redraw)."""
    background = np.array(COLOURS[spec.background], dtype=np.float64) / 255.0
    target = np.empty((len(frames), SIZE, SIZE, 3), dtype=np.uint8)
    for i, frame in enumerate(frames):
        blob = _largest_component(np.sqrt(((frame - background) ** 2).sum(-1)) > _FOREGROUND_DISTANCE)
        ys, xs = np.nonzero(blob)
        if len(ys) < _MIN_PIXELS:
            return None
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        target[i] = COLOURS[spec.background]
        target[i][shape_mask(spec.shape, (x0 + x1) / 2, (y0 + y1) / 2, float(max(y1 - y0, x1 - x0)))] = COLOURS[
            spec.colour
        ]
    return target


def refit_pairs(vae: C.AutoencoderKL, latents: np.ndarray, specs: list[ClipSpec]) -> tuple[torch.Tensor, torch.Tensor]:
    """(latent frames (M, C, H, W) unscaled, redrawn target frames (M, 3, 64, 64) in -1..1) over the usable samples."""
    b, c, f, h, w = latents.shape
    z = torch.from_numpy(latents).permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w) / vae.config.scaling_factor
    with torch.no_grad():
        decoded = torch.cat([vae.decode(z[i : i + 64]).sample for i in range(0, len(z), 64)])
    frames = decoded.permute(0, 2, 3, 1).clamp(-1, 1).add(1).div(2).numpy().reshape(b, f, SIZE, SIZE, 3)
    inputs, targets = [], []
    for k, spec in enumerate(specs):
        target = redraw(frames[k], spec)
        if target is not None:
            inputs.append(z[k * f : (k + 1) * f])
            targets.append(frames_to_tensor(target))
    return torch.cat(inputs), torch.cat(targets)


def refit_decoder(args: argparse.Namespace, workdir: Path, vae: C.AutoencoderKL, trained: dict) -> C.AutoencoderKL:
    path = workdir / "vae_refit"
    if (path / "config.json").exists():
        return C.AutoencoderKL.from_pretrained(path).requires_grad_(False).eval()
    began = time.time()
    rng = np.random.default_rng(args.seed + 500)
    specs = [sample_training_spec(rng) for _ in range(args.refit_clips)]
    samples_path = workdir / "refit_samples.npy"
    if samples_path.exists():
        latents = np.load(samples_path)
    else:
        pipe = C.assemble_pipeline(vae, trained["text"], trained["tokenizer"], trained["unet"])
        pipe.set_progress_bar_config(disable=True)
        latents = sample_latents(pipe, specs, args.refit_guidance, args.seed + 500)
        np.save(samples_path, latents)
    inputs, targets = refit_pairs(vae, latents, specs)
    log(
        workdir,
        "refit_samples",
        clips=len(specs),
        usable_frames=len(inputs),
        minutes=round((time.time() - began) / 60, 1),
    )

    torch.manual_seed(args.seed + 500)
    opt, sched = decoder_optimiser(vae, args.refit_lr, args.refit_steps, warmup_share=0.05)
    vae.train()
    bar = tqdm(range(args.refit_steps), desc="decoder refit", dynamic_ncols=True)
    for step in bar:
        pick = torch.from_numpy(rng.choice(len(inputs), 12, replace=False))
        truth = frame_batch(rng, 2)
        loss = reconstruction_loss(
            vae.decode(inputs[pick]).sample, targets[pick]
        ) + args.refit_truth_weight * reconstruction_loss(
            vae.decode(jittered_latents(vae, truth, args.decoder_noise)).sample, truth
        )
        optimiser_step(opt, sched, loss)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % 500 == 0 or step == args.refit_steps - 1:
            log_agreement(vae, args, workdir, "refit_step", step, loss.item())
    vae.requires_grad_(False).eval()
    vae.save_pretrained(path)
    log(workdir, "refit_done", minutes=round((time.time() - began) / 60, 1))
    return vae
