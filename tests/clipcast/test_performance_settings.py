"""The GPU performance settings, read the way a render worker reads them at start-up, reach the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generation.engine import performance

pytestmark = pytest.mark.slow  # each test starts Python with Django and torch (seconds apiece on a shared machine)

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {
    "CLIPCAST_ATTENTION": ("attention", performance.ATTENTION),
    "CLIPCAST_COMPILE": ("compile", performance.COMPILE),
    "CLIPCAST_OFFLOAD": ("offload", performance.OFFLOAD),
    "CLIPCAST_LAYERWISE_CASTING": ("layerwise_casting", performance.LAYERWISE_CASTING),
    "CLIPCAST_QUANTIZATION": ("quantization", performance.QUANTIZATION),
    "CLIPCAST_VAE_TILING": ("vae_tiling", performance.SWITCH),
    "CLIPCAST_VAE_SLICING": ("vae_slicing", performance.SWITCH),
    "CLIPCAST_VAE_FP32": ("vae_fp32", performance.SWITCH),
}
SHOW = ("import django, json; django.setup(); from generation import rendering; "
        "print(json.dumps(rendering.device_choice().performance.as_dict()))")


def start_settings(**env: str) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if k not in VARIABLES and k != "CLIPCAST_CPU_OFFLOAD"}
    child.update(DJANGO_SETTINGS_MODULE="clipcast.settings", PYTHONPATH=f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
                 CLIPCAST_DEVICE="cpu", **env)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=child, capture_output=True, text=True,
                          timeout=120)


def test_the_defaults_are_the_engines_defaults():
    result = start_settings()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == performance.PerformanceSettings().as_dict()


def test_every_variable_reaches_the_engine():
    chosen = {"CLIPCAST_ATTENTION": "flash", "CLIPCAST_COMPILE": "Regional", "CLIPCAST_OFFLOAD": "group",
              "CLIPCAST_LAYERWISE_CASTING": "fp8_e4m3", "CLIPCAST_VAE_TILING": "off", "CLIPCAST_VAE_SLICING": "on",
              "CLIPCAST_VAE_FP32": "off"}
    result = start_settings(**chosen)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert {name: shown[VARIABLES[name][0]] for name in chosen} == {k: v.lower() for k, v in chosen.items()}
    assert shown["quantization"] == "none"


def test_the_older_cpu_offload_flag_means_model_offload():
    result = start_settings(CLIPCAST_CPU_OFFLOAD="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["offload"] == "model"


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_a_bad_value_fails_at_start_naming_the_variable_and_the_allowed_values(name):
    result = start_settings(**{name: "turbo"})
    assert result.returncode != 0
    allowed = ", ".join(VARIABLES[name][1])
    assert f"{name}='turbo' is not allowed: use one of {allowed}." in result.stderr


def test_fp8_casting_with_quantization_fails_at_start():
    result = start_settings(CLIPCAST_LAYERWISE_CASTING="fp8_e5m2", CLIPCAST_QUANTIZATION="int8")
    assert result.returncode != 0
    assert "CLIPCAST_LAYERWISE_CASTING and CLIPCAST_QUANTIZATION" in result.stderr
