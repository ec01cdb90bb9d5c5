"""Hotshot-XL's temporal layers, written for Clipcast from the published architecture (hotshotco/Hotshot-XL).

After every spatial step of the UNet's down and up blocks (not in the mid block), a temporal transformer lets
each latent pixel attend to the same pixel in the clip's other frames. Frames travel folded into the batch,
`(batch * frames, channels, height, width)`, clip by clip, frame-major inside a clip.

One temporal transformer (`temporal_attentions.N` in a checkpoint):
- `norm`: GroupNorm, 32 groups, eps 1e-6, over each frame on its own; `proj_in`: Linear channels -> channels;
- one block (`transformer_blocks.0`) of two self-attention sublayers along the frame axis
  (`attention_blocks.0/1`: 8 heads, `to_q/to_k/to_v` without bias, `to_out.0` with bias), each preceded by its
  LayerNorm (`norms.0/1`) and the sinusoidal frame-position table (`pos_encoder.positional_encoding`, 24 frames,
  stored in the checkpoint) added to the normalised input; then a GEGLU feed-forward (`ff`, `ff_norm`);
- `proj_out`: Linear channels -> channels, added to the input (residual).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from torch import nn

TEMPORAL_HEADS = 8  # fixed in Hotshot-XL, whatever the block width
TEMPORAL_NORM_GROUPS = 32
MAX_FRAMES = 24  # length of the position table Hotshot-XL saved with its weights


def sinusoid_table(length: int, dim: int) -> torch.Tensor:
    """The "Attention Is All You Need" table, shaped (1, length, dim): sin on even channels, cos on odd ones."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(1, length, dim)
    table[0, :, 0::2] = torch.sin(position * frequency)
    table[0, :, 1::2] = torch.cos(position * frequency)
    return table


class FramePositions(nn.Module):
    """Adds each frame's row of the position table. The table is a checkpoint tensor: it is loaded, not rebuilt,
    so a fine-tune that changed it renders as trained."""

    def __init__(self, dim: int, max_frames: int = MAX_FRAMES) -> None:
        super().__init__()
        self.register_buffer("positional_encoding", sinusoid_table(max_frames, dim))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        frames = hidden.shape[1]
        if frames > self.positional_encoding.shape[1]:
            raise ValueError(
                f"Hotshot-XL's temporal layers know {self.positional_encoding.shape[1]} frame positions; "
                f"{frames} frames were asked for: render at most {self.positional_encoding.shape[1]} frames."
            )
        return hidden + self.positional_encoding[:, :frames].to(hidden.dtype)


class FrameSelfAttention(nn.Module):
    """Multi-head self-attention along the frame axis, for every spatial position separately."""

    def __init__(self, dim: int, heads: int = TEMPORAL_HEADS) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        self.pos_encoder = FramePositions(dim)

    def forward(self, hidden: torch.Tensor, frames: int) -> torch.Tensor:
        """`hidden`: (batch * frames, tokens, dim) -> the same shape."""
        folded, tokens, dim = hidden.shape
        clips = folded // frames
        # (clips, frames, tokens, dim) -> one sequence of `frames` per (clip, token)
        sequences = hidden.reshape(clips, frames, tokens, dim).transpose(1, 2).reshape(clips * tokens, frames, dim)
        sequences = self.pos_encoder(sequences)

        def split_heads(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(clips * tokens, frames, self.heads, dim // self.heads).transpose(1, 2)

        q, k, v = (split_heads(proj(sequences)) for proj in (self.to_q, self.to_k, self.to_v))
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(clips * tokens, frames, dim)
        attended = self.to_out[1](self.to_out[0](attended))
        return attended.reshape(clips, tokens, frames, dim).transpose(1, 2).reshape(folded, tokens, dim)


class TemporalBlock(nn.Module):
    """Two pre-norm frame self-attentions, then a pre-norm GEGLU feed-forward, each with a residual."""

    def __init__(self, dim: int, depth: int = 2) -> None:
        super().__init__()
        self.attention_blocks = nn.ModuleList([FrameSelfAttention(dim) for _ in range(depth)])
        self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(depth)])
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, hidden: torch.Tensor, frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms, strict=True):
            hidden = attention(norm(hidden), frames) + hidden
        return self.ff(self.ff_norm(hidden)) + hidden


class TemporalTransformer(nn.Module):
    """One `temporal_attentions.N` module: (batch * frames, channels, h, w) -> the same shape."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels % TEMPORAL_NORM_GROUPS or channels % TEMPORAL_HEADS:
            raise ValueError(
                f"Hotshot-XL's temporal layers need channels divisible by {TEMPORAL_NORM_GROUPS}; got {channels}."
            )
        self.norm = nn.GroupNorm(TEMPORAL_NORM_GROUPS, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList([TemporalBlock(channels)])
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, hidden: torch.Tensor, frames: int) -> torch.Tensor:
        folded, channels, height, width = hidden.shape
        tokens = self.norm(hidden).flatten(2).transpose(1, 2)  # each frame normalised on its own
        tokens = self.proj_in(tokens)
        for block in self.transformer_blocks:
            tokens = block(tokens, frames)
        tokens = self.proj_out(tokens)
        return tokens.transpose(1, 2).reshape(folded, channels, height, width) + hidden
