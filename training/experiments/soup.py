"""Average the weights of models fine-tuned from one start (a "model soup", Wortsman et al. 2022).

    python -m training.experiments.soup --out var/soup generation/bundled var/r8-out
    python -m training.experiments.soup --out var/soup --base generation/bundled var/r8-work/unet/ema-0*.pt

The first form averages released folders tensor by tensor (every `*.safetensors`; the rest is the first folder's).
The second averages EMA snapshots that a stage kept with `--keep-snapshots` and writes them into a copy of the
released folder `--base` (its autoencoder, tokenizer and settings). Only weights that share a start can be
averaged: fine-tunes of one release stay in one basin, where the average tends to generalise better than
any one of them; two unrelated trainings average to noise.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def average(states: Sequence[dict[str, torch.Tensor]], weights: Sequence[float] | None = None) -> dict:
    """Weighted mean of state dicts with the same keys and shapes; non-float tensors are taken from the first."""
    if not states:
        raise ValueError("nothing to average")
    weights = list(weights) if weights is not None else [1.0] * len(states)
    if len(weights) != len(states):
        raise ValueError(f"{len(weights)} weights for {len(states)} models")
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("weights must sum to more than 0")
    first = states[0]
    for i, state in enumerate(states[1:], 1):
        if state.keys() != first.keys():
            raise ValueError(f"model {i} has other tensors than model 0: not one architecture")
        bad = [k for k in first if state[k].shape != first[k].shape]
        if bad:
            raise ValueError(f"model {i} differs in shape at {bad[0]}: not one architecture")
    out = {}
    for key, tensor in first.items():
        if not tensor.is_floating_point():
            out[key] = tensor.clone()
            continue
        acc = torch.zeros_like(tensor, dtype=torch.float64)
        for w, state in zip(weights, states, strict=True):
            acc += (w / total) * state[key].to(torch.float64)
        out[key] = acc.to(tensor.dtype)
    return out


def soup_folders(folders: Sequence[Path], out: Path, weights: Sequence[float] | None = None) -> Path:
    """A copy of the first folder whose every safetensors file is the (weighted) mean over all folders."""
    if len(folders) < 2:
        raise ValueError("a soup needs two folders or more")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(folders[0], out)
    for path in sorted(folders[0].rglob("*.safetensors")):
        rel = path.relative_to(folders[0])
        missing = [str(f) for f in folders[1:] if not (f / rel).exists()]
        if missing:
            raise ValueError(f"{rel} is missing in {', '.join(missing)}")
        save_file(average([load_file(f / rel) for f in folders], weights), out / rel, metadata={"format": "pt"})
    return out


def soup_snapshots(base: Path, snapshots: Sequence[Path], out: Path) -> Path:
    """The uniform mean of EMA snapshots (`{"unet", "text"}` state dicts) written into a copy of `base`."""
    from training import components as C
    from training.diffusion import load_released

    vae, init = load_released(base)
    modules = torch.nn.ModuleDict({"unet": init["unet"], "text": init["text"]})
    modules.load_state_dict(average([torch.load(s, weights_only=True) for s in snapshots]))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    C.assemble_pipeline(vae, modules["text"], init["tokenizer"], modules["unet"]).save_pretrained(
        out, safe_serialization=True
    )
    shutil.copy(base / "clipcast.json", out / "clipcast.json")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--base", type=Path, help="the released folder the snapshots were fine-tuned from")
    parser.add_argument("--weights", type=float, nargs="+", help="one per folder (folders only); default equal")
    parser.add_argument("inputs", nargs="+", type=Path, help="released folders, or ema-STEP.pt snapshots with --base")
    args = parser.parse_args(argv)
    if args.base:
        if args.weights:
            parser.error("--weights applies to folders only")
        soup_snapshots(args.base, args.inputs, args.out)
    else:
        soup_folders(args.inputs, args.out, args.weights)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
