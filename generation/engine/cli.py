"""The `render` command's core, shared by `python manage.py render` and `python -m generation.engine.cli`.

The Django command only adds settings: `add_arguments(parser)` in its `add_arguments`, then
`code = run(options, registry=..., device=...)` in `handle`, raising `CommandError(returncode=code)` when
non-zero. Exit codes: 0 done, 2 bad input, model or a failure inside the pipeline (the message says what to fix),
1 export failed,
130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from generation.engine.device import DeviceChoice, choose_device
from generation.engine.errors import EngineError, ExportError
from generation.engine.export import write_gif, write_mp4, write_poster
from generation.engine.lora import LoraWeights, check_lora
from generation.engine.registry import ModelRegistry
from generation.engine.render import render
from generation.engine.request import RenderRequest


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 720x720; got {text!r}") from None
    return width, height


def _lora(text: str) -> tuple[str, float]:
    path, colon, weight = text.rpartition(":")
    if not colon:
        return text, 1.0
    try:
        return path, float(weight)
    except ValueError:
        return text, 1.0  # the colon belongs to the path: no weight given


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", help='e.g. "a red circle moving left on a black background"')
    parser.add_argument("--output", "-o", help="MP4 file to write (default: the prompt's words joined by '-', .mp4)")
    parser.add_argument("--gif", help="also write a looping GIF here")
    parser.add_argument("--poster", help="also write a PNG of the middle frame here")
    parser.add_argument("--model", help="model key or folder (default: the configured default model)")
    parser.add_argument("--frames", type=int, help="number of frames (default: the model's)")
    parser.add_argument("--fps", type=int, help="frames per second (default: the model's)")
    parser.add_argument("--seed", type=int, default=0, help="same seed + settings + model gives the same clip")
    parser.add_argument("--steps", type=int, help="denoising steps, 1-150 (default: the model's)")
    parser.add_argument("--guidance", type=float, help="guidance scale, 0-50 (default: the model's)")
    parser.add_argument("--negative", default="", help="negative prompt")
    parser.add_argument("--lora", action="append", type=_lora, default=[], metavar="FILE[:WEIGHT]",
                        help="apply a LoRA (.safetensors) at WEIGHT (default 1); repeat for several")
    parser.add_argument("--size", type=_size, help="render size WxH, multiples of the model's factor")
    parser.add_argument("--output-size", type=_size, help="video size WxH (upscaled), e.g. 720x720")
    parser.add_argument("--resize", choices=("lanczos", "nearest"), default="lanczos", help="upscaling filter")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (overrides settings)")
    parser.add_argument("--dtype", help="auto, fp32, fp16 or bf16 (overrides settings)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def default_output(prompt: str) -> str:
    """`a blue square moving left` -> `a-blue-square-moving-left.mp4` (letters and digits only, at most 80)."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    return ("-".join(words)[:80].strip("-") or "clip") + ".mp4"


def request_from(options: Mapping[str, Any]) -> RenderRequest:
    size = options.get("size") or (None, None)
    out = options.get("output_size") or (None, None)
    return RenderRequest(
        prompt=options["prompt"], seed=options.get("seed") or 0, negative_prompt=options.get("negative") or "",
        num_frames=options.get("frames"), fps=options.get("fps"), width=size[0], height=size[1],
        output_width=out[0], output_height=out[1], steps=options.get("steps"),
        guidance_scale=options.get("guidance"), model=options.get("model"),
        loras=tuple(LoraWeights.from_file(path, weight) for path, weight in options.get("lora") or ()),
    )


def run(
    options: Mapping[str, Any] | argparse.Namespace,
    *,
    registry: ModelRegistry | None = None,
    device: DeviceChoice | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Render one clip and write its files; returns the exit code. Errors are printed as one clear line."""
    opts = vars(options) if isinstance(options, argparse.Namespace) else dict(options)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    bar = None
    try:
        if opts.get("device") or opts.get("dtype") or device is None:
            device = choose_device(
                opts.get("device") or (device.device if device else "auto"),
                opts.get("dtype") or (device.dtype_name if device else "auto"),
                device.cpu_offload if device else False,
                device.performance if device else None,
            )
        opts["output"] = opts.get("output") or default_output(opts["prompt"])
        request = request_from(opts)
        info = (registry or ModelRegistry()).resolve(request.model)
        for lora in request.loras:  # a LoRA for another model fails here with its keys named, not mid-render
            check_lora(lora.source, info)
        # Before rendering: a closed-vocabulary model renders words it never saw as something else, silently.
        warning = info.vocabulary_warning(request.prompt)
        if warning:
            print(f"Warning: {warning}", file=err)
        if info.route:  # a family Clipcast loads with its own code: say which path this folder takes
            print(f"Note: {info.route}", file=out)

        def on_progress(done: int, total: int) -> None:
            nonlocal bar
            if opts.get("no_progress"):
                return
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=total, desc="denoising", unit="step", file=err)
            bar.update(done - bar.n)

        result = render(request, on_progress, registry=registry, device=device)
        if bar is not None:
            bar.close()
        r = result.request
        size = (int(r.output_width), int(r.output_height))
        info = write_mp4(result.frames, opts["output"], int(r.fps), size=size, resize=opts.get("resize") or "lanczos")
        if opts.get("gif"):
            write_gif(result.frames, opts["gif"], int(r.fps), size=size, resize=opts.get("resize") or "lanczos")
        if opts.get("poster"):
            write_poster(result.frames, opts["poster"], size=size)
    except KeyboardInterrupt:
        print("Interrupted.", file=err)
        return 130
    except ExportError as exc:
        print(f"Error: {exc}", file=err)
        return 1
    except EngineError as exc:  # bad input, unknown or incomplete model, cancelled
        print(f"Error: {exc}", file=err)
        return 2
    except OSError as exc:  # a LoRA file that cannot be read
        print(f"Error: {exc}", file=err)
        return 2
    finally:
        if bar is not None:
            bar.close()
    t = result.timings
    print(
        f"Wrote {opts['output']}: {info.frames} frames, {info.width}x{info.height}, {info.fps:g} fps, "
        f"{info.codec}/{info.pix_fmt}, {info.size_bytes / 1024:.0f} KiB\n"
        f"model {result.model_id} on {result.device} ({result.dtype}), seed {r.seed}, {r.steps} steps, "
        f"guidance {r.guidance_scale:g}\n"
        f"load {t['load_s']:.2f} s, denoise {t['denoise_s']:.2f} s, decode "
        + (f"{t['decode_s']:.2f} s" if t["decode_s"] is not None else "n/a (inside denoise)"),
        file=out,
    )
    shown = ("attention", "compile", "offload", "layerwise_casting", "quantization", "vae_tiling", "vae_slicing",
             "vae_dtype")
    print("performance: " + ", ".join(f"{k} {result.performance[k]}" for k in shown if k in result.performance),
          file=out)
    for lora in r.loras:
        print(f"LoRA {lora.name} (sha256 {lora.adapter_name[:12]}) at weight {lora.weight:g}", file=out)
    for note in result.notes:
        print(f"Note: {note}", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generation.engine.cli", description="Render one clip.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
