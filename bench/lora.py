"""LoRA benchmark: what a brand switch costs on a warm pipeline, and a LoRA render's overhead.

Prints, from one run: the model load, the first use of a LoRA file (PEFT injects adapter layers), a switch between
loaded LoRAs (set_adapters, no reload), and the ratio of a render with a LoRA to the same render without (target
<= 1.3). The bundled model loads in well under a second, so the load ratios printed here understate what a switch
saves against reloading real multi-gigabyte weights.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROUNDS = 5
STEPS = 5  # the overhead is per step: a few steps show it, and the bench stays short on two cores
PROMPT = "a red circle moving left on a black background"


def main() -> None:
    import torch

    from generation import engine
    from generation.engine.lora import apply_loras
    from tests.generation.lora_files import build_lora

    torch.set_num_threads(1)  # the machine's cores are shared: one thread gives steadier ratios
    registry, device = engine.ModelRegistry(), engine.choose_device()
    info = registry.resolve(engine.BUNDLED_KEY)
    with tempfile.TemporaryDirectory() as tmp:
        files = [build_lora(info.path, Path(tmp) / name, seed=i) for i, name in enumerate(("acme", "globex"))]
        brands = [engine.LoraWeights(f, hashlib.sha256(f.read_bytes()).hexdigest(), 1.0, f.parent.name)
                  for f in files]

        loads = []
        for _ in range(ROUNDS):
            cache = engine.PipelineCache()
            started = time.perf_counter()
            entry, _ = cache.get(info, device)
            loads.append(time.perf_counter() - started)
        pipe = entry.pipe

        first_use = []
        for brand in brands:
            started = time.perf_counter()
            apply_loras(pipe, [brand])
            first_use.append(time.perf_counter() - started)

        switches = []
        for i in range(ROUNDS * 4):
            started = time.perf_counter()
            apply_loras(pipe, [brands[i % 2]] if i % 3 else [])
            switches.append(time.perf_counter() - started)

        def render_s(*loras: engine.LoraWeights) -> float:
            request = engine.RenderRequest(PROMPT, seed=1, num_frames=8, steps=STEPS, model=engine.BUNDLED_KEY,
                                           loras=loras)
            started = time.perf_counter()
            engine.render(request, registry=registry, device=device, cache=cache)
            return time.perf_counter() - started

        render_s(), render_s(brands[0])  # warm both paths
        plain, branded = [], []
        for _ in range(ROUNDS):  # interleaved: this machine's speed drifts over a minute
            plain.append(render_s())
            branded.append(render_s(brands[0]))

    load, first, switch = statistics.median(loads), statistics.median(first_use), statistics.median(switches)
    plain_s, branded_s = statistics.median(plain), statistics.median(branded)
    print(f"model {info.model_id} on {device.describe()}")
    print(f"model load {load:.3f} s; first use of a LoRA file {first:.3f} s; switch between loaded LoRAs "
          f"{switch * 1000:.1f} ms")
    print(f"switch / model load = {switch / load:.3f}; first use / model load = {first / load:.3f}")
    print(f"render {plain_s:.2f} s without, {branded_s:.2f} s with a LoRA: ratio {branded_s / plain_s:.2f} "
          "(target <= 1.3)")


if __name__ == "__main__":
    main()
