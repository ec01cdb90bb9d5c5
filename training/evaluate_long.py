"""Ten-second clips of the bundled model, judged window by window (`training/long_clips.py`).

    python -m training.evaluate_long [--frames 80] [--every 3] [--out training/results/long_clips_eval.jsonl]

Renders held-out prompts through the engine (the same windowed path as `manage.py render --frames 80`), one JSON
line per clip, appended as it goes: a run that is stopped continues where it left off (prompts already in the file
are skipped), so it can run in the background with nohup. `--every 3` takes every third of the 108 held-out
prompts (36: every pair and motion, shapes in turn). The summary is printed and written as the file's last line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from generation.engine import RenderRequest, render_batch
from training.data import held_out_prompts
from training.long_clips import judge


def run(frames: int, every: int, out: Path, seed: int, batch: int, keep: Path | None = None,
        model: str | None = None) -> dict:
    # One thread: on a shared 2-core machine, torch's default two threads spin against other jobs (an 80-frame
    # clip took minutes instead of 30 s).
    torch.set_num_threads(int(os.environ.get("CLIPCAST_THREADS", "1")))
    specs = held_out_prompts()[::every]
    done: dict[str, dict] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            if "prompt" in row:
                done[row["prompt"]] = row
    out.parent.mkdir(parents=True, exist_ok=True)
    todo = [s for s in specs if s.canonical not in done]
    for i in range(0, len(todo), batch):
        group = todo[i:i + batch]
        started = time.perf_counter()
        results = render_batch([RenderRequest(prompt=s.canonical, seed=seed, num_frames=frames, model=model)
                                for s in group])
        seconds = (time.perf_counter() - started) / len(group)
        with out.open("a") as fh:
            for spec, result in zip(group, results, strict=True):
                plan = result.windowing or {}
                boundaries = plan.get("boundaries", [])
                verdict = judge(result.frames, spec.colour, spec.shape, spec.motion, spec.background, boundaries)
                row = {"prompt": spec.canonical, "seed": seed, "frames": frames, "seconds_per_clip": seconds,
                       "windowing": plan, **verdict.as_dict()}
                done[row["prompt"]] = row
                if keep is not None:  # the frames, to judge again without rendering (not committed: 1 MB a clip)
                    keep.mkdir(parents=True, exist_ok=True)
                    np.save(keep / f"{row['prompt'].replace(' ', '_')}.npy", result.frames)
                fh.write(json.dumps(row) + "\n")
                print(f"{'ok ' if verdict.right else 'BAD'} seam {verdict.seam or 0:.2f} {row['prompt']}", flush=True)
        summarise([done[s.canonical] for s in specs if s.canonical in done], len(specs), frames, seed, out)
    return summarise([done[s.canonical] for s in specs if s.canonical in done], len(specs), frames, seed, out)


def summarise(rows: list[dict], planned: int, frames: int, seed: int, out: Path) -> dict:
    """The shares of clips right in every window, seamless, and both; appended to `out` as its last line."""
    n = max(1, len(rows))
    summary = {
        "summary": True, "clips": len(rows), "planned": planned, "frames": frames, "seed": seed,
        "every_window_right": sum(r["every_window_right"] for r in rows) / n,
        "seamless": sum(r["seamless"] for r in rows) / n,
        "right": sum(r["right"] for r in rows) / n,
        "max_seam": max([r["seam"] or 0.0 for r in rows] or [0.0]),
        "per_slot_all_windows": {
            slot: sum(all(w["slots"][slot] for w in r["windows"]) for r in rows) / n
            for slot in ("colour", "shape", "background", "axis")
        },
        "seconds_per_clip": sum(r["seconds_per_clip"] for r in rows) / n,
    }
    with out.open("a") as fh:
        fh.write(json.dumps(summary) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--every", type=int, default=3, help="take every Nth of the 108 held-out prompts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=2, help="clips per pipeline call")
    parser.add_argument("--out", type=Path, default=Path("training/results/long_clips_eval.jsonl"))
    parser.add_argument("--model", help="model key or folder (default: the bundled model); e.g. a copy of the bundled "
                        "folder whose clipcast.json says \"windowing\": {\"mode\": \"overlap\"}")
    parser.add_argument("--keep-frames", type=Path, help="also save each clip's frames (.npy) in this folder")
    args = parser.parse_args(argv)
    summary = run(args.frames, args.every, args.out, args.seed, args.batch, args.keep_frames, args.model)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
