"""Device and dtype choice, and the CUDA memory savers (exercised with a stand-in pipeline: no GPU here)."""

from __future__ import annotations

import pytest
import torch

from generation.engine import DeviceUnavailable, choose_device
from generation.engine.device import place_pipeline


class FakeVae:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def enable_slicing(self) -> None:
        self.calls.append("slicing")

    def enable_tiling(self) -> None:
        self.calls.append("tiling")


class FakePipe:
    def __init__(self) -> None:
        self.vae = FakeVae()
        self.moved_to: str | None = None
        self.offload_gpu: int | None = None

    def to(self, device: str) -> FakePipe:
        self.moved_to = device
        return self

    def enable_model_cpu_offload(self, gpu_id: int = 0) -> None:
        self.offload_gpu = gpu_id


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU")

    def set_bf16(supported: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)

    set_bf16(True)
    return set_bf16


def test_auto_on_a_cpu_machine_is_cpu_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    choice = choose_device()
    assert (choice.device, choice.dtype, choice.cpu_offload) == ("cpu", torch.float32, False)


def test_auto_prefers_cuda_with_bf16_then_fp16(fake_cuda) -> None:
    assert choose_device().device == "cuda"
    assert choose_device().dtype == torch.bfloat16
    fake_cuda(False)
    assert choose_device().dtype == torch.float16


def test_settings_override_device_and_dtype(fake_cuda) -> None:
    choice = choose_device("cuda:1", "fp32", cpu_offload=True)
    assert (choice.device, choice.dtype, choice.cpu_offload) == ("cuda:1", torch.float32, True)
    assert choose_device("cpu", "bf16").dtype == torch.bfloat16


def test_offload_is_ignored_without_an_accelerator() -> None:
    assert choose_device("cpu", cpu_offload=True).cpu_offload is False


def test_asking_for_cuda_without_it_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailable, match="CUDA is not available"):
        choose_device("cuda")


@pytest.mark.parametrize(("device", "dtype"), [("tpu", "auto"), ("cpu", "int8")])
def test_unknown_device_or_dtype_is_rejected(device: str, dtype: str) -> None:
    with pytest.raises(DeviceUnavailable, match="Unknown"):
        choose_device(device, dtype)


def test_on_cuda_it_enables_vae_slicing_and_tiling(fake_cuda) -> None:
    pipe = FakePipe()
    savers = place_pipeline(pipe, choose_device("cuda"))
    assert savers == ["vae_slicing", "vae_tiling"]
    assert pipe.vae.calls == ["slicing", "tiling"]
    assert pipe.moved_to == "cuda"


def test_with_offload_configured_the_pipeline_stays_on_cpu_until_used(fake_cuda) -> None:
    pipe = FakePipe()
    savers = place_pipeline(pipe, choose_device("cuda:1", cpu_offload=True))
    assert savers[-1] == "model_cpu_offload"
    assert (pipe.offload_gpu, pipe.moved_to) == (1, None)


def test_on_cpu_nothing_is_enabled() -> None:
    pipe = FakePipe()
    assert place_pipeline(pipe, choose_device("cpu")) == []
    assert (pipe.vae.calls, pipe.moved_to) == ([], "cpu")
