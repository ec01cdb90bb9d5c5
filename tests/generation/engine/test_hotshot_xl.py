"""Hotshot-XL runs natively: an original-layout folder loads with every tensor used, our temporal layer computes
what the published architecture computes, and the engine renders it with Hotshot-XL's native defaults.

The checkpoint comes from tests/generation/engine/hotshot_checkpoint.py (built without Clipcast's Hotshot-XL code;
its docstring says what is scaled down)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from generation.engine import ModelIncomplete, ModelRegistry, PipelineCache, RenderRequest, inspect_model, render
from generation.engine.errors import UnsupportedModel
from generation.engine.hotshot_xl.loading import load_unet
from generation.engine.hotshot_xl.unet import norm_over_clip
from tests.generation.engine.hotshot_checkpoint import build_hotshot_xl, temporal_keys, unet_config

PROMPT = "a red circle moving left on a black background"
WEIGHTS = "unet/diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="session")
def hotshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hotshot_xl(tmp_path_factory.mktemp("hotshot-xl"))


@pytest.fixture(scope="session")
def unet(hotshot_dir: Path):
    return load_unet(hotshot_dir / "unet")


@pytest.fixture
def copy_of_hotshot(hotshot_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "hotshot"
    shutil.copytree(hotshot_dir, target)
    return target


def test_every_tensor_of_the_published_layout_is_used_and_none_is_missing(hotshot_dir: Path, unet) -> None:
    published = load_file(str(hotshot_dir / WEIGHTS))
    ours = unet.state_dict()
    assert set(ours) == set(published)
    assert {k for k in published if ".temporal_attentions." in k} == set(temporal_keys(unet_config()))
    for key, tensor in published.items():  # parameters and the position buffers hold the file's values
        assert ours[key].dtype == torch.float32 and torch.equal(ours[key].half(), tensor), key
    assert not [name for name, t in [*unet.named_parameters(), *unet.named_buffers()] if t.is_meta]


def test_a_missing_or_extra_tensor_is_refused_by_name(copy_of_hotshot: Path) -> None:
    path = copy_of_hotshot / WEIGHTS
    state = load_file(str(path))
    dropped = "up_blocks.1.temporal_attentions.2.transformer_blocks.0.attention_blocks.1.to_v.weight"
    del state[dropped]
    state["mid_block.temporal_attentions.0.proj_in.weight"] = torch.zeros(96, 96, dtype=torch.float16)
    save_file(state, str(path))
    with pytest.raises(ModelIncomplete) as err:
        load_unet(copy_of_hotshot / "unet")
    message = str(err.value)
    assert f"1 missing ({dropped})" in message
    assert "1 not used (mid_block.temporal_attentions.0.proj_in.weight)" in message


def test_a_unet_config_this_code_does_not_implement_is_refused_by_key_before_any_weights(copy_of_hotshot: Path) -> None:
    config_path = copy_of_hotshot / "unet" / "config.json"
    config = json.loads(config_path.read_text())
    config["resnet_time_scale_shift"] = "scale_shift"
    config_path.write_text(json.dumps(config))
    for attempt in (lambda: load_unet(copy_of_hotshot / "unet"), lambda: inspect_model(copy_of_hotshot)):
        with pytest.raises(UnsupportedModel, match=r"resnet_time_scale_shift='scale_shift' \(supported: 'default'\)"):
            attempt()


# --- the reference: Hotshot-XL's TransformerTemporal written out from the published architecture, in float64 ----

def _group_norm(x: torch.Tensor, groups: int, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """x: (n, c, *rest); statistics per sample and group of channels, over the group's channels and `rest`."""
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    normed = (g - g.mean(-1, keepdim=True)) / torch.sqrt(g.var(-1, unbiased=False, keepdim=True) + eps)
    shape = (1, c) + (1,) * (x.dim() - 2)
    return normed.reshape(x.shape) * weight.reshape(shape) + bias.reshape(shape)


def _layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5) * weight + bias


