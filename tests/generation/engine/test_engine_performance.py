"""Every GPU performance setting reaches the pipeline and is recorded in the render's provenance.

Tiny random-weight folders on CPU: where CPU can run a setting, the test renders with it; where it cannot (flash
and sage attention, sequential offload, group offload's CUDA streams, fp8/nf4 quantization, a package that is not
installed) the test proves the setting reached diffusers and skips the render with a message naming what is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from generation.engine import (
    DeviceUnavailable,
    InvalidSetting,
    ModelRegistry,
    PerformanceSettings,
    PipelineCache,
    RenderRequest,
    UnsupportedModel,
    choose_device,
    render,
)
from generation.engine.device import enable_offload, with_performance
from generation.engine.performance import CHOICES
from generation.engine.pipeline_cache import load_pipeline
from generation.engine.tuning import compiled_blocks, denoiser_of, load_kwargs, set_attention

PROMPT = "a red circle moving left on a black background"
CUDA = torch.cuda.is_available()


def _request(model: str) -> RenderRequest:
    return RenderRequest(prompt=PROMPT, seed=3, num_frames=5, width=16, height=16, steps=2, fps=8, model=model)


def _render(folder: Path, choice, cache: PipelineCache | None = None):
    return render(_request("m"), registry=ModelRegistry({"m": folder}), device=choice, cache=cache or PipelineCache())


def _raw_pipe(folder: Path):
    """A freshly loaded tiny pipeline on CPU in fp32 with no performance setting applied yet."""
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(folder), local_files_only=True, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _frames(pipe) -> tuple:
    out = pipe(prompt=PROMPT, num_frames=5, height=16, width=16, num_inference_steps=2, output_type="np",
               generator=torch.Generator("cpu").manual_seed(0))
    return out.frames.shape


def test_the_defaults_change_nothing_on_cpu_and_are_recorded(wan_dir: Path, cpu) -> None:
    result = _render(wan_dir, cpu)
    perf = result.provenance()["performance"]
    assert perf["requested"] == PerformanceSettings().as_dict()
    assert (perf["attention"], perf["compile"], perf["offload"], perf["layerwise_casting"], perf["quantization"]) == (
        "sdpa", "off", "none", "off", "none"
    )
    assert (perf["vae_tiling"], perf["vae_slicing"], perf["vae_dtype"]) == (False, False, "float32")
    assert result.savers == []


@pytest.mark.parametrize(("name", "value"), [("attention", "xformers"), ("offload", "disk"), ("vae_fp32", "yes")])
def test_an_unknown_value_names_the_setting_and_the_allowed_values(name: str, value: str) -> None:
    with pytest.raises(InvalidSetting, match=f"{name}={value!r} is not one of {', '.join(CHOICES[name])}"):
        PerformanceSettings(**{name: value})


def test_fp8_casting_and_quantization_together_are_refused() -> None:
    with pytest.raises(InvalidSetting, match="choose one"):
        PerformanceSettings(layerwise_casting="fp8_e4m3", quantization="int8")


def test_other_performance_settings_are_another_cached_pipeline(animatediff_dir: Path, cpu) -> None:
    cache = PipelineCache(capacity=2)
    _render(animatediff_dir, cpu, cache)
    _render(animatediff_dir, cpu, cache)
    _render(animatediff_dir, with_performance(cpu, vae_tiling="on"), cache)
    assert cache.loads == 2


# --- attention backend ------------------------------------------------------------------------------------------


def test_sdpa_routes_a_transformer_through_the_dispatcher_and_renders(wan_dir: Path, cpu) -> None:
    result = _render(wan_dir, with_performance(cpu, attention="sdpa"))
    assert result.performance["attention"] == "sdpa"
    assert result.performance["attention_modules"] > 0  # Wan's attention goes through diffusers' dispatcher


@pytest.mark.parametrize("backend", ["flash", "sage"])
def test_flash_and_sage_reach_the_dispatcher(wan_dir: Path, backend: str) -> None:
    denoiser = denoiser_of(_raw_pipe(wan_dir))[1]
    try:
        set_attention(denoiser, backend)
    except DeviceUnavailable as exc:  # diffusers checked for the backend's package: the setting reached it
        assert ("flash-attn" if backend == "flash" else "sageattention") in str(exc)
        assert "CUDA" in str(exc)
        pytest.skip(f"{backend} attention needs CUDA and its package, which this machine lacks: {exc}")
    processors = {m.processor._attention_backend.value for m in denoiser.modules()
                  if hasattr(getattr(m, "processor", None), "_attention_backend")}
    set_attention(denoiser, "sdpa")  # the dispatcher's active backend is process-wide: give the next test SDPA
    assert processors == {backend}
    if not CUDA:
        pytest.skip(f"{backend} attention is installed but renders on CUDA only; this machine has no CUDA")


def test_flash_attention_on_a_cpu_device_is_a_clear_error(wan_dir: Path, cpu) -> None:
    with pytest.raises(DeviceUnavailable, match="runs on CUDA only"):
        _render(wan_dir, with_performance(cpu, attention="flash"))


def test_a_backend_on_a_denoiser_without_the_dispatcher_is_refused(animatediff_dir: Path) -> None:
    denoiser = denoiser_of(_raw_pipe(animatediff_dir))[1]
    assert set_attention(denoiser, "sdpa") == 0  # UNet processors call SDPA themselves
    with pytest.raises(UnsupportedModel, match="use sdpa for this model"):
        set_attention(denoiser, "flash")


def test_a_diffusers_without_the_dispatcher_keeps_sdpa_and_refuses_other_backends() -> None:
    older = torch.nn.Linear(2, 2)  # a module with no set_attention_backend, as in a diffusers older than the dispatcher
    assert set_attention(older, "sdpa") == 0
    with pytest.raises(UnsupportedModel, match="upgrade diffusers or use sdpa"):
        set_attention(older, "sage")


# --- torch.compile ----------------------------------------------------------------------------------------------


def test_regional_compile_wraps_only_the_repeated_blocks_once_per_cached_pipeline(wan_dir: Path, cpu) -> None:
    choice = with_performance(cpu, compile="regional")
    entry = load_pipeline(ModelRegistry({"m": wan_dir}).resolve("m"), choice)
    transformer = entry.pipe.transformer
    blocks = len(transformer.blocks)
    assert entry.performance["compile"] == "regional"
    assert compiled_blocks(transformer) == blocks  # each WanTransformerBlock, not the whole transformer
    assert transformer._compiled_call_impl is None


def test_regional_compile_falls_back_to_full_without_repeated_blocks(text_to_video_sd_dir: Path, cpu) -> None:
    info = ModelRegistry({"m": text_to_video_sd_dir}).resolve("m")
    entry = load_pipeline(info, with_performance(cpu, compile="regional"))
    assert entry.performance["compile"] == "full"
    assert entry.pipe.unet._compiled_call_impl is not None


@pytest.mark.slow
def test_a_compiled_denoiser_renders_and_stays_warm_in_the_cache(wan_dir: Path, cpu) -> None:
    pytest.importorskip("torch._inductor")
    cache = PipelineCache()
    choice = with_performance(cpu, compile="regional")
    first = _render(wan_dir, choice, cache)
    entry, loaded = cache.get(ModelRegistry({"m": wan_dir}).resolve("m"), choice)
    second = _render(wan_dir, choice, cache)
    assert (loaded, cache.loads, first.warm, second.warm) == (False, 1, False, True)
    assert compiled_blocks(entry.pipe.transformer) == len(entry.pipe.transformer.blocks)
    assert first.frames_hash == second.frames_hash
    assert second.performance["compile"] == "regional"


# --- offload ----------------------------------------------------------------------------------------------------


def test_offload_on_a_cpu_device_is_skipped_and_says_so(animatediff_dir: Path, cpu) -> None:
    result = _render(animatediff_dir, with_performance(cpu, offload="model"))
    assert result.performance["offload"] == "none"
    assert result.performance["requested"]["offload"] == "model"
    assert "offload model skipped" in result.performance["notes"][0]


@pytest.mark.parametrize("mode", ["model", "group"])
def test_model_and_group_offload_install_their_hooks_and_render(wan_dir: Path, mode: str) -> None:
    pipe = _raw_pipe(wan_dir)
    savers = enable_offload(pipe, mode, "cpu")
    assert savers == [f"{mode}_cpu_offload" if mode == "model" else "group_offload"]
    hooked = pipe.transformer._diffusers_hook if mode == "group" else pipe.transformer._hf_hook
    assert hooked is not None
    assert _frames(pipe) == (1, 5, 16, 16, 3)


def test_sequential_offload_installs_its_hooks(wan_dir: Path) -> None:
    pipe = _raw_pipe(wan_dir)
    assert enable_offload(pipe, "sequential", "cpu") == ["sequential_cpu_offload"]
    assert any(getattr(m, "_hf_hook", None) is not None for m in pipe.transformer.modules())
    if not CUDA:
        pytest.skip("sequential offload onloads each layer to CUDA; on a CPU device accelerate cannot run it")
    assert _frames(pipe) == (1, 5, 16, 16, 3)


def test_group_offload_uses_cuda_streams(wan_dir: Path) -> None:
    pipe = _raw_pipe(wan_dir)
    if not CUDA:
        with pytest.raises(ValueError, match="streams"):
            pipe.enable_group_offload(onload_device=torch.device("cpu"), offload_type="leaf_level", use_stream=True)
        pytest.skip("group offload with streams prefetches on a CUDA stream; this machine has no CUDA")
    assert enable_offload(pipe, "group", "cuda") == ["group_offload_streams"]
    assert _frames(pipe) == (1, 5, 16, 16, 3)


# --- layerwise casting (fp8 weight storage) ---------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["fp8_e4m3", "fp8_e5m2"])
def test_fp8_layerwise_casting_stores_the_denoiser_in_fp8_and_renders(wan_dir: Path, cpu, storage: str) -> None:
    choice = with_performance(cpu, layerwise_casting=storage)
    entry = load_pipeline(ModelRegistry({"m": wan_dir}).resolve("m"), choice)
    dtypes = {p.dtype for p in entry.pipe.transformer.blocks.parameters()}
    assert (torch.float8_e4m3fn if storage == "fp8_e4m3" else torch.float8_e5m2) in dtypes
    result = _render(wan_dir, choice)
    assert result.performance["layerwise_casting"] == storage
    assert result.frames.shape == (5, 16, 16, 3)


# --- quantization -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "package"), [("int8", "torchao"), ("fp8", "torchao"), ("nf4", "bitsandbytes")])
def test_quantization_reaches_from_pretrained(wan_dir: Path, cpu, mode: str, package: str) -> None:
    info = ModelRegistry({"m": wan_dir}).resolve("m")
    choice = with_performance(cpu, quantization=mode)
    if importlib.util.find_spec(package) is None:
        with pytest.raises(DeviceUnavailable, match=f"needs the {package} package"):
            load_kwargs(info, choice)
        pytest.skip(f"quantization {mode} needs the {package} package, which is not installed here")
    if mode != "int8" and not CUDA:
        with pytest.raises(DeviceUnavailable, match="CUDA only"):
            load_kwargs(info, choice)
        pytest.skip(f"quantization {mode} runs on CUDA only; this machine has no CUDA")
    config = load_kwargs(info, choice)["quantization_config"]
    assert list(config.quant_mapping) == ["transformer"]
    result = _render(wan_dir, choice)
    assert result.performance["quantization"] == mode


# --- VAE --------------------------------------------------------------------------------------------------------


def test_vae_tiling_and_slicing_can_be_forced_on_a_cpu_and_render(animatediff_dir: Path, cpu) -> None:
    result = _render(animatediff_dir, with_performance(cpu, vae_tiling="on", vae_slicing="on"))
    assert (result.performance["vae_tiling"], result.performance["vae_slicing"]) == (True, True)
    assert result.savers == ["vae_slicing", "vae_tiling"]


def test_vae_tiling_and_slicing_are_on_by_default_with_cuda_and_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from generation.engine.device import place_pipeline
    from tests.generation.engine.test_engine_device import FakePipe

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert place_pipeline(FakePipe(), choose_device("cuda")) == ["vae_slicing", "vae_tiling"]
    assert place_pipeline(FakePipe(), choose_device("cuda"), vae_tiling=False, vae_slicing=False) == []


def test_wan_keeps_its_vae_in_fp32_beside_a_bf16_denoiser(wan_dir: Path) -> None:
    result = _render(wan_dir, choose_device("cpu", "bf16"))
    assert (result.performance["vae_dtype"], result.dtype) == ("float32", "bfloat16")
    assert result.frames.shape == (5, 16, 16, 3)
    off = _render(wan_dir, with_performance(choose_device("cpu", "bf16"), vae_fp32="off"))
    assert off.performance["vae_dtype"] == "bfloat16"


def test_an_fp32_vae_is_refused_for_a_pipeline_that_decodes_in_the_denoisers_dtype(
    animatediff_dir: Path,
) -> None:
    with pytest.raises(UnsupportedModel, match="set vae_fp32 to auto or off"):
        _render(animatediff_dir, with_performance(choose_device("cpu", "bf16"), vae_fp32="on"))


def test_the_render_command_keeps_the_settings_when_the_device_is_overridden(
    tmp_path: Path, animatediff_dir: Path, cpu
) -> None:
    import io

    from generation.engine.cli import run

    out, err = io.StringIO(), io.StringIO()
    options = {"prompt": PROMPT, "model": "m", "frames": 8, "fps": 8, "steps": 1, "device": "cpu", "dtype": "fp32",
               "output": str(tmp_path / "clip.mp4"), "no_progress": True}
    code = run(options, registry=ModelRegistry({"m": animatediff_dir}),
               device=with_performance(cpu, vae_tiling="on", layerwise_casting="fp8_e4m3"), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "layerwise_casting fp8_e4m3" in out.getvalue() and "vae_tiling True" in out.getvalue()
