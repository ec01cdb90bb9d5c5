"""Apply the performance settings (performance.py) to a pipeline as the pipeline cache loads it.

They are applied once per cached pipeline, so a compiled denoiser stays warm for the worker process's life; the
cache key holds the settings, so other settings mean another load. `prepare_pipeline` returns the settings in
effect, which every render records in its provenance.

Order matters: quantization happens inside `from_pretrained` (`load_kwargs`); then the VAE's dtype, fp8
storage and the attention backend change modules in place; then placement (VAE savers, offload hooks or `.to`);
compilation last, so it traces the modules as they will run.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from generation.engine.device import DeviceChoice, place_pipeline
from generation.engine.errors import DeviceUnavailable, UnsupportedModel
from generation.engine.performance import (
    ATTENTION_BACKEND,
    QUANTIZATION_PACKAGE,
    VAE_FP32_FAMILIES,
    VAE_UPCASTING_PIPELINES,
)
from generation.engine.registry import ModelInfo

log = logging.getLogger(__name__)


def denoiser_of(pipe: object) -> tuple[str, Any]:
    """The pipeline's denoiser: a transformer (Wan, LTX-Video, CogVideoX) or a UNet (AnimateDiff, ModelScope)."""
    for name in ("transformer", "unet"):
        module = getattr(pipe, name, None)
        if module is not None:
            return name, module
    raise UnsupportedModel(f"{type(pipe).__name__} has neither a transformer nor a unet to tune.")


def _missing(package: str) -> bool:
    return importlib.util.find_spec(package.replace("-", "_")) is None


def load_kwargs(info: ModelInfo, choice: DeviceChoice) -> dict[str, Any]:
    """Extra `from_pretrained` arguments: the denoiser's quantization config, when one is set."""
    mode = choice.performance.quantization
    if mode == "none":
        return {}
    package = QUANTIZATION_PACKAGE[mode]
    if _missing(package):
        raise DeviceUnavailable(
            f"Quantization {mode!r} needs the {package} package, which is not installed: install it on the GPU "
            "worker or set quantization to none."
        )
    if mode in ("fp8", "nf4") and choice.kind != "cuda":
        raise DeviceUnavailable(f"Quantization {mode!r} runs on CUDA only (device {choice.device}): use int8 or none.")
    from diffusers.quantizers import PipelineQuantizationConfig

    denoiser = "transformer" if "transformer" in info.components else "unet"
    if mode == "nf4":
        from diffusers import BitsAndBytesConfig

        config: Any = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=choice.dtype
        )
    else:
        from diffusers import TorchAoConfig
        from torchao.quantization import Float8WeightOnlyConfig, Int8WeightOnlyConfig

        config = TorchAoConfig(Int8WeightOnlyConfig() if mode == "int8" else Float8WeightOnlyConfig())
    return {"quantization_config": PipelineQuantizationConfig(quant_mapping={denoiser: config})}


def set_attention(denoiser: Any, setting: str) -> int:
    """Route the denoiser's attention through diffusers' dispatcher to the chosen backend; returns how many
    attention modules now use it (0: the denoiser's processors call SDPA themselves, without the dispatcher)."""
    if not callable(getattr(denoiser, "set_attention_backend", None)):  # a diffusers older than its dispatcher
        if setting != "sdpa":
            raise UnsupportedModel(
                f"Attention backend {setting!r} needs diffusers' attention dispatcher, which this diffusers lacks: "
                "upgrade diffusers or use sdpa."
            )
        return 0
    from diffusers.models.attention import AttentionModuleMixin
    from diffusers.models.attention_processor import Attention

    dispatched = [
        m for m in denoiser.modules()
        if isinstance(m, Attention | AttentionModuleMixin)
        and hasattr(getattr(m, "processor", None), "_attention_backend")
    ]
    if not dispatched:
        if setting != "sdpa":
            raise UnsupportedModel(
                f"Attention backend {setting!r} needs a denoiser whose attention goes through diffusers' attention "
                f"dispatcher; {type(denoiser).__name__}'s does not: use sdpa for this model."
            )
        return 0
    try:
        denoiser.set_attention_backend(ATTENTION_BACKEND[setting])
    except (RuntimeError, ImportError) as exc:
        raise DeviceUnavailable(
            f"Attention backend {setting!r} cannot be used here: {exc} It also needs CUDA. Or use sdpa."
        ) from exc
    return len(dispatched)