def reference_temporal(w: dict[str, torch.Tensor], clip: torch.Tensor, heads: int = 8) -> torch.Tensor:
    """clip: (batch, channels, frames, h, w). GroupNorm(32, eps 1e-6) per frame -> proj_in -> per pixel, over the
    frames: 2 x [LayerNorm, + sinusoid row, 8-head self-attention, residual] -> LayerNorm, GEGLU, residual ->
    proj_out -> + input."""
    b, c, f, h, wd = clip.shape
    per_frame = clip.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, wd)
    normed = _group_norm(per_frame, 32, w["norm.weight"], w["norm.bias"], 1e-6)
    seq = normed.reshape(b, f, c, h * wd).permute(0, 3, 1, 2).reshape(b * h * wd, f, c)  # one sequence per pixel
    seq = seq @ w["proj_in.weight"].T + w["proj_in.bias"]
    blk = "transformer_blocks.0."
    for a in (0, 1):
        att = f"{blk}attention_blocks.{a}."
        x = _layer_norm(seq, w[f"{blk}norms.{a}.weight"], w[f"{blk}norms.{a}.bias"])
        x = x + w[f"{att}pos_encoder.positional_encoding"][0, :f]
        q, k, v = (x @ w[f"{att}{name}.weight"].T for name in ("to_q", "to_k", "to_v"))
        q, k, v = (t.reshape(-1, f, heads, c // heads) for t in (q, k, v))
        scores = torch.einsum("nqhd,nkhd->nhqk", q, k) / math.sqrt(c // heads)
        mixed = torch.einsum("nhqk,nkhd->nqhd", scores.softmax(-1), v).reshape(-1, f, c)
        seq = seq + mixed @ w[f"{att}to_out.0.weight"].T + w[f"{att}to_out.0.bias"]
    x = _layer_norm(seq, w[f"{blk}ff_norm.weight"], w[f"{blk}ff_norm.bias"])
    value, gate = (x @ w[f"{blk}ff.net.0.proj.weight"].T + w[f"{blk}ff.net.0.proj.bias"]).chunk(2, dim=-1)
    x = value * 0.5 * gate * (1 + torch.erf(gate / math.sqrt(2)))
    seq = seq + x @ w[f"{blk}ff.net.2.weight"].T + w[f"{blk}ff.net.2.bias"]
    seq = seq @ w["proj_out.weight"].T + w["proj_out.bias"]
    return seq.reshape(b, h, wd, f, c).permute(0, 4, 3, 1, 2) + clip


@pytest.mark.parametrize("prefix", ["down_blocks.1.temporal_attentions.0.", "up_blocks.0.temporal_attentions.2."])
@pytest.mark.parametrize("frames", [8, 5])
def test_our_temporal_layer_computes_the_published_layer(hotshot_dir: Path, unet, prefix: str, frames: int) -> None:
    published = load_file(str(hotshot_dir / WEIGHTS))
    weights = {k[len(prefix):]: v.double() for k, v in published.items() if k.startswith(prefix)}
    channels = weights["proj_in.weight"].shape[0]
    clip = torch.randn(2, channels, frames, 3, 5, generator=torch.Generator().manual_seed(frames), dtype=torch.float64)
    expected = reference_temporal(weights, clip)

    module = unet.get_submodule(prefix.rstrip("."))
    folded = clip.float().transpose(1, 2).reshape(2 * frames, channels, 3, 5)  # frames travel in the batch
    with torch.no_grad():
        ours = module(folded, frames).reshape(2, frames, channels, 3, 5).transpose(1, 2)
    assert not torch.allclose(expected, clip, atol=1e-3), "the layer must do something for the test to mean anything"
    torch.testing.assert_close(ours.double(), expected, rtol=1e-4, atol=1e-4)


def test_resnet_norms_take_their_statistics_over_the_whole_clip(unet) -> None:
    # Hotshot-XL's ResnetBlock3D applies GroupNorm to (batch, channels, frames, h, w): one mean per clip and group.
    norm = unet.down_blocks[1].resnets[1].norm1
    clip = torch.randn(2, 64, 8, 4, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = _group_norm(clip, 32, norm.weight.double(), norm.bias.double(), norm.eps)
    folded = clip.float().transpose(1, 2).reshape(16, 64, 4, 4)
    with torch.no_grad():
        ours = norm_over_clip(norm, folded, 8).reshape(2, 8, 64, 4, 4).transpose(1, 2)
    torch.testing.assert_close(ours.double(), expected, rtol=1e-4, atol=1e-4)


def test_the_registry_takes_a_hotshot_folder_with_its_native_clip_as_defaults(hotshot_dir: Path) -> None:
    info = inspect_model(hotshot_dir, key="hotshot")
    d = info.defaults
    assert info.pipeline_class == "HotshotXLPipeline"
    assert ((d.width, d.height), d.num_frames, d.fps, d.max_frames) == ((512, 512), 8, 8, 24)
    assert (d.num_inference_steps, d.guidance_scale) == (30, 5.0)
    assert info.route and "natively" in info.route and "no conversion" in info.route
    assert "8 fps clips at 512x512, 320x768, 384x672, 416x608, 608x416, 672x384, 768x320" in info.route


def test_a_hotshot_folder_may_set_micro_conditioning_in_clipcast_json(copy_of_hotshot: Path) -> None:
    (copy_of_hotshot / "clipcast.json").write_text(json.dumps(
        {"width": 672, "height": 384, "call": {"original_size": [1080, 1920], "target_size": [512, 512]}}
    ))
    info = inspect_model(copy_of_hotshot)
    assert (info.defaults.width, info.defaults.height) == (672, 384)
    assert info.call_args == {"original_size": [1080, 1920], "target_size": [512, 512]}


def test_an_incomplete_hotshot_folder_names_the_missing_component(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "HotshotXLPipeline", "unet": ["hotshot_xl.models.unet", "UNet3DConditionModel"]})
    )
    with pytest.raises(ModelIncomplete, match=r"component 'unet' \(UNet3DConditionModel\) is missing"):
        inspect_model(tmp_path, key="hotshot")


@pytest.mark.slow
def test_the_engine_renders_a_seeded_clip_from_the_original_folder(hotshot_dir: Path, cpu) -> None:
    registry, cache = ModelRegistry({"hotshot": hotshot_dir}), PipelineCache()
    request = RenderRequest(prompt=PROMPT, seed=5, model="hotshot", width=64, height=64, steps=2)
    first = render(request, registry=registry, device=cpu, cache=cache)
    again = render(request, registry=registry, device=cpu, cache=cache)
    other = render(RenderRequest(prompt=PROMPT, seed=6, model="hotshot", width=64, height=64, steps=2),
                   registry=registry, device=cpu, cache=cache)
    assert first.frames.shape == (8, 64, 64, 3) and first.fps == 8
    assert first.pipeline_class == "HotshotXLPipeline" and first.steps_done == 2 and again.warm
    assert first.frames_hash == again.frames_hash != other.frames_hash
    assert first.frames.std() > 0


def _call_order(unet, frames: int) -> list[str]:
    """Names of the block-level modules (resnets.N, attentions.N, temporal_attentions.N, samplers) in call order."""
    kinds = ("resnets", "attentions", "temporal_attentions", "downsamplers", "upsamplers")

    def is_block_part(name: str) -> bool:
        parts = name.split(".")
        in_block = len(parts) == 4 and parts[0] in ("down_blocks", "up_blocks") and parts[2] in kinds
        return in_block or (len(parts) == 3 and parts[0] == "mid_block" and parts[1] in kinds)

    order: list[str] = []
    handles = [
        module.register_forward_hook(lambda *_, name=name: order.append(name))
        for name, module in unet.named_modules() if is_block_part(name)
    ]
    config = unet.config
    try:
        with torch.no_grad():
            unet(torch.randn(1, 4, frames, 8, 8), 999, torch.randn(1, 7, config.cross_attention_dim),
                 torch.randn(1, 32), torch.tensor([[64.0, 64, 0, 0, 64, 64]]), temporal=frames > 1)
    finally:
        for handle in handles:
            handle.remove()
    return order


def test_temporal_layers_follow_each_spatial_step_of_the_down_and_up_blocks_only(unet) -> None:
    # Hotshot-XL's unet_blocks.py: resnet, then spatial attention (cross-attention blocks), then temporal; none in
    # the mid block.
    order = _call_order(unet, frames=4)

    def block(prefix: str) -> list[str]:
        return [name[len(prefix):] for name in order if name.startswith(prefix)]

    assert block("down_blocks.0.") == ["resnets.0", "temporal_attentions.0", "resnets.1", "temporal_attentions.1",
                                       "downsamplers.0"]
    assert block("down_blocks.1.") == ["resnets.0", "attentions.0", "temporal_attentions.0", "resnets.1",
                                       "attentions.1", "temporal_attentions.1", "downsamplers.0"]
    assert block("mid_block.") == ["resnets.0", "attentions.0", "resnets.1"]
    assert block("up_blocks.0.") == [f"{kind}.{i}" for i in range(3) for kind in
                                     ("resnets", "attentions", "temporal_attentions")] + ["upsamplers.0"]
    assert block("up_blocks.2.") == [f"{kind}.{i}" for i in range(3) for kind in ("resnets", "temporal_attentions")]
    # One frame is a still image: Hotshot-XL skips its temporal layers.
    assert not [name for name in _call_order(unet, frames=1) if "temporal" in name]


def test_the_prompt_is_conditioned_as_sdxl_does(hotshot_dir: Path) -> None:
    from generation.engine.hotshot_xl.loading import load_hotshot_xl

    pipe = load_hotshot_xl(hotshot_dir)
    ids = [tok(["a red circle"], padding="max_length", max_length=tok.model_max_length, truncation=True,
               return_tensors="pt").input_ids for tok in (pipe.tokenizer, pipe.tokenizer_2)]
    with torch.no_grad():
        first = pipe.text_encoder(ids[0], output_hidden_states=True)
        second = pipe.text_encoder_2(ids[1], output_hidden_states=True)
        embeds, pooled = pipe.encode_prompt(["a red circle"], None, torch.device("cpu"), guided=True)
    # Penultimate hidden states of both encoders side by side; the second encoder's projected pooled embedding.
    torch.testing.assert_close(embeds[1:], torch.cat([first.hidden_states[-2], second.hidden_states[-2]], dim=-1))
    torch.testing.assert_close(pooled[1:], second.text_embeds)
    # No negative prompt: the unconditional half is zeros (force_zeros_for_empty_prompt in model_index.json).
    assert not embeds[:1].any() and not pooled[:1].any()


def test_more_frames_than_the_position_table_are_refused_before_loading(hotshot_dir: Path) -> None:
    from generation.engine import InvalidRequest, validate

    info = inspect_model(hotshot_dir, key="hotshot")
    assert validate(RenderRequest(prompt=PROMPT, seed=0, num_frames=24), info).num_frames == 24
    with pytest.raises(InvalidRequest, match="Frames must be a whole number from 1 to 24"):
        validate(RenderRequest(prompt=PROMPT, seed=0, num_frames=25), info)
