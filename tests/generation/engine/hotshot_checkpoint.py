"""A random-weight Hotshot-XL folder laid out as the published one, built WITHOUT Clipcast's Hotshot-XL code.

Where the names and shapes come from (never from generation/engine/hotshot_xl):
- `PUBLISHED_UNET_CONFIG`: Hotshot-XL's unet/config.json. Its values are SDXL-base-1.0's UNet config (Hotshot-XL
  is SDXL's UNet plus temporal layers) with Hotshot-XL's own class and block names, as its
  `UNet3DConditionModel.from_pretrained_spatial` (hotshot_xl/models/unet.py) writes them.
- Spatial tensors: stock diffusers `UNet2DConditionModel` with that config in SDXL's 2-D block names (Hotshot-XL
  forked that class; its Conv3d/ResnetBlock3D/Transformer3DModel keep the 2-D key names).
- Temporal tensors: `temporal_keys`, written from hotshot_xl/models/transformer_temporal.py and unet_blocks.py:
  one `TransformerTemporal` after every resnet(+attention) of every down and up block, none in the mid block;
  8 heads; GroupNorm(32); two attention sublayers, each with a 24-row sinusoidal position buffer; GEGLU ff.

What is scaled down for the test, everything else as published (`SCALED` says it): widths (block_out_channels
320/640/1280 -> 32/64/96, the least that keeps every width change, hence every `conv_shortcut`, and the temporal
GroupNorm's 32 groups; heads 5/10/20 -> 1/2/3; cross_attention_dim 2048 -> 64,
addition_time_embed_dim 256 -> 8, projection_class_embeddings_input_dim 2816 -> 6 * 8 + 32) and depth
(transformer_layers_per_block 1/2/10 -> 1/2/2). Block types, layers per block (2), norm groups (32), the temporal
layout (8 heads, 2 attention sublayers, 24 positions) and every key name are the published ones. The UNet is
stored in fp16 (7.2 M parameters, 14 MB), as the published weights are distributed for GPUs. The VAE and text
encoders are tiny stock diffusers/transformers models of SDXL's classes (VAE factor 8 as SDXL's).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

PUBLISHED_UNET_CONFIG = {
    "_class_name": "UNet3DConditionModel",
    "act_fn": "silu",
    "addition_embed_type": "text_time",
    "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280],
    "center_input_sample": False,
    "class_embed_type": None,
    "class_embeddings_concat": False,
    "conv_in_kernel": 3,
    "conv_out_kernel": 3,
    "cross_attention_dim": 2048,
    "cross_attention_norm": None,
    "down_block_types": ["DownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D"],
    "downsample_padding": 1,
    "dual_cross_attention": False,
    "encoder_hid_dim": None,
    "encoder_hid_dim_type": None,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_only_cross_attention": None,
    "mid_block_scale_factor": 1,
    "mid_block_type": "UNetMidBlock3DCrossAttn",
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "num_attention_heads": None,
    "num_class_embeds": None,
    "only_cross_attention": False,
    "out_channels": 4,
    "projection_class_embeddings_input_dim": 2816,
    "resnet_out_scale_factor": 1.0,
    "resnet_skip_time_act": False,
    "resnet_time_scale_shift": "default",
    "sample_size": 128,
    "time_cond_proj_dim": None,
    "time_embedding_act_fn": None,
    "time_embedding_dim": None,
    "time_embedding_type": "positional",
    "timestep_post_act": None,
    "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "UpBlock3D"],
    "upcast_attention": None,
    "use_linear_projection": True,
}
TEXT_DIM, TEXT_2_DIM, PROJECTION_DIM, TIME_ID_DIM = 32, 32, 32, 8
SCALED = {
    "block_out_channels": [32, 64, 96],
    "attention_head_dim": [1, 2, 3],
    "transformer_layers_per_block": [1, 2, 2],
    "cross_attention_dim": TEXT_DIM + TEXT_2_DIM,
    "addition_time_embed_dim": TIME_ID_DIM,
    "projection_class_embeddings_input_dim": 6 * TIME_ID_DIM + PROJECTION_DIM,
}
TEMPORAL_POSITIONS = 24


def unet_config() -> dict:
    return {**PUBLISHED_UNET_CONFIG, **SCALED}


def sinusoids(length: int, dim: int) -> torch.Tensor:
    table = torch.zeros(1, length, dim)
    for pos in range(length):
        for i in range(0, dim, 2):
            angle = pos / 10000 ** (i / dim)
            table[0, pos, i], table[0, pos, i + 1] = math.sin(angle), math.cos(angle)
    return table


def temporal_shapes(channels: int) -> dict[str, tuple[int, ...]]:
    """One TransformerTemporal's tensors, relative to `...temporal_attentions.N.`."""
    c = channels
    shapes: dict[str, tuple[int, ...]] = {"norm.weight": (c,), "norm.bias": (c,), "proj_in.weight": (c, c),
                                          "proj_in.bias": (c,), "proj_out.weight": (c, c), "proj_out.bias": (c,)}
    block = "transformer_blocks.0."
    for a in (0, 1):
        att = f"{block}attention_blocks.{a}."
        shapes.update({f"{att}to_q.weight": (c, c), f"{att}to_k.weight": (c, c), f"{att}to_v.weight": (c, c),
                       f"{att}to_out.0.weight": (c, c), f"{att}to_out.0.bias": (c,),
                       f"{att}pos_encoder.positional_encoding": (1, TEMPORAL_POSITIONS, c),
                       f"{block}norms.{a}.weight": (c,), f"{block}norms.{a}.bias": (c,)})
    shapes.update({f"{block}ff.net.0.proj.weight": (8 * c, c), f"{block}ff.net.0.proj.bias": (8 * c,),
                   f"{block}ff.net.2.weight": (c, 4 * c), f"{block}ff.net.2.bias": (c,),
                   f"{block}ff_norm.weight": (c,), f"{block}ff_norm.bias": (c,)})
    return shapes


