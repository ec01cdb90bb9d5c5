"""Where along the sampling path does a model lose the shape? A diagnostic for the bundled model.

    python -m training.experiments.probe [--model generation/bundled] [--starts 0 5 10 15 17 19]

Each test clip is drawn, encoded, noised to the timestep of one of the 20 sampling steps and denoised from there
with the model's own scheduler and guidance; the analyser reads the result. Start 0 is (nearly) a render from
pure noise, a late start only asks the model to clean up an almost finished clip, and the "reconstruction" row is
the autoencoder alone: the ceiling no sampler can pass. The drop between two rows is the shape lost in that range.

    python -m training.experiments.probe --by-pair

reads the autoencoder alone per held-out pair and shape, plainly and with its latents jittered (TRAINING_LOG.md,
sixteenth session: green on black is where it is fragile).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from training import components as C
from training.analyser import analyse
from training.autoencoder import frames_to_tensor
from training.data import HELD_OUT_PAIRS, MOTIONS, MOVE_SIZE, SHAPES, ClipSpec, held_out_prompts, render_clip
from training.diffusion import encode_text
from training.layout_latent import exact_encoder_for

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def probe_specs(seed: int = 5) -> list[ClipSpec]:
    """The 108 held-out prompts, each with a random size and position (the evaluation's own use the defaults)."""
    rng = np.random.default_rng(seed)
    return [
        ClipSpec(
            s.colour, s.shape, s.motion, s.background, float(rng.uniform(*MOVE_SIZE)), float(rng.uniform(0.1, 0.9))
        )
        for s in held_out_prompts()
    ]


def _decode(vae: object, latents: torch.Tensor) -> np.ndarray:
    """(B, C, F, 8, 8) scaled latents -> (B, F, 64, 64, 3) frames in 0..1."""
    b, c, f = latents.shape[:3]
    z = latents.permute(0, 2, 1, 3, 4).reshape(b * f, c, 8, 8) / vae.config.scaling_factor  # type: ignore[attr-defined]
    frames = vae.decode(z).sample.clamp(-1, 1).add(1).div(2)  # type: ignore[attr-defined]
    frames = frames.permute(0, 2, 3, 1)
    return frames.reshape(b, f, *frames.shape[1:]).numpy()


def _denoise_from(
    pipe: object, x0: torch.Tensor, prompts: list[str], start: int, guidance: float, seed: int
) -> torch.Tensor:
    scheduler = pipe.scheduler  # type: ignore[attr-defined]
    scheduler.set_timesteps(20)
    timesteps = scheduler.timesteps[start:]
    b, frames = x0.shape[0], x0.shape[2]
    hidden, pooled = encode_text(pipe.text_encoder_2, pipe.tokenizer_2, prompts)  # type: ignore[attr-defined]
    # Unconditional branch = zeroed embeddings (force_zeros_for_empty_prompt), as the pipeline does it.
    hidden = torch.cat([torch.zeros_like(hidden), hidden]).repeat_interleave(frames, 0)
    pooled = torch.cat([torch.zeros_like(pooled), pooled])
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    alpha_bar = scheduler.alphas_cumprod[timesteps[0]]
    x = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
    for t in timesteps:
        out = pipe.unet(  # type: ignore[attr-defined]
            torch.cat([x, x]),
            t,
            encoder_hidden_states=hidden,
            added_cond_kwargs={"text_embeds": pooled, "time_ids": C.time_ids(2 * b)},
        ).sample
        uncond, cond = out.chunk(2)
        x = scheduler.step(uncond + guidance * (cond - uncond), t, x).prev_sample
    return x


def _hits(specs: Sequence[ClipSpec], clips: np.ndarray) -> tuple[int, int]:
    shape = joint = 0
    for spec, clip in zip(specs, clips, strict=True):
        reading = analyse(clip).as_dict()
        shape += reading["shape"] == spec.shape
        joint += reading == {
            "colour": spec.colour,
            "shape": spec.shape,
            "motion": spec.motion,
            "background": spec.background,
        }
    return shape, joint


@torch.no_grad()
def shape_by_start(
    pipe: object,
    specs: Sequence[ClipSpec],
    starts: Sequence[int],
    guidance: float,
    num_frames: int = 8,
    batch: int = 12,
    encoder: object | None = None,
) -> list[dict]:
    """One row per start step (plus the reconstruction ceiling): the timestep, shape and joint accuracy. The test
    clips are encoded by `encoder` (default: the pipeline's vae; a structured latent's `ExactEncoder`)."""
    vae = pipe.vae  # type: ignore[attr-defined]
    encoder = encoder or vae
    scale = vae.config.scaling_factor
    counts = {"reconstruction": [0, 0], **{s: [0, 0] for s in starts}}
    for i in range(0, len(specs), batch):
        chunk = list(specs[i : i + batch])
        frames = np.concatenate([render_clip(s, num_frames) for s in chunk])
        z = encoder.encode(frames_to_tensor(frames)).latent_dist.mean * scale  # type: ignore[attr-defined]
        x0 = z.reshape(len(chunk), num_frames, *z.shape[1:]).permute(0, 2, 1, 3, 4)
        for key, latents in [("reconstruction", x0)] + [
            (s, _denoise_from(pipe, x0, [c.canonical for c in chunk], s, guidance, seed=100 + i)) for s in starts
        ]:
            shape, joint = _hits(chunk, _decode(vae, latents))
            counts[key][0] += shape
            counts[key][1] += joint
    pipe.scheduler.set_timesteps(20)  # type: ignore[attr-defined]
    timesteps = pipe.scheduler.timesteps  # type: ignore[attr-defined]
    n = len(specs)
    return [
        {
            "start": key,
            "timestep": None if key == "reconstruction" else int(timesteps[key]),
            "shape": shape / n,
            "joint": joint / n,
        }
        for key, (shape, joint) in counts.items()
    ]


@torch.no_grad()
def reconstruction_by_pair(
    vae: object,
    pairs: Sequence[tuple[str, str]],
    clips: int = 72,
    jitter: float = 0.1,
    seed: int = 0,
    encoder: object | None = None,
) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """Per (colour, background) pair and shape, the share of drawn clips whose shape survives the autoencoder:
    (plain round trip, round trip with the latents jittered by `jitter` of their std). The jitter stands in for a
    diffusion sample that lands near, not on, the encoder's latents: a pair that only holds without it is fragile.
    `encoder` encodes the clips (default: `vae`; a structured latent's `ExactEncoder`, the latents training saw)."""
    encoder = encoder or vae
    out: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for colour, background in pairs:
        rng = np.random.default_rng(seed)
        out[(colour, background)] = {}
        for shape in SHAPES:
            specs = [
                ClipSpec(
                    colour,
                    shape,
                    MOTIONS[i % len(MOTIONS)],
                    background,
                    float(rng.uniform(*MOVE_SIZE)),
                    float(rng.uniform(0.1, 0.9)),
                )
                for i in range(clips)
            ]
            pixels = frames_to_tensor(np.concatenate([render_clip(s, 8) for s in specs]))
            z = encoder.encode(pixels).latent_dist.mean  # type: ignore[attr-defined]
            noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(seed + 1))
            rates = []
            for latents in (z, z + jitter * z.std() * noise):
                frames = vae.decode(latents).sample.clamp(-1, 1).add(1).div(2).permute(0, 2, 3, 1).numpy()  # type: ignore[attr-defined]
                frames = frames.reshape(clips, 8, *frames.shape[1:])
                rates.append(sum(analyse(f).shape == shape for f in frames) / clips)
            out[(colour, background)][shape] = (rates[0], rates[1])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("CLIPCAST_MODEL_PATH") or "generation/bundled")
    parser.add_argument("--starts", type=int, nargs="+", default=[0, 5, 10, 15, 17, 19])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5], help="one set of 108 test clips per seed")
    parser.add_argument(
        "--by-pair", action="store_true", help="only the autoencoder, per held-out pair and shape, plain and jittered"
    )
    args = parser.parse_args(argv)
    from diffusers import DiffusionPipeline

    torch.set_num_threads(int(os.environ.get("CLIPCAST_THREADS", "2")))
    model = Path(args.model)
    if args.by_pair:
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(model / "vae")
        rows = reconstruction_by_pair(vae, sorted(HELD_OUT_PAIRS), encoder=exact_encoder_for(model, vae))
        print(f"model: {model}  shape kept by the autoencoder, plain / latents jittered by 10% of their std")
        print("| pair | " + " | ".join(SHAPES) + " |\n|---|" + "---|" * len(SHAPES))
        for (colour, background), by_shape in rows.items():
            cells = " | ".join(f"{100 * a:.0f} / {100 * b:.0f}%" for a, b in by_shape.values())
            print(f"| {colour} on {background} | {cells} |", flush=True)
        return
    pipe = DiffusionPipeline.from_pretrained(model)
    guidance = float(json.loads((model / "clipcast.json").read_text())["guidance_scale"])
    specs = [spec for seed in args.seeds for spec in probe_specs(seed)]
    print(f"model: {model}  guidance_scale={guidance}  clips={len(specs)}")
    print("| start step | timestep | shape | joint |\n|---|---|---|---|")
    for row in shape_by_start(pipe, specs, args.starts, guidance):
        t = "-" if row["timestep"] is None else row["timestep"]
        print(f"| {row['start']} | {t} | {100 * row['shape']:.1f}% | {100 * row['joint']:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
