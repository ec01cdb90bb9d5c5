"""Hotshot-XL's UNet: SDXL's spatial UNet with a temporal transformer after each spatial step of the down and up
blocks, read from Hotshot-XL's own `unet/config.json` and key names (no conversion).

The spatial layers are SDXL's, built from diffusers' stock pieces (`Transformer2DModel`, `Downsample2D`,
`Upsample2D`, timestep embeddings), so their key names are the ones SDXL and Hotshot-XL share. One thing differs
from a per-frame SDXL UNet, and it is why this is its own module: Hotshot-XL's resnets and its output norm apply
their GroupNorm over the whole clip (statistics across all frames), not frame by frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.resnet import Downsample2D, Upsample2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from torch import nn

from generation.engine.hotshot_xl.temporal import TemporalTransformer

DOWN_TYPES = {"DownBlock3D": False, "CrossAttnDownBlock3D": True}  # block type -> has cross-attention
UP_TYPES = {"UpBlock3D": False, "CrossAttnUpBlock3D": True}
MID_TYPE = "UNetMidBlock3DCrossAttn"
# Config values this module implements; any other value is refused by name instead of rendering wrongly.
REQUIRED = {
    "addition_embed_type": "text_time", "time_embedding_type": "positional", "class_embed_type": None,
    "num_class_embeds": None, "encoder_hid_dim": None, "encoder_hid_dim_type": None, "time_cond_proj_dim": None,
    "dual_cross_attention": False, "only_cross_attention": False, "center_input_sample": False,
    "resnet_time_scale_shift": "default", "class_embeddings_concat": False, "time_embedding_act_fn": None,
    "timestep_post_act": None, "num_attention_heads": None, "act_fn": "silu", "cross_attention_norm": None,
    "resnet_skip_time_act": False, "resnet_out_scale_factor": 1.0, "time_embedding_dim": None,
}


def unsupported_settings(config: dict[str, Any]) -> list[str]:
    """The config keys whose values this UNet does not implement (empty: it can be built)."""
    problems = [
        f"{key}={config[key]!r} (supported: {value!r})"
        for key, value in REQUIRED.items() if key in config and config[key] != value
    ]
    for key, known in (("down_block_types", DOWN_TYPES), ("up_block_types", UP_TYPES)):
        unknown = [t for t in config.get(key, ()) if t not in known]
        if unknown:
            problems.append(f"{key} contains {unknown} (supported: {sorted(known)})")
    if config.get("mid_block_type", MID_TYPE) != MID_TYPE:
        problems.append(f"mid_block_type={config['mid_block_type']!r} (supported: {MID_TYPE!r})")
    return problems


def norm_over_clip(norm: nn.GroupNorm, hidden: torch.Tensor, frames: int) -> torch.Tensor:
    """GroupNorm with statistics over every frame of a clip together, as Hotshot-XL applies it to 5-D tensors."""
    folded, channels, height, width = hidden.shape
    clip = hidden.reshape(folded // frames, frames, channels, height, width).transpose(1, 2)
    return norm(clip).transpose(1, 2).reshape(folded, channels, height, width)


class ClipResnet(nn.Module):
    """SDXL's resnet block (same keys), with both GroupNorms taken over the whole clip."""

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, groups: int, eps: float,
                 output_scale_factor: float = 1.0) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.output_scale_factor = output_scale_factor

    def forward(self, hidden: torch.Tensor, temb: torch.Tensor, frames: int) -> torch.Tensor:
        h = self.conv1(F.silu(norm_over_clip(self.norm1, hidden, frames)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(norm_over_clip(self.norm2, h, frames)))
        shortcut = self.conv_shortcut(hidden) if self.conv_shortcut is not None else hidden
        return (shortcut + h) / self.output_scale_factor


def _spatial_attention(channels: int, heads: int, layers: int, cross_dim: int, groups: int, linear: bool,
                       upcast: bool) -> Transformer2DModel:
    return Transformer2DModel(
        num_attention_heads=heads, attention_head_dim=channels // heads, in_channels=channels, num_layers=layers,
        cross_attention_dim=cross_dim, norm_num_groups=groups, use_linear_projection=linear,
        upcast_attention=upcast,
    )


class ClipBlock(nn.Module):
    """A down or up block: per layer a resnet, SDXL's spatial attention (cross-attention blocks only) and a
    temporal transformer; then a down- or upsampler."""

    def __init__(self, resnets: list[ClipResnet], attentions: list[Transformer2DModel] | None, channels: int,
                 sampler: str | None, downsample_padding: int = 1) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        if attentions is not None:
            self.attentions = nn.ModuleList(attentions)
        self.temporal_attentions = nn.ModuleList([TemporalTransformer(channels) for _ in resnets])
        if sampler == "down":
            self.downsamplers = nn.ModuleList(
                [Downsample2D(channels, use_conv=True, out_channels=channels, padding=downsample_padding, name="op")]
            )
        elif sampler == "up":
            self.upsamplers = nn.ModuleList([Upsample2D(channels, use_conv=True, out_channels=channels)])

    def _layer(self, i: int, hidden: torch.Tensor, temb: torch.Tensor, context: torch.Tensor, frames: int,
               temporal: bool) -> torch.Tensor:
        hidden = self.resnets[i](hidden, temb, frames)
        if hasattr(self, "attentions"):
            hidden = self.attentions[i](hidden, encoder_hidden_states=context, return_dict=False)[0]
        if temporal:
            hidden = self.temporal_attentions[i](hidden, frames)
        return hidden

    def down(self, hidden: torch.Tensor, temb: torch.Tensor, context: torch.Tensor, frames: int,
             temporal: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for i in range(len(self.resnets)):
            hidden = self._layer(i, hidden, temb, context, frames, temporal)
            skips.append(hidden)
        if hasattr(self, "downsamplers"):
            hidden = self.downsamplers[0](hidden)
            skips.append(hidden)
        return hidden, skips

    def up(self, hidden: torch.Tensor, skips: list[torch.Tensor], temb: torch.Tensor, context: torch.Tensor,
           frames: int, temporal: bool, size: Sequence[int] | None) -> torch.Tensor:
        for i in range(len(self.resnets)):
            hidden = torch.cat([hidden, skips.pop()], dim=1)
            hidden = self._layer(i, hidden, temb, context, frames, temporal)
        if hasattr(self, "upsamplers"):
            hidden = self.upsamplers[0](hidden, size)
        return hidden


class MidBlock(nn.Module):
    """resnet, spatial attention, resnet: no temporal layer in Hotshot-XL's mid block."""

    def __init__(self, channels: int, temb: int, heads: int, layers: int, cross_dim: int, groups: int, eps: float,
                 scale: float, linear: bool, upcast: bool) -> None:
        super().__init__()
        self.resnets = nn.ModuleList([ClipResnet(channels, channels, temb, groups, eps, scale) for _ in range(2)])
        self.attentions = nn.ModuleList(
            [_spatial_attention(channels, heads, layers, cross_dim, groups, linear, upcast)]
        )

    def forward(self, hidden: torch.Tensor, temb: torch.Tensor, context: torch.Tensor, frames: int) -> torch.Tensor:
        hidden = self.resnets[0](hidden, temb, frames)
        hidden = self.attentions[0](hidden, encoder_hidden_states=context, return_dict=False)[0]
        return self.resnets[1](hidden, temb, frames)


def _per_block(value: int | Sequence[int], blocks: int) -> list[int]:
    return [value] * blocks if isinstance(value, int) else list(value)


class HotshotXLUNet(ModelMixin, ConfigMixin):
    """Denoises video latents (batch, channels, frames, height, width) conditioned on SDXL text embeddings, pooled
    text embeddings and size/crop micro-conditioning (`time_ids`)."""

    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 4,
        out_channels: int = 4,
        down_block_types: Sequence[str] = ("DownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D"),
        up_block_types: Sequence[str] = ("CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "UpBlock3D"),
        mid_block_type: str = MID_TYPE,
        block_out_channels: Sequence[int] = (320, 640, 1280),
        layers_per_block: int | Sequence[int] = 2,
        transformer_layers_per_block: int | Sequence[int] = (1, 2, 10),
        attention_head_dim: int | Sequence[int] = (5, 10, 20),
        cross_attention_dim: int = 2048,
        norm_num_groups: int = 32,
        norm_eps: float = 1e-5,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 2816,
        use_linear_projection: bool = True,
        upcast_attention: bool | None = False,
        downsample_padding: int = 1,
        mid_block_scale_factor: float = 1.0,
        conv_in_kernel: int = 3,
        conv_out_kernel: int = 3,
    ) -> None:
        super().__init__()
        n = len(block_out_channels)
        # SDXL's (and Hotshot-XL's) `attention_head_dim` is, by a historical misnaming, the number of heads.
        heads = _per_block(attention_head_dim, n)
        layers = _per_block(layers_per_block, n)
        depth = _per_block(transformer_layers_per_block, n)
        groups, eps, linear, upcast = norm_num_groups, norm_eps, use_linear_projection, bool(upcast_attention)
        time_dim = block_out_channels[0] * 4

        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], conv_in_kernel, padding=(conv_in_kernel - 1) // 2)
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_dim, act_fn="silu")
        self.add_time_proj = Timesteps(addition_time_embed_dim, flip_sin_to_cos, freq_shift)
        self.add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim, time_dim)

        self.down_blocks = nn.ModuleList()
        channels = block_out_channels[0]
        for i, kind in enumerate(down_block_types):
            in_ch, channels = channels, block_out_channels[i]
            resnets = [
                ClipResnet(in_ch if j == 0 else channels, channels, time_dim, groups, eps) for j in range(layers[i])
            ]
            attentions = [
                _spatial_attention(channels, heads[i], depth[i], cross_attention_dim, groups, linear, upcast)
                for _ in range(layers[i])
            ] if DOWN_TYPES[kind] else None
            sampler = "down" if i < n - 1 else None
            self.down_blocks.append(ClipBlock(resnets, attentions, channels, sampler, downsample_padding))

        self.mid_block = MidBlock(block_out_channels[-1], time_dim, heads[-1], depth[-1], cross_attention_dim, groups,
                                  eps, mid_block_scale_factor, linear, upcast)

        self.up_blocks = nn.ModuleList()
        rev_channels, rev_heads = list(reversed(block_out_channels)), list(reversed(heads))
        rev_layers, rev_depth = list(reversed(layers)), list(reversed(depth))
        channels = rev_channels[0]
        for i, kind in enumerate(up_block_types):
            prev, channels = channels, rev_channels[i]
            skip_in = rev_channels[min(i + 1, n - 1)]
            count = rev_layers[i] + 1
            resnets = [
                ClipResnet((prev if j == 0 else channels) + (skip_in if j == count - 1 else channels), channels,
                           time_dim, groups, eps)
                for j in range(count)
            ]
            attentions = [
                _spatial_attention(channels, rev_heads[i], rev_depth[i], cross_attention_dim, groups, linear, upcast)
                for _ in range(count)
            ] if UP_TYPES[kind] else None
            self.up_blocks.append(ClipBlock(resnets, attentions, channels, "up" if i < n - 1 else None))

        self.conv_norm_out = nn.GroupNorm(groups, block_out_channels[0], eps=eps)
        self.conv_out = nn.Conv2d(block_out_channels[0], out_channels, conv_out_kernel,
                                  padding=(conv_out_kernel - 1) // 2)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        text_embeds: torch.Tensor,
        time_ids: torch.Tensor,
        temporal: bool = True,
    ) -> torch.Tensor:
        """`sample` (batch, channels, frames, h, w) -> the prediction, same shape. With `temporal=False` (one
        frame), the temporal layers are skipped, as Hotshot-XL does to render a still image."""
        batch, channels, frames, height, width = sample.shape
        hidden = sample.transpose(1, 2).reshape(batch * frames, channels, height, width)

        steps = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(batch)
        temb = self.time_embedding(self.time_proj(steps).to(sample.dtype))
        micro = self.add_time_proj(time_ids.flatten()).reshape(batch, -1)
        temb = temb + self.add_embedding(torch.cat([text_embeds, micro], dim=-1).to(temb.dtype))
        temb = temb.repeat_interleave(frames, dim=0)
        context = encoder_hidden_states.repeat_interleave(frames, dim=0)

        hidden = self.conv_in(hidden)
        skips = [hidden]
        for block in self.down_blocks:
            hidden, block_skips = block.down(hidden, temb, context, frames, temporal)
            skips.extend(block_skips)
        hidden = self.mid_block(hidden, temb, context, frames)
        for block in self.up_blocks:
            block_skips = skips[-len(block.resnets):]
            del skips[-len(block.resnets):]
            # An odd latent size cannot be recovered by doubling: upsample to the size the skip connection has.
            size = skips[-1].shape[-2:] if skips else None
            hidden = block.up(hidden, block_skips, temb, context, frames, temporal, size)

        hidden = self.conv_out(F.silu(norm_over_clip(self.conv_norm_out, hidden, frames)))
        return hidden.reshape(batch, frames, -1, height, width).transpose(1, 2)
