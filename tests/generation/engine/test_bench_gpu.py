"""bench/gpu.py: explains itself without CUDA (so `make bench` goes on), and measures one setting per process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench import gpu


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the bench would measure")
def test_without_cuda_it_says_so_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert gpu.main([]) == 0
    assert "no CUDA on this machine" in capsys.readouterr().out


def test_one_setting_is_measured_and_reports_what_was_in_effect(wan_dir: Path) -> None:
    args = gpu.parse_args([str(wan_dir), "--device", "cpu", "--frames", "9", "--size", "16x16", "--steps", "1",
                           "--rounds", "1", "--variant", "layerwise fp8_e4m3"])
    row = gpu.measure(args)
    assert row["s_per_clip"] > 0 and row["peak_gib"] is None  # no CUDA allocator on a CPU dry run
    assert row["performance"]["layerwise_casting"] == "fp8_e4m3"
    assert row["shape"] == [9, 16, 16, 3]


def test_a_setting_the_machine_cannot_run_is_skipped_with_the_reason(wan_dir: Path) -> None:
    args = gpu.parse_args([str(wan_dir), "--device", "cpu", "--variant", "attention flash"])
    assert "runs on CUDA only" in gpu.measure(args)["skipped"]


def test_every_setting_of_the_engine_has_a_bench_row() -> None:
    from generation.engine.performance import CHOICES, PerformanceSettings

    benched = {(name, value) for settings in gpu.VARIANTS.values() for name, value in settings.items()}
    defaults = PerformanceSettings().as_dict()
    every = {(name, value) for name, values in CHOICES.items() for value in values
             if value != defaults[name] and value != "auto"}
    on_with_cuda_by_default = {("vae_tiling", "on"), ("vae_slicing", "on")}  # the baseline's `auto` on a GPU
    assert every - benched - on_with_cuda_by_default == set()
