"""LoRAs in the engine: the key check against a model's headers, and renders that switch adapters on one warm
pipeline (same seed: the frames differ with the LoRA, and are the base model's again without it)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pytest

from generation.engine import (
    BUNDLED_KEY,
    DeviceChoice,
    InvalidLora,
    InvalidRequest,
    LoraWeights,
    ModelRegistry,
    PipelineCache,
    RenderRequest,
    check_lora,
    render,
)
from generation.engine.lora import loaded_adapters
from tests.generation.lora_files import build_lora, safetensors_bytes, sha256_of

PROMPT = "a red circle moving left on a black background"


@pytest.fixture(scope="module")
def bundled() -> ModelRegistry:
    return ModelRegistry()


@pytest.fixture(scope="module")
def lora_file(bundled: ModelRegistry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lora(bundled.resolve(BUNDLED_KEY).path, tmp_path_factory.mktemp("lora"))


@pytest.fixture(scope="module")
def second_lora_file(bundled: ModelRegistry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lora(bundled.resolve(BUNDLED_KEY).path, tmp_path_factory.mktemp("lora2"), seed=7, rank=2)


def test_a_lora_built_for_the_bundled_model_passes_the_key_check(bundled, lora_file) -> None:
    checked = check_lora(lora_file, bundled.resolve(BUNDLED_KEY))

    assert checked.components == ("unet",)
    assert checked.modules > 10 and checked.rank == 4


def test_the_key_check_reads_bytes_and_open_files_alike(bundled, lora_file) -> None:
    info = bundled.resolve(BUNDLED_KEY)
    with open(lora_file, "rb") as handle:
        assert check_lora(handle, info) == check_lora(lora_file.read_bytes(), info)
        assert handle.tell() == 0
    assert check_lora(io.BytesIO(lora_file.read_bytes()), info).modules > 10


def test_keys_that_match_no_module_of_the_model_are_named(bundled) -> None:
    foreign = safetensors_bytes({
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight": [4, 32],
        "unet.input_blocks.4.1.proj_in.lora_A.weight": [4, 640],
        "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight": [4, 768],
    })

    with pytest.raises(InvalidLora) as caught:
        check_lora(foreign, bundled.resolve(BUNDLED_KEY))

    message = str(caught.value)
    assert "2 of 3 keys" in message
    assert "unet.input_blocks.4.1.proj_in.lora_A.weight" in message
    assert "text_encoder.text_model" in message  # the bundled model has no first text encoder
    assert "to_q" not in message


def test_a_lora_for_a_model_of_other_sizes_is_refused_by_shape(bundled) -> None:
    wrong_width = safetensors_bytes({
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight": [4, 320],
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight": [320, 4],
    })

    with pytest.raises(InvalidLora, match="2 of 2 keys"):
        check_lora(wrong_width, bundled.resolve(BUNDLED_KEY))


def test_kohya_names_map_onto_the_model_modules(bundled) -> None:
    kohya = safetensors_bytes({
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight": [4, 32],
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight": [32, 4],
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha": [],
    })

    assert check_lora(kohya, bundled.resolve(BUNDLED_KEY)).modules == 1


def _with_header(header: bytes) -> bytes:
    return len(header).to_bytes(8, "little") + header


NOT_SAFETENSORS = [
    b"", b"PK\x03\x04 a zip file", b"\xff" * 64, _with_header(b"[]"),
    _with_header(b'{"unet.a.to_q.lora_A.weight": {"dtype": "F32", "shape": ["4", 32], "data_offsets": [0, 0]}}'),
]


@pytest.mark.parametrize("content", NOT_SAFETENSORS)
def test_a_file_that_is_not_safetensors_is_refused_plainly(bundled, content: bytes) -> None:
    with pytest.raises(InvalidLora, match="not a safetensors file"):
        check_lora(content, bundled.resolve(BUNDLED_KEY))


def test_lora_weights_out_of_range_are_refused_before_rendering(bundled) -> None:
    request = RenderRequest(PROMPT, seed=1, steps=2, model=BUNDLED_KEY,
                            loras=(LoraWeights(b"", "a" * 64, 3.0, "brand"), LoraWeights(b"", "a" * 64, 1.0)))

    with pytest.raises(InvalidRequest) as caught:
        render(request, registry=bundled)

    assert any("'brand' has weight 3.0" in p for p in caught.value.problems)
    assert any("named twice" in p for p in caught.value.problems)


@pytest.mark.slow
def test_a_lora_changes_the_frames_of_the_same_seed_and_switching_never_reloads_the_model(
    bundled, lora_file, second_lora_file, cpu: DeviceChoice
) -> None:
    cache = PipelineCache()
    brand = LoraWeights(lora_file, sha256_of(lora_file), 1.0, "brand")
    other = LoraWeights(second_lora_file.read_bytes(), sha256_of(second_lora_file), 0.8, "other")

    def frames(*loras: LoraWeights) -> np.ndarray:
        request = RenderRequest(PROMPT, seed=3, steps=2, num_frames=8, model=BUNDLED_KEY, loras=loras)
        return render(request, registry=bundled, device=cpu, cache=cache).frames

    base = frames()
    with_brand = frames(brand)
    with_both = frames(brand, other)
    again_base = frames()
    again_brand = frames(brand)

    assert np.abs(base.astype(int) - with_brand).mean() > 1.0
    assert not np.array_equal(with_brand, with_both)
    assert np.array_equal(base, again_base)
    assert np.array_equal(with_brand, again_brand)
    assert cache.loads == 1
    assert sorted(loaded_adapters(next(iter(cache._entries.values())).pipe)) == sorted([brand.adapter_name,
                                                                                       other.adapter_name])


def test_a_render_records_each_lora_in_its_provenance(bundled, lora_file, cpu: DeviceChoice) -> None:
    brand = LoraWeights(lora_file, sha256_of(lora_file), 0.5, "brand")

    result = render(RenderRequest(PROMPT, seed=1, steps=1, num_frames=8, model=BUNDLED_KEY, loras=(brand,)),
                    registry=bundled, device=cpu, cache=PipelineCache())

    assert result.provenance()["request"]["loras"] == [{"name": "brand", "sha256": brand.adapter_name,
                                                        "weight": 0.5}]


@pytest.mark.slow
def test_a_transformer_family_takes_loras_the_same_way(wan_dir: Path, cpu: DeviceChoice, tmp_path: Path) -> None:
    registry = ModelRegistry({"tiny-wan": wan_dir}, default="tiny-wan")
    lora_file = build_lora(wan_dir, tmp_path)
    brand = LoraWeights(lora_file, sha256_of(lora_file), 1.0, "brand")
    cache = PipelineCache()

    def frames(*loras: LoraWeights) -> np.ndarray:
        request = RenderRequest(PROMPT, seed=3, steps=2, num_frames=9, width=16, height=16, loras=loras)
        return render(request, registry=registry, device=cpu, cache=cache).frames

    assert check_lora(lora_file, registry.resolve()).components == ("transformer",)
    base, branded, again = frames(), frames(brand), frames()
    assert not np.array_equal(base, branded)
    assert np.array_equal(base, again)


def test_the_cli_renders_with_a_lora_and_refuses_one_for_another_model(bundled, lora_file, cpu, tmp_path) -> None:
    from generation.engine.cli import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(safetensors_bytes({"unet.input_blocks.4.1.proj_in.lora_A.weight": [4, 640]}))
    common = [PROMPT, "--model", BUNDLED_KEY, "--steps", "1", "--output", str(tmp_path / "clip.mp4")]
    out, err = io.StringIO(), io.StringIO()

    code = run(parser.parse_args([*common, "--lora", f"{lora_file}:0.7"]), registry=bundled, device=cpu, stdout=out,
               stderr=err)
    refused = run(parser.parse_args([*common, "--lora", str(foreign)]), registry=bundled, device=cpu,
                  stdout=io.StringIO(), stderr=(why := io.StringIO()))

    assert code == 0, err.getvalue()
    assert f"LoRA brand (sha256 {sha256_of(lora_file)[:12]}) at weight 0.7" in out.getvalue()
    assert refused == 2 and "unet.input_blocks.4.1.proj_in.lora_A.weight" in why.getvalue()
