"""Train the bundled text-to-video model from scratch on synthetic clips and write a diffusers folder.

    python -m generation.training.train [--resume] [--out generation/bundled] [--workdir var/training]

Stages (each resumable from `--workdir`):
  1. autoencoder on single frames (64x64 <-> 8x8x4),
  2. a cache of encoded training clips (24-frame trajectories; an 8-frame clip is the prefix),
  3. UNet + motion modules + text encoder on the cached latents (v-prediction, min-SNR, caption dropout,
     EMA), with a quick analyser score on held-out prompts every `--eval-every` steps; the best is kept,
  4. guidance scale picked on the quick set; `save_pretrained` + `clipcast.json`.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from generation.training import components as C
from generation.training.analyser import analyse
from generation.training.data import MAX_FRAMES, caption, render_clip, sample_training_spec
from generation.training.render import quick_held_out, score_pipeline

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Words outside the vocabulary, mixed into a few captions so the model learns to ignore stray pieces.
_NOISE_WORDS = ("cinematic", "4k", "please", "cute", "video", "animation", "hd", "simple", "tiny", "big", "zorp")


def log(workdir: Path, event: str, **fields: object) -> None:
    line = json.dumps({"t": round(time.time(), 1), "event": event, **fields})
    tqdm.write(line)
    with (workdir / "log.jsonl").open("a") as f:
        f.write(line + "\n")


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in -1..1."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1.0


# ---------------------------------------------------------------- stage 1: autoencoder


def reconstruction_loss(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """MSE + L1, with the shape's pixels weighted up: edges decide circle vs square vs triangle, and the shape
    covers a tenth of the frame, so an unweighted loss is happy to blur it."""
    background = x[:, :, :1, :1]  # every frame's corner pixel is background (shapes stay MARGIN px inside)
    shape = ((x - background).abs().amax(1, keepdim=True) > 0.1).float()
    weight = 1.0 + 4.0 * shape
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
            vae.eval()
            agreement = reconstruction_agreement(vae, args.seed + 400)
            log(workdir, "vae_step", step=step, loss=round(loss.item(), 5), analyser_agreement=agreement)
            vae.train()
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


def finetune_decoder(args: argparse.Namespace, workdir: Path, vae: C.AutoencoderKL) -> C.AutoencoderKL:
    """Sharpen the decoder (edges decide circle vs triangle) with the encoder frozen, so cached latents stay valid."""
    path = workdir / "vae_decoder"
    if (path / "config.json").exists():
        return C.AutoencoderKL.from_pretrained(path)
    torch.manual_seed(args.seed + 300)
    vae.requires_grad_(False)
    decoder_params = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
    for p in decoder_params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(decoder_params, lr=args.decoder_lr)
    steps = args.decoder_steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.decoder_lr, total_steps=steps, pct_start=0.02)
    rng = np.random.default_rng(args.seed + 300)
    bar = tqdm(range(args.decoder_steps), desc="decoder", dynamic_ncols=True)
    for step in bar:
        x = frame_batch(rng, 8)
        with torch.no_grad():
            z = vae.encode(x).latent_dist.mean
            z = z + 0.03 * torch.randn_like(z)  # diffusion samples land near, not on, the encoder's latents
        recon = vae.decode(z).sample
        loss = reconstruction_loss(recon, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % 250 == 0 or step == args.decoder_steps - 1:
            vae.eval()
            agreement = reconstruction_agreement(vae, args.seed + 400)
            log(workdir, "decoder_step", step=step, loss=round(loss.item(), 5), analyser_agreement=agreement)
            vae.train()
            vae.save_pretrained(workdir / "vae_decoder_partial")
    vae.requires_grad_(False).eval()
    vae.save_pretrained(path)
    return vae


# ---------------------------------------------------------------- stage 2: latent cache


def build_cache(args: argparse.Namespace, workdir: Path, vae: C.AutoencoderKL) -> tuple[np.ndarray, list]:
    path = workdir / "latents.npz"
    if path.exists():
        data = np.load(path, allow_pickle=True)
        return data["latents"], list(data["specs"])
    rng = np.random.default_rng(args.seed + 1)
    specs = [sample_training_spec(rng) for _ in range(args.clips)]
    scale = vae.config.scaling_factor
    latents = np.empty((len(specs), MAX_FRAMES, C.LATENT_CHANNELS, 8, 8), dtype=np.float16)
    with torch.no_grad():
        for i in tqdm(range(0, len(specs), 16), desc="encode clips", dynamic_ncols=True):
            frames = np.concatenate([render_clip(s, MAX_FRAMES) for s in specs[i : i + 16]])
            z = vae.encode(frames_to_tensor(frames)).latent_dist.mean * scale
            latents[i : i + 16] = z.reshape(-1, MAX_FRAMES, C.LATENT_CHANNELS, 8, 8).numpy().astype(np.float16)
    np.savez(path, latents=latents, specs=np.array(specs, dtype=object))
    log(workdir, "cache_done", clips=len(specs), std=float(latents.astype(np.float32).std()))
    return latents, specs


# ---------------------------------------------------------------- stage 3: diffusion


def noisy_caption(spec: object, rng: np.random.Generator) -> str:
    text = caption(spec, rng)  # type: ignore[arg-type]
    if rng.random() < 0.1:
        words = text.split()
        words.insert(int(rng.integers(len(words) + 1)), _NOISE_WORDS[int(rng.integers(len(_NOISE_WORDS)))])
        text = " ".join(words)
    return text


def encode_text(text_encoder: torch.nn.Module, tokenizer: object, prompts: list[str]) -> tuple[torch.Tensor, ...]:
    ids = tokenizer(  # type: ignore[operator]
        prompts, padding="max_length", max_length=C.MAX_TOKENS, truncation=True, return_tensors="pt"
    ).input_ids
    out = text_encoder(ids, output_hidden_states=True)
    return out.hidden_states[-2], out.text_embeds


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p, 1.0 - decay)


def quick_score(vae, text_encoder, tokenizer, unet, guidance: float, count: int = 24) -> dict[str, float]:
    pipe = C.assemble_pipeline(vae, text_encoder, tokenizer, unet)
    with torch.no_grad():
        score, _ = score_pipeline(pipe, quick_held_out(count), 8, guidance, batch=12)
    return score.rates()


def train_diffusion(args: argparse.Namespace, workdir: Path, vae, latents: np.ndarray, specs: list) -> dict:
    torch.manual_seed(args.seed)
    tokenizer = C.build_tokenizer()
    text_encoder = C.build_text_encoder(len(tokenizer))
    unet = C.build_unet()
    modules = torch.nn.ModuleDict({"unet": unet, "text": text_encoder})
    ema = copy.deepcopy(modules).requires_grad_(False)
    opt = torch.optim.AdamW(modules.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    scheduler = C.build_scheduler()
    alphas = scheduler.alphas_cumprod.float()
    snr = alphas / (1 - alphas)
    state = {"step": 0, "best": -1.0, "curve": []}
    ckpt = workdir / "checkpoint.pt"
    if args.resume and ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        modules.load_state_dict(saved["modules"])
        ema.load_state_dict(saved["ema"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        log(workdir, "resumed", step=state["step"])

    def lr_at(step: int) -> float:
        warm = min(1.0, (step + 1) / args.warmup)
        progress = min(1.0, step / args.steps)
        return args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    modules.train()
    bar = tqdm(total=args.steps, initial=state["step"], desc="diffusion", dynamic_ncols=True)
    start = time.time()
    while state["step"] < args.steps:
        step = state["step"]
        rng = np.random.default_rng([args.seed, step])
        frames = MAX_FRAMES if rng.random() < args.long_share else 8
        batch = args.batch if frames == 8 else max(1, args.batch // 3)
        idx = rng.integers(len(specs), size=batch)
        x0 = torch.from_numpy(latents[idx, :frames].astype(np.float32)).permute(0, 2, 1, 3, 4)  # B C F H W
        prompts = [noisy_caption(specs[i], rng) for i in idx]
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        a = alphas[t].sqrt().view(-1, 1, 1, 1, 1)
        s = (1 - alphas[t]).sqrt().view(-1, 1, 1, 1, 1)
        xt = a * x0 + s * noise
        target = a * noise - s * x0  # v
        hidden, pooled = encode_text(text_encoder, tokenizer, prompts)
        drop = torch.from_numpy(rng.random(batch) < args.uncond_share)
        hidden = torch.where(drop.view(-1, 1, 1), torch.zeros_like(hidden), hidden)
        pooled = torch.where(drop.view(-1, 1), torch.zeros_like(pooled), pooled)
        pred = unet(
            xt,
            t,
            encoder_hidden_states=hidden.repeat_interleave(frames, 0),
            added_cond_kwargs={"text_embeds": pooled, "time_ids": C.time_ids(batch)},
        ).sample
        weight = (snr[t].clamp(max=5.0) / (snr[t] + 1)).view(-1, 1, 1, 1, 1)
        loss = (weight * (pred - target) ** 2).mean()
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(modules.parameters(), 1.0)
        opt.step()
        ema_update(ema, modules, min(args.ema, (1 + step) / (10 + step)))
        state["step"] = step + 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}", frames=frames)
        if state["step"] % 50 == 0:
            log(workdir, "step", step=state["step"], loss=round(loss.item(), 5), elapsed=round(time.time() - start))
        if state["step"] % args.eval_every == 0 or state["step"] == args.steps:
            ema.eval()
            rates = quick_score(vae, ema["text"], tokenizer, ema["unet"], args.eval_guidance, count=24)
            state["curve"].append({"step": state["step"], **rates})
            log(workdir, "quick_eval", step=state["step"], **{k: round(v, 3) for k, v in rates.items()})
            if rates["joint"] >= state["best"]:
                state["best"] = rates["joint"]
                torch.save({"ema": ema.state_dict(), "step": state["step"], "rates": rates}, workdir / "best.pt")
        if state["step"] % args.checkpoint_every == 0 or state["step"] == args.steps:
            tmp = workdir / "checkpoint.tmp"
            saved = {"modules": modules.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "state": state}
            torch.save(saved, tmp)
            tmp.replace(ckpt)
    bar.close()
    if args.release_latest or not (workdir / "best.pt").exists():
        best = {"step": state["step"], "rates": state["curve"][-1] if state["curve"] else {}}
    else:
        best = torch.load(workdir / "best.pt", weights_only=False)
        ema.load_state_dict(best["ema"])
    log(workdir, "diffusion_done", best_step=best["step"], best=best["rates"])
    return {"unet": ema["unet"], "text": ema["text"], "tokenizer": tokenizer, "best": best}


# ---------------------------------------------------------------- stage 4: release


def release(args: argparse.Namespace, workdir: Path, vae, trained: dict) -> None:
    if (workdir / "vae_decoder" / "config.json").exists():  # decoder fine-tuned beside the diffusion run
        vae = C.AutoencoderKL.from_pretrained(workdir / "vae_decoder")
    best_g, best_joint = args.eval_guidance, -1.0
    for g in args.guidance_grid:
        rates = quick_score(vae, trained["text"], trained["tokenizer"], trained["unet"], g, count=args.release_prompts)
        log(workdir, "guidance", guidance=g, **{k: round(v, 3) for k, v in rates.items()})
        if rates["joint"] > best_joint:
            best_g, best_joint = g, rates["joint"]
    out = Path(args.out)
    pipe = C.assemble_pipeline(vae, trained["text"], trained["tokenizer"], trained["unet"])
    for sub in ("unet", "vae", "text_encoder_2", "tokenizer_2", "scheduler"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    pipe.save_pretrained(out, safe_serialization=True)
    C.write_settings(out, best_g)
    log(workdir, "released", out=str(out), guidance=best_g)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="generation/bundled")
    p.add_argument("--workdir", default="var/training")
    p.add_argument("--resume", action="store_true", help="continue from the workdir's stages and checkpoint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--vae-steps", type=int, default=1600)
    p.add_argument("--vae-batch", type=int, default=16)
    p.add_argument("--vae-lr", type=float, default=5e-4)
    p.add_argument("--decoder-steps", type=int, default=1000)
    p.add_argument("--decoder-lr", type=float, default=2e-4)
    p.add_argument("--only-decoder", action="store_true", help="run the stages up to decoder fine-tuning, then stop")
    p.add_argument("--skip-decoder", action="store_true", help="train the diffusion without waiting for the decoder")
    p.add_argument("--clips", type=int, default=3000)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--long-share", type=float, default=0.15, help="share of steps on 24-frame clips")
    p.add_argument("--lr", type=float, default=8e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--uncond-share", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-guidance", type=float, default=3.0)
    p.add_argument("--guidance-grid", type=float, nargs="+", default=[2.0, 3.0, 5.0])
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--release-prompts", type=int, default=24, help="held-out prompts per guidance value tried")
    p.add_argument("--release-latest", action="store_true", help="release the last EMA weights, not the best scored")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    workdir = Path(args.workdir)
    if not args.resume and workdir.exists():
        for name in ("vae", "vae_decoder", "latents.npz", "checkpoint.pt", "best.pt", "log.jsonl"):
            target = workdir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.time()
    log(workdir, "start", args=vars(args))
    vae = train_vae(args, workdir).requires_grad_(False)
    if args.only_decoder:
        finetune_decoder(args, workdir, vae)
        return
    latents, specs = build_cache(args, workdir, vae)
    if not args.skip_decoder:
        vae = finetune_decoder(args, workdir, vae)
    trained = train_diffusion(args, workdir, vae, latents, specs)
    release(args, workdir, vae, trained)
    log(workdir, "finished", wall_minutes=round((time.time() - began) / 60, 1))


if __name__ == "__main__":
    main()