def temporal_keys(config: dict) -> dict[str, tuple[int, ...]]:
    """Every temporal tensor of the UNet: down block i has `layers_per_block` of them, up block i one more."""
    channels, layers = config["block_out_channels"], config["layers_per_block"]
    keys: dict[str, tuple[int, ...]] = {}
    for i, c in enumerate(channels):
        for j in range(layers):
            keys.update({f"down_blocks.{i}.temporal_attentions.{j}.{k}": s for k, s in temporal_shapes(c).items()})
    for i, c in enumerate(reversed(channels)):
        for j in range(layers + 1):
            keys.update({f"up_blocks.{i}.temporal_attentions.{j}.{k}": s for k, s in temporal_shapes(c).items()})
    return keys


def random_temporal_state(config: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
    state = {}
    for key, shape in temporal_keys(config).items():
        if key.endswith("positional_encoding"):
            state[key] = sinusoids(shape[1], shape[2])
        elif key.endswith(("norm.weight", "norms.0.weight", "norms.1.weight", "ff_norm.weight")):
            state[key] = 1 + 0.1 * torch.randn(shape, generator=generator)
        else:
            state[key] = 0.2 * torch.randn(shape, generator=generator) / math.sqrt(shape[-1])
    return state


def spatial_state(config: dict) -> dict[str, torch.Tensor]:
    from diffusers import UNet2DConditionModel

    two_d = {**config, "down_block_types": [t.replace("3D", "2D") for t in config["down_block_types"]],
             "up_block_types": [t.replace("3D", "2D") for t in config["up_block_types"]],
             "mid_block_type": "UNetMidBlock2DCrossAttn"}
    two_d = {k: v for k, v in two_d.items() if not k.startswith("_")}
    return UNet2DConditionModel(**two_d).state_dict()


def build_hotshot_xl(folder: Path, seed: int = 0) -> Path:
    """Write the folder: model_index.json naming HotshotXLPipeline, unet/ in Hotshot-XL's format, SDXL's others."""
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tests.generation.engine.conftest import build_clip_tokenizer

    torch.manual_seed(seed)
    folder = Path(folder)
    config = unet_config()
    (folder / "unet").mkdir(parents=True, exist_ok=True)
    state = {**spatial_state(config), **random_temporal_state(config, torch.Generator().manual_seed(seed))}
    weights = {k: v.to(torch.float16).contiguous() for k, v in state.items()}
    save_file(weights, str(folder / "unet" / "diffusion_pytorch_model.safetensors"))
    (folder / "unet" / "config.json").write_text(json.dumps({**config, "_diffusers_version": "0.21.4"}, indent=2))

    tokenizer = build_clip_tokenizer()
    common = {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1, "intermediate_size": 37,
              "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": len(tokenizer),
              "max_position_embeddings": 16}
    CLIPTextModel(CLIPTextConfig(hidden_size=TEXT_DIM, **common)).save_pretrained(folder / "text_encoder")
    CLIPTextModelWithProjection(
        CLIPTextConfig(hidden_size=TEXT_2_DIM, projection_dim=PROJECTION_DIM, **common)
    ).save_pretrained(folder / "text_encoder_2")
    tokenizer.save_pretrained(folder / "tokenizer")
    tokenizer.save_pretrained(folder / "tokenizer_2")
    AutoencoderKL(
        block_out_channels=(8, 8, 8, 8), in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=4, norm_num_groups=2, sample_size=64,
        scaling_factor=0.13025, force_upcast=True,
    ).save_pretrained(folder / "vae")
    EulerAncestralDiscreteScheduler(  # SDXL's scheduler config, with the sampler Hotshot-XL recommends
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading",
    ).save_pretrained(folder / "scheduler")
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "HotshotXLPipeline", "_diffusers_version": "0.21.4", "force_zeros_for_empty_prompt": True,
        "scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["hotshot_xl.models.unet", "UNet3DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }, indent=2))
    return folder
