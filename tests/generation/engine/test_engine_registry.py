"""Model registry: keys and paths, incomplete folders, defaults and the weights hash (Hotshot-XL: its own file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generation.engine import (
    BUNDLED_KEY,
    BUNDLED_PATH,
    ModelIncomplete,
    ModelNotFound,
    ModelRegistry,
    inspect_model,
    weights_hash,
)


@pytest.fixture
def copy_of(tmp_path: Path, animatediff_dir: Path):
    def make() -> Path:
        target = tmp_path / "model"
        shutil.copytree(animatediff_dir, target)
        return target

    return make


def test_bundled_key_always_points_at_the_shipped_folder() -> None:
    key, path = ModelRegistry().path_for(None)
    assert (key, path) == (BUNDLED_KEY, BUNDLED_PATH)


def test_it_reads_defaults_and_factors_from_configs(registry: ModelRegistry) -> None:
    info = registry.resolve("tiny")
    assert info.pipeline_class == "AnimateDiffPipeline"
    assert (info.defaults.height, info.defaults.width, info.defaults.fps) == (16, 16, 8)
    assert (info.defaults.num_inference_steps, info.defaults.guidance_scale, info.defaults.max_frames) == (3, 3.0, 24)
    assert (info.size_factor, info.frame_step) == (2, 1)
    assert info.components["unet"] == ("diffusers", "UNetMotionModel")


def test_a_model_without_clipcast_json_uses_the_pipelines_own_defaults(registry: ModelRegistry) -> None:
    info = registry.resolve("tiny-wan")
    assert info.pipeline_class == "WanPipeline"
    # Wan: 8x spatial VAE x 2 patch; time compressed 4x, so frames = 4k + 1.
    assert (info.size_factor, info.frame_step) == (16, 4)
    assert info.defaults.num_inference_steps == 50


def test_a_folder_path_works_as_a_key_unless_paths_are_off(animatediff_dir: Path) -> None:
    assert ModelRegistry().resolve(str(animatediff_dir)).pipeline_class == "AnimateDiffPipeline"
    with pytest.raises(ModelNotFound, match="Unknown model"):
        ModelRegistry(allow_paths=False).resolve(str(animatediff_dir))


def test_an_unknown_key_lists_the_known_ones(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFound, match=r"Unknown model 'nope': use one of bundled, tiny, tiny-sdxl, tiny-wan"):
        registry.resolve("nope")


def test_a_missing_folder_says_which(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        inspect_model(tmp_path / "absent")


def test_a_folder_without_model_index_is_incomplete(tmp_path: Path) -> None:
    with pytest.raises(ModelIncomplete, match=r"no model_index\.json"):
        inspect_model(tmp_path)


def test_a_missing_component_folder_is_named(copy_of) -> None:
    folder = copy_of()
    shutil.rmtree(folder / "vae")
    with pytest.raises(ModelIncomplete, match=r"component 'vae' \(AutoencoderKL\) is missing"):
        inspect_model(folder)


def test_missing_weights_are_named(copy_of) -> None:
    folder = copy_of()
    for weights in (folder / "unet").glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ModelIncomplete, match=r"component 'unet' .* lacks weights"):
        inspect_model(folder)


def test_a_missing_component_config_is_named(copy_of) -> None:
    folder = copy_of()
    (folder / "text_encoder" / "config.json").unlink()
    with pytest.raises(ModelIncomplete, match=r"'text_encoder' .* has no config\.json"):
        inspect_model(folder)


def test_a_missing_scheduler_config_is_named(copy_of) -> None:
    folder = copy_of()
    (folder / "scheduler" / "scheduler_config.json").unlink()
    with pytest.raises(ModelIncomplete, match=r"'scheduler' .* lacks scheduler_config\.json"):
        inspect_model(folder)


def test_weights_hash_is_stable_and_follows_the_bytes(copy_of, animatediff_dir: Path) -> None:
    folder = copy_of()
    assert weights_hash(folder) == weights_hash(animatediff_dir)
    assert len(weights_hash(folder)) == 64
    vae_weights = next((folder / "vae").glob("*.safetensors"))
    vae_weights.write_bytes(vae_weights.read_bytes() + b" ")
    assert weights_hash(folder) != weights_hash(animatediff_dir)


def test_model_id_names_the_model_and_its_weights(registry: ModelRegistry) -> None:
    info = registry.resolve("tiny")
    assert info.model_id == f"{info.name}@sha256:{info.weights_hash[:12]}"
