"""Stages 3 and 3b of training: the UNet, motion modules and text encoder on cached latents.

Stage 3 trains them from scratch on the denoising loss; stage 3b fine-tunes the result with the auxiliary slot loss
and a floor on the x0-loss weight (see objectives.py for why). Both keep the best EMA weights by a quick analyser
score on held-out prompts, and resume from their checkpoint.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from training import components as C
from training.cache import LatentCache
from training.data import MAX_FRAMES, caption
from training.grow import is_grown
from training.journal import log
from training.objectives import (
    SlotHeads,
    decoded_pixel_loss,
    shape_loss_weight,
    slot_labels,
    v_loss_weight,
)
from training.render import quick_held_out, score_pipeline

# Words outside the vocabulary, mixed into a few captions so the model learns to ignore stray pieces.
_NOISE_WORDS = ("cinematic", "4k", "please", "cute", "video", "animation", "hd", "simple", "tiny", "big", "zorp")


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


@dataclass(frozen=True)
class Recipe:
    """One diffusion stage's hyperparameters: stage 3 trains from scratch, stage 3b fine-tunes its result."""

    name: str  # its checkpoints live in workdir/name ("" for stage 3, where they always were)
    seed: int
    steps: int
    lr: float
    warmup: int
    decay_from: float  # share of the steps at full rate before a cosine decay to a tenth
    ema: float
    long_share: float  # share of steps on 24-frame clips
    slot_weight: float  # weight of the auxiliary slot loss (objectives.SlotHeads); 0 = off
    x0_floor: float  # floor of the x0-loss weight (objectives.v_loss_weight); 0 = plain min-SNR
    shape_weight: float  # extra loss weight on and around the shape (objectives.shape_loss_weight); 0 = off
    pixel_weight: float  # weight of the decoded pixel loss (objectives.decoded_pixel_loss); 0 = off
    eval_every: int
    eval_prompts: int
    eval_guidance: float
    train_text: bool = True  # False keeps a released text encoder as it is (--reuse-from --freeze-text)
    grown_lr_scale: float = 1.0  # learning-rate factor for blocks grow.py added (they start silent, from zero)
    image_share: float = 0.0  # share of steps on single frames of `image_batch` distinct clips (shape is per frame)
    image_batch: int = 256
    keep_last: bool = False  # hand on the last EMA weights, not the best quick-scored step

    def step_shape(self, draw: float, batch: int) -> tuple[int, int]:
        """(frames, batch) of a step from its uniform draw: 24-frame clips, single frames or 8-frame clips."""
        if draw < self.long_share:
            return MAX_FRAMES, max(1, batch // 3)
        if draw < self.long_share + self.image_share:
            return 1, self.image_batch
        return 8, batch

    def lr_at(self, step: int) -> float:
        warm = min(1.0, (step + 1) / self.warmup)
        progress = min(1.0, step / self.steps)
        if progress <= self.decay_from:
            return self.lr * warm
        decay = (progress - self.decay_from) / (1.0 - self.decay_from)
        return self.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * decay)))


def base_recipe(args: argparse.Namespace) -> Recipe:
    return Recipe(
        name="",
        seed=args.seed,
        steps=args.steps,
        lr=args.lr,
        warmup=args.warmup,
        decay_from=0.0,
        ema=args.ema,
        long_share=args.long_share,
        slot_weight=0.0 if args.freeze_text else args.base_slot_weight,
        x0_floor=args.base_x0_floor,
        shape_weight=0.0,
        pixel_weight=0.0,
        eval_every=args.eval_every,
        eval_prompts=24,
        eval_guidance=args.eval_guidance,
        train_text=not args.freeze_text,
        image_share=args.image_share,
        image_batch=args.image_batch,
        keep_last=args.stage3_keeps == "last",
    )


def finetune_recipe(args: argparse.Namespace) -> Recipe:
    return Recipe(
        name="finetune",
        seed=args.seed + 7,
        steps=args.finetune_steps,
        lr=args.finetune_lr,
        warmup=50,
        decay_from=args.finetune_decay_from,
        ema=0.995,
        long_share=0.3,
        slot_weight=args.slot_weight,
        x0_floor=args.x0_floor,
        shape_weight=0.0,
        pixel_weight=0.0,
        eval_every=args.finetune_eval_every,
        eval_prompts=48,
        eval_guidance=2.0,
        train_text=not args.freeze_text,
    )


def polish_recipe(args: argparse.Namespace) -> Recipe:
    """Stage 3c: stage 3b's losses at a lower rate, with the shape's latents weighted up (squares drawn round)."""
    return replace(
        finetune_recipe(args),
        name="polish",
        seed=args.seed + 11,
        steps=args.polish_steps,
        lr=args.polish_lr,
        decay_from=0.4,
        shape_weight=args.shape_weight,
    )


