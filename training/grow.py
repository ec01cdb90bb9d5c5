"""Grow a released UNet without changing what it renders: add spatial attention at the 8x8 level.

    python -m training.grow --source generation/bundled --out var/grown

The new attention blocks are residual (`Transformer2DModel` adds its output to its input) and start with a zeroed
output projection, so the grown UNet computes exactly what the released one does; a fine-tune (stage 3e with
`--init-from OUT`) then decides what the new capacity is used for. This is cheaper than training a larger UNet
from stage 3, and it keeps the released weights' quality as the starting point.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from training import components as C

ATTENTION_DOWN = ("CrossAttnDownBlockMotion", "CrossAttnDownBlockMotion")
ATTENTION_UP = ("CrossAttnUpBlockMotion", "CrossAttnUpBlockMotion")
# Where grow_unet adds blocks, as parameter names read in a training ModuleDict ("unet." + the UNet's own names).
GROWN_PREFIXES = ("unet.down_blocks.0.attentions.", "unet.up_blocks.1.attentions.")


def is_grown(name: str) -> bool:
    return name.startswith(GROWN_PREFIXES)


def grow_unet(unet: C.UNetMotionModel) -> C.UNetMotionModel:
    """A copy of `unet` with cross-attention blocks at every level, new blocks silent (zeroed output)."""
    config = {k: v for k, v in unet.config.items() if not k.startswith("_")}
    config.update(down_block_types=ATTENTION_DOWN, up_block_types=ATTENTION_UP)
    grown = C.UNetMotionModel(**config)
    own = unet.state_dict()
    missing, unexpected = grown.load_state_dict(own, strict=False)
    if unexpected:
        raise ValueError(f"released weights with no place in the grown UNet: {unexpected[:5]}")
    added = [k for k in missing if ".attentions." in k]
    if len(added) != len(missing):
        raise ValueError(f"grown UNet lacks released weights: {sorted(set(missing) - set(added))[:5]}")
    state = grown.state_dict()
    with torch.no_grad():
        for key in added:
            if ".proj_out." in key:
                state[key].zero_()
    return grown


def largest_difference(a: C.UNetMotionModel, b: C.UNetMotionModel, frames: int = 8) -> float:
    """Largest absolute difference of the two UNets' outputs on one random input (text-conditioned)."""
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(1, C.LATENT_CHANNELS, frames, 8, 8, generator=g)
    text = torch.randn(frames, C.MAX_TOKENS, C.TEXT_DIM, generator=g)
    added = {"text_embeds": torch.randn(1, C.TEXT_DIM, generator=g), "time_ids": C.time_ids(1)}
    with torch.no_grad():
        out_a = a(sample, 500, encoder_hidden_states=text, added_cond_kwargs=added).sample
        out_b = b(sample, 500, encoder_hidden_states=text, added_cond_kwargs=added).sample
    return float((out_a - out_b).abs().max())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", default="generation/bundled")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    source, out = Path(args.source), Path(args.out)
    unet = C.UNetMotionModel.from_pretrained(source / "unet").eval()
    grown = grow_unet(unet).eval()
    difference = largest_difference(unet, grown)
    if difference > 1e-5:
        raise SystemExit(f"the grown UNet renders differently (largest difference {difference:.2e})")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out)
    shutil.rmtree(out / "unet")
    grown.save_pretrained(out / "unet", safe_serialization=True)
    added = sum(p.numel() for p in grown.parameters()) - sum(p.numel() for p in unet.parameters())
    print(f"grown UNet written to {out / 'unet'}: +{added:,} parameters, largest output difference {difference:.1e}")


if __name__ == "__main__":
    main()
