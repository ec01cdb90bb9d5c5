"""Models named by Hugging Face hub id: read from the hub cache as the hub client lays it out, never downloaded
at render time; a missing one names the command that fetches it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from generation.engine import ModelIncomplete, ModelNotFound, ModelRegistry, PipelineCache, RenderRequest, render
from generation.engine.cli import run
from generation.engine.hub import FetchFailed, HubModel, cached_snapshot, fetch, files_to_fetch
from tests.generation.hub_cache import COMMIT, put_in_hub_cache

PROMPT = "a red circle moving left on a black background"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-home" / "hub"
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(cache.parent))
    return cache


@pytest.mark.parametrize(("text", "parsed"), [
    ("Lightricks/LTX-Video", HubModel("Lightricks/LTX-Video")),
    ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers@main", HubModel("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "main")),
    ("/srv/models/ltx", None), ("models/ltx/v1", None), ("./ltx", None), ("ltx", None), ("org/../x", None),
])
def test_a_hub_id_is_owner_slash_name_and_anything_else_is_not(text: str, parsed: HubModel | None) -> None:
    assert HubModel.parse(text) == parsed


def test_a_registry_value_that_is_a_hub_id_is_read_from_the_cache(ltx_dir: Path, hub_cache: Path) -> None:
    snapshot = put_in_hub_cache(ltx_dir, hub_cache, "Lightricks/LTX-Video")
    registry = ModelRegistry({"ltx": "Lightricks/LTX-Video"}, allow_paths=False)
    info = registry.resolve("ltx")
    assert info.path == snapshot.resolve() and snapshot.name == COMMIT
    assert (snapshot / "transformer" / "config.json").is_symlink()
    assert info.pipeline_class == "LTXPipeline" and info.model_id.startswith("Lightricks/LTX-Video@sha256:")


def test_an_existing_folder_spelled_like_a_hub_id_stays_a_folder(
    ltx_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "ltx").symlink_to(ltx_dir)
    monkeypatch.chdir(tmp_path)
    assert ModelRegistry({"ltx": "models/ltx"}).resolve("ltx").pipeline_class == "LTXPipeline"


def test_a_hub_model_missing_from_the_cache_names_the_command_to_run(hub_cache: Path) -> None:
    registry = ModelRegistry({"ltx": "Lightricks/LTX-Video"})
    with pytest.raises(ModelNotFound, match=r"Model 'ltx' \(Lightricks/LTX-Video\) is not in this machine's Hugging "
                                            r"Face cache .*never download.*Run: python manage.py fetch_model ltx$"):
        registry.resolve("ltx")
    assert cached_snapshot(HubModel("Lightricks/LTX-Video")) is None


def test_an_interrupted_download_names_the_command_that_completes_it(ltx_dir: Path, hub_cache: Path) -> None:
    put_in_hub_cache(ltx_dir, hub_cache, "Lightricks/LTX-Video", skip=("transformer/diffusion_pytorch_model",))
    with pytest.raises(ModelIncomplete, match=r"'transformer'.*lacks weights.*cut short\. "
                                              r"Run: python manage.py fetch_model ltx$"):
        ModelRegistry({"ltx": "Lightricks/LTX-Video"}).resolve("ltx")


def test_the_cli_takes_a_hub_id_as_model_and_says_what_to_run_when_it_is_missing(hub_cache: Path, tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    options = {"prompt": PROMPT, "model": "Lightricks/LTX-Video", "output": str(tmp_path / "x.mp4"),
               "no_progress": True}
    assert run(options, registry=ModelRegistry(), stdout=out, stderr=err) == 2
    assert "Traceback" not in err.getvalue()
    assert err.getvalue().strip().endswith("Run: python manage.py fetch_model Lightricks/LTX-Video")


def test_a_hub_model_renders_from_the_cache_offline(ltx_dir: Path, hub_cache: Path, cpu) -> None:
    put_in_hub_cache(ltx_dir, hub_cache, "Lightricks/LTX-Video")
    registry = ModelRegistry({"ltx": "Lightricks/LTX-Video"})
    request = RenderRequest(prompt=PROMPT, seed=0, num_frames=8, fps=8, width=32, height=32, steps=1, model="ltx")
    result = render(request, registry=registry, device=cpu, cache=PipelineCache(capacity=1))
    assert result.frames.shape == (9, 32, 32, 3) and result.model_id.startswith("Lightricks/LTX-Video@")


def test_fetching_with_the_hub_offline_fails_with_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FetchFailed, match=r"Cannot download Lightricks/LTX-Video: HF_HUB_OFFLINE is set"):
        fetch(HubModel("Lightricks/LTX-Video"))


def test_only_what_the_pipeline_loads_is_fetched() -> None:
    index = {"_class_name": "LTXPipeline", "transformer": ["diffusers", "LTXVideoTransformer3DModel"],
             "tokenizer": ["transformers", "T5TokenizerFast"], "text_encoder": ["transformers", "T5EncoderModel"],
             "image_encoder": [None, None]}
    files = [
        "README.md", "model_index.json", "ltx-video-2b-v0.9.safetensors",
        "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
        "transformer/diffusion_pytorch_model.fp16.safetensors", "transformer/diffusion_pytorch_model.bin",
        "tokenizer/spiece.model", "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json",
        "text_encoder/config.json", "text_encoder/model.safetensors.index.json",
        "text_encoder/model-00001-of-00002.safetensors", "text_encoder/model-00002-of-00002.safetensors",
        "text_encoder/model.safetensors.index.fp16.json", "text_encoder/model.fp16-00001-of-00002.safetensors",
        "image_encoder/config.json", "vae/config.json",
    ]
    assert sorted(files_to_fetch(files, index)) == sorted([
        "model_index.json", "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
        "tokenizer/spiece.model", "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json",
        "text_encoder/config.json", "text_encoder/model.safetensors.index.json",
        "text_encoder/model-00001-of-00002.safetensors", "text_encoder/model-00002-of-00002.safetensors",
    ])
    bin_only = ["model_index.json", "transformer/config.json", "transformer/diffusion_pytorch_model.bin"]
    assert files_to_fetch(bin_only, index) == bin_only