def effective_offload(choice: DeviceChoice) -> str:
    """The offload mode, with the older CLIPCAST_CPU_OFFLOAD flag (model offload) when no mode is set."""
    mode = choice.performance.offload
    return "model" if mode == "none" and choice.cpu_offload else mode


def _switch(value: str, auto: bool) -> bool:
    return auto if value == "auto" else value == "on"


def prepare_pipeline(pipe: Any, info: ModelInfo, choice: DeviceChoice) -> tuple[list[str], dict[str, Any]]:
    """Apply every performance setting and place the pipeline; returns (savers, the settings in effect)."""
    import torch

    perf = choice.performance
    name, denoiser = denoiser_of(pipe)
    notes: list[str] = []
    record: dict[str, Any] = {"requested": perf.as_dict(), "denoiser": name}

    vae = getattr(pipe, "vae", None)
    vae_fp32 = _switch(perf.vae_fp32, info.pipeline_class in VAE_FP32_FAMILIES) and choice.dtype != torch.float32
    if vae_fp32 and vae is not None:
        if info.pipeline_class not in VAE_UPCASTING_PIPELINES:
            raise UnsupportedModel(
                f"vae_fp32=on: {info.pipeline_class} decodes latents in the denoiser's dtype, so an fp32 VAE beside a "
                f"{choice.dtype_name} denoiser cannot decode them: set vae_fp32 to auto or off for this model."
            )
        vae.to(torch.float32)
    record["vae_dtype"] = str(vae.dtype).removeprefix("torch.") if vae is not None else None

    if perf.layerwise_casting != "off":
        storage = torch.float8_e4m3fn if perf.layerwise_casting == "fp8_e4m3" else torch.float8_e5m2
        denoiser.enable_layerwise_casting(storage_dtype=storage, compute_dtype=choice.dtype)
    record["layerwise_casting"] = perf.layerwise_casting
    record["quantization"] = perf.quantization  # applied by from_pretrained (`load_kwargs`), or the load failed

    if perf.attention != "sdpa" and choice.kind != "cuda":
        raise DeviceUnavailable(
            f"Attention backend {perf.attention!r} runs on CUDA only (device {choice.device}): use sdpa."
        )
    record["attention"] = perf.attention
    record["attention_modules"] = set_attention(denoiser, perf.attention)

    offload = effective_offload(choice)
    if offload != "none" and choice.kind == "cpu":
        notes.append(f"offload {offload} skipped: it only saves memory with an accelerator (device cpu)")
        offload = "none"
    tiling = _switch(perf.vae_tiling, choice.kind == "cuda")
    slicing = _switch(perf.vae_slicing, choice.kind == "cuda")
    savers = place_pipeline(pipe, choice, offload=offload, vae_tiling=tiling, vae_slicing=slicing)
    record["offload"] = offload
    record["vae_tiling"] = "vae_tiling" in savers
    record["vae_slicing"] = "vae_slicing" in savers

    record["compile"] = compile_denoiser(denoiser, perf.compile)
    record["notes"] = notes
    log.info("engine.performance model=%s %s", info.key,
             " ".join(f"{k}={v}" for k, v in record.items() if k not in ("requested", "notes")))
    return savers, record


def compile_denoiser(denoiser: Any, mode: str) -> str:
    """torch.compile the denoiser in place (it compiles on the first call: the worker's warm-up render).
    Returns the compile in effect: `regional` becomes `full` for a denoiser without repeated blocks."""
    if mode == "off":
        return "off"
    if mode == "regional":
        try:
            denoiser.compile_repeated_blocks()
            return "regional"
        except ValueError as exc:  # the class declares no `_repeated_blocks`, or none is found in it
            log.info("engine.compile_fallback denoiser=%s reason=%s", type(denoiser).__name__, exc)
    denoiser.compile()
    return "full"


def compiled_blocks(denoiser: Any) -> int:
    """How many of the denoiser's modules (itself included) are wrapped by torch.compile."""
    return sum(1 for m in denoiser.modules() if getattr(m, "_compiled_call_impl", None) is not None)
