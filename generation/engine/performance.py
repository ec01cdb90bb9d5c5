"""GPU performance settings: attention backend, compile, offload, fp8 layerwise casting, quantization, VAE savers.

Each setting has a default that is right for most GPUs (and keeps CPU renders exactly as they were). This module
holds the settings and their allowed values only (the glue's settings.py reads them without touching a pipeline);
tuning.py applies them when the pipeline cache loads a pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.engine.errors import InvalidSetting

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
