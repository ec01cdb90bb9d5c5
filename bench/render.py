"""Render benchmark: bare denoising vs end-to-end task, cold vs warm worker, batch vs sequential.

Prints ratios measured in one run (targets from issue 4: end-to-end/bare <= 1.2, warm render pays no load,
batch of 4 >= 1.5x the clips/s of 4 sequential calls, all on this machine's cores).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django

PROMPTS = [
    "a red circle moving left on a black background",
    "a blue square moving up on a yellow background",
    "a green triangle growing on a white background",
    "a magenta circle shrinking on a cyan background",
]
REPEATS = 3


def main() -> None:
    _django.setup()
    from generation import engine, rendering, services
    from generation.models import Clip, ClipStatus
    from tests.factories import PromptTemplateFactory

    registry, device = rendering.registry(), rendering.device_choice()
    info = registry.resolve(None)
    template = PromptTemplateFactory(body="{p}", variables={"p": PROMPTS},
                                     campaign__workspace__slug=f"bench-{uuid.uuid4().hex[:10]}")
    template.campaign.output_width = template.campaign.output_height = 512
    template.campaign.save()
    params = template.campaign.render_defaults()
    print(f"model {info.model_id} ({info.pipeline_class}) on {device.describe()}; settings {params}")

    def request_for(prompt: str, seed: int):
        return engine.RenderRequest.from_params(prompt, seed, params)

    # Cold vs warm, in this process: a fresh cache pays the load once, then never again.
    cache = engine.PipelineCache()
    request = request_for(PROMPTS[0], 1)
    cold = engine.render(request, registry=registry, device=device, cache=cache)
    warm = engine.render(request, registry=registry, device=device, cache=cache)
    print(f"cold render: load {cold.timings['load_s']:.2f} s + total {cold.timings['total_s']:.2f} s; "
          f"warm render: load {warm.timings['load_s']:.2f} s, total {warm.timings['total_s']:.2f} s; "
          f"loads={cache.loads}")

    # Bare denoising loop (warm pipeline, in-process).
    bare = [engine.render(request_for(p, i), registry=registry, device=device, cache=cache)
            for i, p in enumerate(PROMPTS[:REPEATS])]
    bare_s = statistics.median(r.timings["denoise_s"] + (r.timings["decode_s"] or 0) for r in bare)

    # Batch of 4 in one call vs 4 sequential calls.
    requests = [request_for(p, i) for i, p in enumerate(PROMPTS)]
    started = time.perf_counter()
    for r in requests:
        engine.render(r, registry=registry, device=device, cache=cache)
    sequential_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.render_batch(requests, registry=registry, device=device, cache=cache)
    batch_s = time.perf_counter() - started
    del cache

    # End to end through a real worker: enqueue -> stored, verified MP4.
    _django.purge_broker()
    worker = _django.start_worker("gpu", CLIPCAST_WARM_MODEL="1")
    try:
        end_to_end = []
        first = True
        for i, prompt in enumerate(PROMPTS[:REPEATS] + PROMPTS[:1]):
            started = time.perf_counter()
            clip = services.create_clips(template, [{"p": prompt}], seed_policy=services.SeedPolicy.FIXED,
                                         seed=1000 + i).clips[0]
            while clip.status not in (ClipStatus.SUCCEEDED, ClipStatus.FAILED):
                time.sleep(0.02)
                clip.refresh_from_db()
            if clip.status != ClipStatus.SUCCEEDED:
                raise SystemExit(f"render failed: {clip.error}")
            elapsed = time.perf_counter() - started
            if first:  # the worker may still be warming up for the very first clip: report, don't count
                print(f"first task after worker start: {elapsed:.2f} s (load in task: {clip.timings['load_s']:.2f} s)")
                first = False
                continue
            end_to_end.append((elapsed, clip.timings))
        e2e_s = statistics.median(t for t, _ in end_to_end)
        loads = [timings["load_s"] for _, timings in end_to_end]
        stages = end_to_end[len(end_to_end) // 2][1]
    finally:
        _django.stop(worker)
        Clip.objects.filter(campaign=template.campaign).delete()

    print()
    print(f"{'measure':<44}{'value':>12}")
    print(f"{'bare denoise+decode (median, warm)':<44}{bare_s:>11.2f}s")
    print(f"{'end-to-end task: enqueue -> stored MP4':<44}{e2e_s:>11.2f}s")
    print(f"{'  stages (one task)':<44} " + ", ".join(
        f"{k.removesuffix('_s')} {v:.2f}" for k, v in stages.items() if isinstance(v, float)))
    print(f"{'ratio end-to-end / bare (target <= 1.2)':<44}{e2e_s / bare_s:>12.2f}")
    print(f"{'warm worker load time per task (target 0)':<44}{max(loads):>11.2f}s")
    print(f"{'cold load (once per worker process)':<44}{cold.timings['load_s']:>11.2f}s")
    print(f"{'4 sequential calls':<44}{len(PROMPTS) / sequential_s:>8.2f} clips/s")
    print(f"{'1 batched call of 4':<44}{len(PROMPTS) / batch_s:>8.2f} clips/s")
    print(f"{'ratio batch / sequential (target >= 1.5)':<44}{sequential_s / batch_s:>12.2f}")


if __name__ == "__main__":
    main()
