"""GPU benchmark: seconds per clip and peak GPU memory of each performance setting, as ratios to plain bf16.

    .venv/bin/python bench/gpu.py [MODEL_FOLDER] [--frames N] [--size WxH] [--steps N] [--rounds N] [--only NAME,...]

MODEL_FOLDER defaults to CLIPCAST_MODEL_PATH, else the bundled model. Each setting runs in its own Python
process (a compiled denoiser, the attention dispatcher's active backend and the CUDA allocator's peak are
process-wide), loads the pipeline, renders one warm-up clip (where torch.compile compiles), then `--rounds` clips;
it reports the median seconds per clip and the peak GPU memory allocated during those renders. A setting whose
package is missing, or that the model cannot use, is reported as skipped with the reason. Without CUDA it says so
and exits 0, so `make bench` goes on. The numbers belong in docs/MODELS.md's table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "a red fox running through fresh snow at sunrise, cinematic"
# name -> the performance settings it changes from the defaults (the baseline: bf16, every default).
VARIANTS: dict[str, dict[str, str]] = {
    "baseline bf16": {},
    "attention flash": {"attention": "flash"},
    "attention sage": {"attention": "sage"},
    "compile regional": {"compile": "regional"},
    "compile full": {"compile": "full"},
    "offload model": {"offload": "model"},
    "offload sequential": {"offload": "sequential"},
    "offload group (streams)": {"offload": "group"},
    "layerwise fp8_e4m3": {"layerwise_casting": "fp8_e4m3"},
    "layerwise fp8_e5m2": {"layerwise_casting": "fp8_e5m2"},
    "quantization int8": {"quantization": "int8"},
    "quantization fp8": {"quantization": "fp8"},
    "quantization nf4": {"quantization": "nf4"},
    "vae tiling off": {"vae_tiling": "off"},
    "vae slicing off": {"vae_slicing": "off"},
    "vae fp32 on": {"vae_fp32": "on"},
    "vae fp32 off": {"vae_fp32": "off"},
}
VARIANT_TIMEOUT_S = 3600


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=os.environ.get("CLIPCAST_MODEL_PATH") or "")
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (default: the model's)")
    parser.add_argument("--size", default=None, help="WIDTHxHEIGHT (default: the model's native size)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--rounds", type=int, default=3, help="timed clips per setting, after one warm-up")
    parser.add_argument("--only", default="", help="comma-separated setting names to run (baseline always runs)")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of the script itself (no memory figures)")
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)  # one setting, in a child process
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict:
    """One setting in this process: load, warm up, time `rounds` renders; a JSON-ready row."""
    import torch

    from generation import engine
    from generation.engine.device import with_performance

    folder = args.model or str(engine.BUNDLED_PATH)
    registry = engine.ModelRegistry({"m": folder}, default="m")
    width, height = (int(v) for v in args.size.lower().split("x")) if args.size else (None, None)
    row: dict = {"variant": args.variant}
    try:
        choice = with_performance(engine.choose_device(args.device, "bf16"), **VARIANTS[args.variant])
        on_cuda = choice.kind == "cuda"
        cache = engine.PipelineCache()

        def clip(seed: int) -> engine.RenderResult:
            request = engine.RenderRequest(prompt=PROMPT, seed=seed, num_frames=args.frames, width=width,
                                           height=height, steps=args.steps, model="m")
            return engine.render(request, registry=registry, device=choice, cache=cache)

        started = time.perf_counter()
        first = clip(0)  # loads, and compiles where compile is on
        row["first_s"] = time.perf_counter() - started
        row["load_s"] = first.timings["load_s"]
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        seconds = []
        for seed in range(1, args.rounds + 1):
            started = time.perf_counter()
            result = clip(seed)
            if on_cuda:
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
        row.update(
            s_per_clip=statistics.median(seconds),
            peak_gib=torch.cuda.max_memory_allocated() / 2**30 if on_cuda else None,
            performance={k: v for k, v in result.performance.items() if k != "requested"},
            shape=list(result.frames.shape), steps=result.request.steps, device=choice.describe(),
        )
    except engine.EngineError as exc:
        row["skipped"] = str(exc)
    return row


def run_variant(args: argparse.Namespace, name: str) -> dict:
    command = [sys.executable, __file__, "--variant", name, "--rounds", str(args.rounds), "--device", args.device]
    for flag in ("frames", "size", "steps"):
        if getattr(args, flag) is not None:
            command += [f"--{flag}", str(getattr(args, flag))]
    if args.model:
        command.append(args.model)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    try:
        child = subprocess.run(command, capture_output=True, text=True, env=env, timeout=VARIANT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"variant": name, "failed": f"took over {VARIANT_TIMEOUT_S} s"}
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        tail = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return {"variant": name, "failed": f"exit {child.returncode}: {tail}"}
    return json.loads(lines[-1])


def report(rows: list[dict]) -> None:
    base = rows[0]
    print(f"\n{'setting':<26}{'s/clip':>9}{'x base':>8}{'peak GiB':>10}{'x base':>8}{'first s':>9}  in effect")
    for row in rows:
        if "s_per_clip" not in row:
            print(f"{row['variant']:<26}  {'skipped' if 'skipped' in row else 'FAILED'}: "
                  f"{row.get('skipped') or row.get('failed')}")
            continue
        perf = row["performance"]
        effect = ", ".join(f"{k}={perf[k]}" for k in ("attention", "compile", "offload", "layerwise_casting",
                                                       "quantization", "vae_tiling", "vae_slicing", "vae_dtype"))
        memory = (f"{row['peak_gib']:>10.2f}{row['peak_gib'] / base['peak_gib']:>8.2f}" if row["peak_gib"] is not None
                  else f"{'-':>10}{'-':>8}")
        print(f"{row['variant']:<26}{row['s_per_clip']:>9.2f}{row['s_per_clip'] / base['s_per_clip']:>8.2f}"
              f"{memory}{row['first_s']:>9.1f}  {effect}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.variant:
        print(json.dumps(measure(args)))
        return 0
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"bench/gpu.py: no CUDA on this machine (torch {torch.__version__}), so there is nothing to measure. "
              "Run it on a GPU worker: .venv/bin/python bench/gpu.py /path/to/model-folder")
        return 0
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(VARIANTS)
    if unknown:
        print(f"Unknown setting(s) {', '.join(sorted(unknown))}: use {', '.join(VARIANTS)}.", file=sys.stderr)
        return 2
    names = [name for name in VARIANTS if not only or name in only or name == "baseline bf16"]
    where = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else args.device
    print(f"model {args.model or 'bundled'}; {where}; torch {torch.__version__}; "
          f"{args.rounds} timed clips per setting after one warm-up")
    rows = []
    for name in names:
        row = run_variant(args, name)
        rows.append(row)
        print(f"  {name}: " + (f"{row['s_per_clip']:.2f} s/clip" if "s_per_clip" in row
                               else row.get("skipped") or row.get("failed")), flush=True)
        if name == "baseline bf16" and "s_per_clip" not in row:
            print("The bf16 baseline did not render, so no ratio can be given.", file=sys.stderr)
            return 1
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
