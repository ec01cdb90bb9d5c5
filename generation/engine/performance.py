"""GPU performance settings: attention backend, compile, offload, fp8 layerwise casting, quantization, VAE savers.

Each setting has a default that is right for most GPUs (and keeps CPU renders exactly as they were). They are
applied once, when the pipeline cache loads a pipeline, so a compiled denoiser stays warm for the worker
process's life; the cache key holds the settings, so other settings mean another load. `prepare_pipeline` returns
the settings in effect, which every render records in its provenance.

Order matters: quantization happens inside `from_pretrained` (`load_kwargs`); then the VAE's dtype, fp8
storage and the attention backend change modules in place; then placement (VAE savers, offload hooks or `.to`);
compilation last, so it traces the modules as they will run.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from generation.engine.errors import DeviceUnavailable, InvalidSetting, UnsupportedModel

if TYPE_CHECKING:
    from generation.engine.device import DeviceChoice
    from generation.engine.registry import ModelInfo

log = logging.getLogger(__name__)

# sdpa: torch's scaled_dot_product_attention (diffusers' "native" backend, its default); flash: flash-attn 2;
# sage: SageAttention (8-bit QK). flash and sage need CUDA and their package.
ATTENTION = ("sdpa", "flash", "sage")
ATTENTION_BACKEND = {"sdpa": "native", "flash": "flash", "sage": "sage"}
ATTENTION_PACKAGE = {"flash": "flash-attn", "sage": "sageattention"}
# regional: torch.compile of the denoiser's repeated blocks only (diffusers' compile_repeated_blocks): most of the
# speed of a full compile for a fraction of its compile time. full: the whole denoiser.
COMPILE = ("off", "regional", "full")
# model: whole components move to the GPU when used; sequential: each layer (least memory, slowest);
# group: groups of layers, prefetched on a CUDA stream while the previous group computes.
OFFLOAD = ("none", "model", "sequential", "group")
# Denoiser weights stored in fp8 and upcast layer by layer to the compute dtype (about half the weight memory).
LAYERWISE_CASTING = ("off", "fp8_e4m3", "fp8_e5m2")
# Denoiser weights quantized at load: int8/fp8 weight-only with torchao, nf4 with bitsandbytes.
QUANTIZATION = ("none", "int8", "fp8", "nf4")
QUANTIZATION_PACKAGE = {"int8": "torchao", "fp8": "torchao", "nf4": "bitsandbytes"}
# auto: VAE tiling and slicing on CUDA only (same pixels, far lower decode peak); the VAE in fp32 only for the
# families whose VAE needs it at half precision (Wan's model card loads its VAE in fp32).
SWITCH = ("auto", "on", "off")
VAE_FP32_FAMILIES = frozenset({"WanPipeline"})
# Pipelines that cast latents to the VAE's dtype before decoding: only these can decode with an fp32 VAE beside a
# bf16/fp16 denoiser.
VAE_UPCASTING_PIPELINES = frozenset({"WanPipeline", "LTXPipeline", "AnimateDiffSDXLPipeline"})

CHOICES: dict[str, tuple[str, ...]] = {
    "attention": ATTENTION,
    "compile": COMPILE,
    "offload": OFFLOAD,
    "layerwise_casting": LAYERWISE_CASTING,
    "quantization": QUANTIZATION,
    "vae_tiling": SWITCH,
    "vae_slicing": SWITCH,
    "vae_fp32": SWITCH,
}


@dataclass(frozen=True)
class PerformanceSettings:
    """The performance settings of one worker; hashable, so the pipeline cache can key on them."""

    attention: str = "sdpa"
    compile: str = "off"
    offload: str = "none"
    layerwise_casting: str = "off"
    quantization: str = "none"
    vae_tiling: str = "auto"
    vae_slicing: str = "auto"
    vae_fp32: str = "auto"

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InvalidSetting(f"Performance setting {name}={value!r} is not one of {', '.join(allowed)}.")
        if self.layerwise_casting != "off" and self.quantization != "none":
            raise InvalidSetting(
                f"layerwise_casting={self.layerwise_casting!r} and quantization={self.quantization!r} both change "
                "how the denoiser's weights are stored: choose one."
            )

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


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


def enable_offload(pipe: Any, mode: str, device: str) -> list[str]:
    """Install the offload hooks for `mode`, onloading to `device`; returns the savers enabled. Streams need CUDA."""
    import torch

    target = torch.device(device)
    on_cuda = target.type == "cuda"
    if mode == "none":
        return []
    if mode in ("model", "sequential"):
        method = getattr(pipe, f"enable_{mode}_cpu_offload")
        if on_cuda:
            method(gpu_id=target.index or 0)
        else:
            method(device=device)
        return [f"{mode}_cpu_offload"]
    pipe.enable_group_offload(
        onload_device=target, offload_device=torch.device("cpu"), offload_type="leaf_level",
        use_stream=on_cuda, non_blocking=on_cuda,
    )
    return ["group_offload_streams" if on_cuda else "group_offload"]


def effective_offload(choice: DeviceChoice) -> str:
    """The offload mode, with the older CLIPCAST_CPU_OFFLOAD flag (model offload) when no mode is set."""
    mode = choice.performance.offload
    return "model" if mode == "none" and choice.cpu_offload else mode


def _switch(value: str, auto: bool) -> bool:
    return auto if value == "auto" else value == "on"


def prepare_pipeline(pipe: Any, info: ModelInfo, choice: DeviceChoice) -> tuple[list[str], dict[str, Any]]:
    """Apply every performance setting and place the pipeline; returns (savers, the settings in effect)."""
    import torch

    from generation.engine.device import place_pipeline

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