def pixel_recipe(args: argparse.Namespace) -> Recipe:
    """Stage 3d: the denoising loss with 3b's x0 floor plus the decoded pixel loss, at a lower rate (lumpy squares
    read as circles). No slot loss: 3b's head is not kept, and a fresh head's gradients knock the text encoder
    about (a second 3b round with a fresh head dipped from 89.6% to 71-73% joint, TRAINING_LOG.md)."""
    return replace(
        finetune_recipe(args),
        name="pixel",
        seed=args.seed + 13,
        steps=args.pixel_steps,
        lr=args.pixel_lr,
        decay_from=0.4,
        slot_weight=0.0,
        pixel_weight=args.pixel_weight,
    )


def unet_recipe(args: argparse.Namespace) -> Recipe:
    """Stage 3e: the UNet alone, the text encoder frozen as 3b left it. Denoising loss with 3b's x0 floor, no slot
    loss. Measured: +7 points of held-out joint over three seed sets (MODEL_CARD.md); earlier continuations that
    kept training the text encoder dipped instead."""
    return replace(
        finetune_recipe(args),
        name="unet",
        seed=args.seed + 17,
        steps=args.unet_steps,
        lr=args.unet_lr,
        long_share=args.unet_long_share,
        slot_weight=0.0,
        train_text=False,
        grown_lr_scale=args.grown_lr_scale,
    )


def load_released(folder: Path) -> tuple[C.AutoencoderKL, dict]:
    """A released folder's components, as stage 3 hands them over: the start of a fine-tune (`--init-from`)."""
    vae = C.AutoencoderKL.from_pretrained(folder / "vae").requires_grad_(False).eval()
    init = {
        "unet": C.UNetMotionModel.from_pretrained(folder / "unet"),
        "text": C.CLIPTextModelWithProjection.from_pretrained(folder / "text_encoder_2"),
        "tokenizer": C.CLIPTokenizer.from_pretrained(folder / "tokenizer_2"),
    }
    return vae, init


def workdir_tokenizer(args: argparse.Namespace, workdir: Path) -> C.CLIPTokenizer:
    """Stage 3's tokenizer, kept in the workdir: a resumed run must read captions exactly as it was trained to."""
    folder = workdir / "tokenizer"
    if args.resume and (folder / "tokenizer_config.json").exists():
        return C.CLIPTokenizer.from_pretrained(folder)
    tokenizer = C.build_tokenizer()
    tokenizer.save_pretrained(folder)
    return tokenizer


