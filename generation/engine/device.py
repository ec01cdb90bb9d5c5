"""Pick the device and dtype, and switch on the memory savers a pipeline supports there."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import torch

from generation.engine.errors import DeviceUnavailable
from generation.engine.performance import PerformanceSettings

log = logging.getLogger(__name__)

DTYPES = {
    "fp32": torch.float32, "float32": torch.float32,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
}


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "cuda:1", "mps" or "cpu"
    dtype: torch.dtype
    cpu_offload: bool = False
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)

    @property
    def kind(self) -> str:
        return self.device.split(":")[0]

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    def describe(self) -> str:
        if self.kind == "cuda":
            index = torch.device(self.device).index or 0
            return f"{self.device} ({torch.cuda.get_device_name(index)}), {self.dtype_name}"
        return f"{self.device}, {self.dtype_name}"


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def choose_device(
    device: str = "auto", dtype: str = "auto", cpu_offload: bool = False,
    performance: PerformanceSettings | None = None,
) -> DeviceChoice:
    """`auto` picks cuda, then mps, then cpu; dtype `auto` is bf16 on CUDA when supported (else fp16), fp16 on
    MPS and fp32 on CPU (half precision on CPU is slow and some kernels lack it). Settings override both.
    `performance` (attention, compile, offload...) is applied when the pipeline is loaded (tuning.py)."""
    device = (device or "auto").strip().lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    kind = device.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable(f"Device {device!r} was asked for but CUDA is not available: set the device to auto.")
    if kind == "mps" and not _mps_available():
        raise DeviceUnavailable("Device 'mps' was asked for but Metal is not available: set the device to auto.")
    if kind not in {"cuda", "mps", "cpu"}:
        raise DeviceUnavailable(f"Unknown device {device!r}: use auto, cuda, cuda:N, mps or cpu.")

    dtype = (dtype or "auto").strip().lower()
    if dtype == "auto":
        if kind == "cuda":
            chosen = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            chosen = torch.float16 if kind == "mps" else torch.float32
    elif dtype in DTYPES:
        chosen = DTYPES[dtype]
    else:
        raise DeviceUnavailable(f"Unknown dtype {dtype!r}: use auto, fp32, fp16 or bf16.")
    # Offloading moves idle components to the CPU between calls; it only means something with an accelerator.
    return DeviceChoice(
        device=device, dtype=chosen, cpu_offload=bool(cpu_offload) and kind == "cuda",
        performance=performance or PerformanceSettings(),
    )


def with_performance(choice: DeviceChoice, **settings: str) -> DeviceChoice:
    """The same device and dtype with some performance settings changed (tests and the GPU benchmark)."""
    return replace(choice, performance=replace(choice.performance, **settings))


def place_pipeline(
    pipe: object, choice: DeviceChoice, *, offload: str | None = None, vae_tiling: bool | None = None,
    vae_slicing: bool | None = None,
) -> list[str]:
    """Move the pipeline to its device and enable what saves memory there; returns the savers enabled.
    Left unset, VAE tiling and slicing are on with CUDA only, and offload is the choice's `cpu_offload`."""
    savers: list[str] = []
    on_cuda = choice.kind == "cuda"
    vae = getattr(pipe, "vae", None)
    # Slicing decodes one clip of a batch at a time, tiling decodes large frames in tiles: same pixels,
    # far lower peak memory. Not every VAE implements them (e.g. some video VAEs lack slicing).
    wanted = {"vae_slicing": on_cuda if vae_slicing is None else vae_slicing,
              "vae_tiling": on_cuda if vae_tiling is None else vae_tiling}
    for method, label in (("enable_slicing", "vae_slicing"), ("enable_tiling", "vae_tiling")):
        if wanted[label] and vae is not None and callable(getattr(vae, method, None)):
            try:
                getattr(vae, method)()
                savers.append(label)
            except (NotImplementedError, ValueError) as exc:
                log.info("engine.saver_skipped saver=%s reason=%s", label, exc)
    if offload is None:
        offload = "model" if choice.cpu_offload else "none"
    if offload != "none":  # the hooks move each part to the device when it runs: no `.to` for the whole pipeline
        return savers + enable_offload(pipe, offload, choice.device)
    pipe.to(choice.device)
    return savers


def enable_offload(pipe: object, mode: str, device: str) -> list[str]:
    """Install the offload hooks for `mode`, onloading to `device`; returns the savers enabled. Streams need CUDA."""
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
    pipe.enable_group_offload(  # type: ignore[attr-defined]
        onload_device=target, offload_device=torch.device("cpu"), offload_type="leaf_level",
        use_stream=on_cuda, non_blocking=on_cuda,
    )
    return ["group_offload_streams" if on_cuda else "group_offload"]


def diffusers_dtype_kwarg(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """diffusers renamed `torch_dtype` to `dtype` (the old name warns); older releases know only `torch_dtype`."""
    from diffusers.utils import deprecation_utils

    name = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
    return {name: dtype}
