"""Screen autoencoder decoders in seconds on a model's saved sampling results.

    python -m training.experiments.decoder_screen render --model generation/bundled --out var/latents.pt
    python -m training.experiments.decoder_screen score var/latents.pt generation/bundled/vae var/other/vae ...

A decoder does not change what the UNet samples: the pipeline's final latents are the same whichever decoder
turns them into frames. `render` runs the 108 held-out prompts once per seed set (seeds as `evaluate.py` draws
them: set k gives prompt i the seed 1000 k + i) and keeps the final latents; `score` decodes them the way
`AnimateDiffSDXLPipeline` does and scores the frames with the analyser, per seed set. Six seed sets of the
evaluation take about four minutes to render and seconds per decoder to score (TRAINING_LOG.md, seventeenth
session). The encoder must be the model's own: only the decoder may differ.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from training.data import ClipSpec, held_out_prompts
from training.render import Score

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@torch.no_grad()
def render_latents(
    pipe: object,
    specs: Sequence[ClipSpec],
    num_frames: int,
    guidance_scale: float,
    seed: int = 0,
    batch: int = 12,
    steps: int = 20,
) -> torch.Tensor:
    """The pipeline's final latents (len(specs), C, F, h, w), prompt i seeded with `seed + i`."""
    prompts = [s.canonical for s in specs]
    out = []
    for i in range(0, len(prompts), batch):
        generators = [torch.Generator().manual_seed(seed + j) for j in range(i, min(i + batch, len(prompts)))]
        latents = pipe(  # type: ignore[operator]
            prompt=prompts[i : i + batch],
            num_frames=num_frames,
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            generator=generators,
            output_type="latent",
        ).frames
        out.append(torch.as_tensor(latents))
    return torch.cat(out)


@torch.no_grad()
def decode_latents(vae: object, latents: torch.Tensor, chunk: int = 64) -> np.ndarray:
    """Frames (B, F, H, W, 3) in 0..1 from scaled latents (B, C, F, h, w), as the pipeline decodes them."""
    b, c, f = latents.shape[:3]
    z = latents.permute(0, 2, 1, 3, 4).reshape(b * f, c, *latents.shape[3:]) / vae.config.scaling_factor  # type: ignore[attr-defined]
    images = torch.cat([vae.decode(z[i : i + chunk]).sample for i in range(0, len(z), chunk)])  # type: ignore[attr-defined]
    images = (images / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).float()
    return images.reshape(b, f, *images.shape[1:]).numpy()


def score_decoder(vae: object, latent_sets: Sequence[torch.Tensor], specs: Sequence[ClipSpec]) -> list[Score]:
    """One analyser score per seed set of saved latents, decoded by `vae`."""
    scores = []
    for latents in latent_sets:
        score = Score()
        for spec, clip in zip(specs, decode_latents(vae, latents), strict=True):
            score.add(spec, clip)
        scores.append(score)
    return scores


def _render(args: argparse.Namespace) -> None:
    from training.evaluate import load

    pipe, settings = load(Path(args.model))
    guidance = args.guidance or float(settings["guidance_scale"])
    specs = held_out_prompts()
    sets = []
    for k in range(args.seed_sets):
        sets.append(render_latents(pipe, specs, args.frames, guidance, seed=1000 * k))
        print(f"seed set {1000 * k}: {len(specs)} prompts rendered", flush=True)
    torch.save({"model": str(args.model), "frames": args.frames, "guidance": guidance, "sets": sets}, args.out)
    print(f"saved {args.out}")


def _score(args: argparse.Namespace) -> None:
    from diffusers import AutoencoderKL

    saved = torch.load(args.latents)
    specs = held_out_prompts()
    sets = len(saved["sets"])
    print(f"latents of {saved['model']}: {saved['frames']} frames, guidance {saved['guidance']}, {sets} seed sets")
    for folder in args.vae:
        scores = score_decoder(AutoencoderKL.from_pretrained(folder), saved["sets"], specs)
        joint = [s.rates()["joint"] for s in scores]
        shape = [s.rates()["shape"] for s in scores]
        sets = " / ".join(f"{100 * j:.1f}" for j in joint)
        print(f"{folder}: joint {sets} (mean {100 * np.mean(joint):.1f}), mean shape {100 * np.mean(shape):.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="save the final latents of the held-out prompts")
    render.add_argument("--model", default="generation/bundled")
    render.add_argument("--out", required=True)
    render.add_argument("--frames", type=int, default=8)
    render.add_argument("--seed-sets", type=int, default=6)
    render.add_argument("--guidance", type=float, default=None, help="default: the model's clipcast.json")
    score = commands.add_parser("score", help="decode saved latents with each autoencoder folder and score them")
    score.add_argument("latents")
    score.add_argument("vae", nargs="+", help="autoencoder folders (the model's own encoder, any decoder)")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("CLIPCAST_THREADS", "2")))
    if args.command == "render":
        _render(args)
    else:
        _score(args)


if __name__ == "__main__":
    main()