def train_diffusion(
    args: argparse.Namespace,
    recipe: Recipe,
    workdir: Path,
    vae,
    cache: LatentCache,
    init: dict | None = None,
) -> dict:
    stage_dir = workdir / recipe.name
    stage_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    if init is None:
        tokenizer = workdir_tokenizer(args, workdir)
        text_encoder = C.build_text_encoder(len(tokenizer))
        unet = C.build_unet(tuple(args.unet_channels))
    else:
        tokenizer, text_encoder = init["tokenizer"], init["text"]
        unet = init.get("unet") or C.build_unet(tuple(args.unet_channels))
    C.use_plain_attention(unet).requires_grad_(True).train()
    text_encoder.requires_grad_(recipe.train_text).train(recipe.train_text)
    modules = torch.nn.ModuleDict({"unet": unet, "text": text_encoder})
    ema = copy.deepcopy(modules).requires_grad_(False)
    trained = torch.nn.ModuleDict(dict(modules))
    if recipe.slot_weight > 0 and recipe.train_text:
        trained["slots"] = SlotHeads(C.TEXT_DIM)
    named = [(n, p) for n, p in trained.named_parameters() if p.requires_grad]
    learned = [p for _, p in named]
    groups = [{"params": [p for n, p in named if not is_grown(n)], "scale": 1.0}]
    grown = [p for n, p in named if is_grown(n)]
    if grown and recipe.grown_lr_scale != 1.0:
        groups.append({"params": grown, "scale": recipe.grown_lr_scale})
    else:
        groups[0]["params"] += grown
    opt = torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=0.01, betas=(0.9, 0.99))
    scheduler = C.build_scheduler()
    alphas = scheduler.alphas_cumprod.float()
    snr = alphas / (1 - alphas)
    state = {"step": 0, "best": -1.0, "curve": []}
    ckpt = stage_dir / "checkpoint.pt"
    if args.resume and ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        trained.load_state_dict(saved["modules"])
        ema.load_state_dict(saved["ema"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        log(workdir, "resumed", stage=recipe.name or "diffusion", step=state["step"])

    bar = tqdm(total=recipe.steps, initial=state["step"], desc=recipe.name or "diffusion", dynamic_ncols=True)
    start = time.time()
    while state["step"] < recipe.steps:
        step = state["step"]
        rng = np.random.default_rng([recipe.seed, step])
        frames, batch = recipe.step_shape(rng.random(), args.batch)
        x0, specs = cache.sample(rng, batch, frames)  # B C F H W
        prompts = [noisy_caption(spec, rng) for spec in specs]
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        a = alphas[t].sqrt().view(-1, 1, 1, 1, 1)
        s = (1 - alphas[t]).sqrt().view(-1, 1, 1, 1, 1)
        xt = a * x0 + s * noise
        target = a * noise - s * x0  # v
        hidden, pooled = encode_text(text_encoder, tokenizer, prompts)
        drop = torch.from_numpy(rng.random(batch) < args.uncond_share)
        cond_hidden = torch.where(drop.view(-1, 1, 1), torch.zeros_like(hidden), hidden)
        cond_pooled = torch.where(drop.view(-1, 1), torch.zeros_like(pooled), pooled)
        pred = unet(
            xt,
            t,
            encoder_hidden_states=cond_hidden.repeat_interleave(frames, 0),
            added_cond_kwargs={"text_embeds": cond_pooled, "time_ids": C.time_ids(batch)},
        ).sample
        weight = v_loss_weight(snr[t], recipe.x0_floor).view(-1, 1, 1, 1, 1)
        if recipe.shape_weight > 0:
            weight = weight * shape_loss_weight(specs, frames, recipe.shape_weight)
        loss = (weight * (pred - target) ** 2).mean()
        postfix = {"loss": f"{loss.item():.4f}", "frames": frames}
        if recipe.pixel_weight > 0:
            x0_pred = a * xt - s * pred
            pixel_loss = decoded_pixel_loss(vae, x0_pred, specs, alphas[t], rng)
            loss = loss + recipe.pixel_weight * pixel_loss
            postfix["pixels"] = f"{pixel_loss.item():.3f}"
        if "slots" in trained:
            slot_loss = trained["slots"].loss(pooled, slot_labels(specs))
            loss = loss + recipe.slot_weight * slot_loss
            postfix["slots"] = f"{slot_loss.item():.3f}"
        for group in opt.param_groups:
            group["lr"] = recipe.lr_at(step) * group.get("scale", 1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(learned, 1.0)
        opt.step()
        ema_update(ema, modules, min(recipe.ema, (1 + step) / (10 + step)))
        state["step"] = step + 1
        bar.update(1)
        bar.set_postfix(postfix)
        if state["step"] % 50 == 0:
            log(
                workdir,
                "step",
                stage=recipe.name or "diffusion",
                step=state["step"],
                elapsed=round(time.time() - start),
                **{k: float(v) for k, v in postfix.items() if k != "frames"},
            )
        if state["step"] % recipe.eval_every == 0 or state["step"] == recipe.steps:
            ema.eval()
            rates = quick_score(
                vae, ema["text"], tokenizer, ema["unet"], recipe.eval_guidance, count=recipe.eval_prompts
            )
            state["curve"].append({"step": state["step"], **rates})
            log(
                workdir,
                "quick_eval",
                stage=recipe.name or "diffusion",
                step=state["step"],
                **{k: round(v, 3) for k, v in rates.items()},
            )
            if getattr(args, "keep_snapshots", False):
                torch.save(ema.state_dict(), stage_dir / f"ema-{state['step']:05d}.pt")
            if rates["joint"] >= state["best"]:
                state["best"] = rates["joint"]
                torch.save({"ema": ema.state_dict(), "step": state["step"], "rates": rates}, stage_dir / "best.pt")
        if state["step"] % args.checkpoint_every == 0 or state["step"] == recipe.steps:
            tmp = stage_dir / "checkpoint.tmp"
            saved = {"modules": trained.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "state": state}
            torch.save(saved, tmp)
            tmp.replace(ckpt)
    bar.close()
    if args.release_latest or recipe.keep_last or not (stage_dir / "best.pt").exists():
        best = {"step": state["step"], "rates": state["curve"][-1] if state["curve"] else {}}
    else:
        best = torch.load(stage_dir / "best.pt", weights_only=False)
        ema.load_state_dict(best["ema"])
    log(workdir, "diffusion_done", stage=recipe.name or "diffusion", best_step=best["step"], best=best["rates"])
    return {"unet": ema["unet"], "text": ema["text"], "tokenizer": tokenizer, "best": best}
