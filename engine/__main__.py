"""``stylize CONTENT STYLE [STYLE ...] -o OUT.png``: the engine from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from . import EngineError, Progress, StyleOptions, load_image, stylize
from .lossplot import plot_losses
from .optimize import default_precision, plan_scales, resolve_device
from .options import DEFAULT_MAX_SIDE, DEFAULT_STEPS, Strength, schedule_key

DEFAULTS = {f.name: f.default for f in dataclasses.fields(StyleOptions)}
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


EXAMPLES = """\
examples:
  stylize examples/tubingen.jpg examples/starry_night.jpg -o painted.png
  stylize photo.jpg painting.jpg -o strong.png --strength strong --max-side 512
  stylize photo.jpg a.jpg b.jpg -o blend.png --style-blend-weights 0.7,0.3
  stylize photo.jpg painting.jpg -o out.png --preserve-colors --loss-plot losses.png
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows a default once, only where the help does not already say it, lists as lists."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or action.required:
            return text
        if isinstance(default, tuple):
            default = ",".join(str(part) for part in default)
        return f"{text} (default: {default})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylize",
        description="Paint CONTENT in the style of STYLE (Gatys et al. neural style transfer).",
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    add = parser.add_argument
    add("content", type=Path, help="the photo to repaint")
    add("styles", type=Path, nargs="+", metavar="STYLE", help="style image(s); several are blended")
    add("-o", "--output", type=Path, required=True, help="where to write the PNG (required)")
    add(
        "--strength",
        choices=[s.value for s in Strength],
        default=DEFAULTS["strength"].value,
        help="how much of the style: a preset style weight",
    )
    add(
        "--style-weight",
        type=float,
        default=None,
        help="explicit style weight (overrides --strength)",
    )
    add(
        "--content-weight",
        type=float,
        default=DEFAULTS["content_weight"],
        help="how closely the result keeps the photo's shapes",
    )
    add("--tv-weight", type=float, default=DEFAULTS["tv_weight"], help="total-variation weight")
    layers = "comma-separated VGG19 layers (reluN_M names mean the convN_M before them)"
    add("--content-layers", type=_names, default=DEFAULTS["content_layers"], help=layers)
    add("--style-layers", type=_names, default=DEFAULTS["style_layers"], help=layers)
    add("--style-layer-weights", type=_floats, default=None, help="one per style layer")
    add("--style-blend-weights", type=_floats, default=None, help="one per style image")
    add(
        "--max-side",
        type=int,
        default=None,
        help=f"longest side of the result (default: {DEFAULT_MAX_SIDE['cpu']} on CPU, "
        f"{DEFAULT_MAX_SIDE['cuda']} on GPU); time grows with the pixels",
    )
    add(
        "--steps",
        type=int,
        default=None,
        help=f"optimisation steps over all scales (default: {DEFAULT_STEPS['cpu']} on CPU, "
        f"{DEFAULT_STEPS['cpu-bf16']} on a CPU with AMX, {DEFAULT_STEPS['cuda']} on GPU); "
        "the size does not depend on it",
    )
    add(
        "--optimizer",
        choices=["lbfgs", "adam"],
        default=DEFAULTS["optimizer"],
        help="L-BFGS converges in fewer steps; Adam uses less memory",
    )
    add("--lr", type=float, default=None, help="learning rate (default: 1 for L-BFGS, 0.02 Adam)")
    add(
        "--init",
        choices=["content", "noise", "style"],
        default=DEFAULTS["init"],
        help="the picture the optimisation starts from",
    )
    add(
        "--pooling",
        choices=["max", "avg"],
        default=DEFAULTS["pooling"],
        help="VGG19's pooling; avg gives smoother pictures (as in the paper)",
    )
    add(
        "--multiscale",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="coarse-to-fine (default: on when the result is at least twice --min-scale)",
    )
    add("--min-scale", type=int, default=DEFAULTS["min_scale"], help="long side of coarsest scale")
    add("--preserve-colors", action="store_true", help="keep the content photo's colours")
    add(
        "--keep-faces",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS["keep_faces"],
        help="faces found in the photo keep the person's features (more content, less style)",
    )
    add(
        "--style-scale",
        type=float,
        default=DEFAULTS["style_scale"],
        help="style image size relative to the result (bigger = larger brush strokes)",
    )
    add(
        "--seed",
        type=int,
        default=None,
        help="fix the randomness (noise init), for repeatable runs (default: 0)",
    )
    add("--device", default=DEFAULTS["device"], help="auto, cpu, cuda, cuda:N or mps")
    add(
        "--precision",
        choices=["fp32", "bf16"],
        default=DEFAULTS["precision"],
        help="bf16 runs the network under autocast, losses stay fp32 (default: bf16 on a CPU "
        "with AMX, where it is 2.5x faster, else fp32)",
    )
    add("--weights", default=DEFAULTS["weights"], help="bundled, torchvision, or a .pth path")
    add("--save-every", type=int, default=0, metavar="N", help="also save every N-th step")
    add("--loss-plot", type=Path, default=None, metavar="PATH", help="write a PNG of the losses")
    add(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="write this run's full settings as JSON",
    )
    add("-q", "--quiet", action="store_true", help="no progress bar, no closing line")
    return parser


def check_writable(*paths: Path | None) -> None:
    """Before painting, not after: every output path's folder exists and takes files."""
    for path in paths:
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise ValueError(f"cannot write {path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"cannot write {path}: the folder {folder} is not writable")


def flag_names(message: str) -> str:
    """Option names as the command line spells them (``max_side`` -> ``--max-side``): names
    with an underscore anywhere, one-word names where they open the sentence."""
    for name in sorted(DEFAULTS, key=len, reverse=True):
        flag = "--" + name.replace("_", "-")
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){name}(?!\w)", flag, message)
        elif message.startswith(f"{name} "):
            message = flag + message[len(name) :]
    return message


def options_from(args: argparse.Namespace) -> StyleOptions:
    names = {f.name for f in dataclasses.fields(StyleOptions)}
    values = {name: value for name, value in vars(args).items() if name in names}
    return StyleOptions(**values, progress_every=1)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    latest: list[Progress] = []
    history: list[tuple[int, dict[str, float]]] = []
    scale_starts: list[int] = []
    try:
        options = options_from(args)
        if args.save_every < 0:
            raise ValueError("--save-every must not be negative")
        check_writable(args.output, args.loss_plot, args.config)
        content = load_image(args.content)
        styles = [load_image(path) for path in args.styles]
        final_size = output_size(content, options)
        with tqdm(total=1, unit="step", file=sys.stderr, disable=args.quiet) as bar:

            def show(progress: Progress) -> None:
                if latest and progress.scale != latest[-1].scale:
                    scale_starts.append(latest[-1].step)
                latest[:] = [progress]
                history.append((progress.step, progress.losses))
                bar.total = progress.total
                bar.set_description(
                    f"scale {progress.scale + 1}/{progress.scales} "
                    f"{progress.size[0]}×{progress.size[1]}"
                )
                bar.set_postfix(loss=f"{progress.losses['total']:.4g}", refresh=False)
                bar.update(progress.step - bar.n)
                if args.save_every and progress.step % args.save_every == 0:
                    frame = progress.preview()  # coarse stages: enlarged to the output size
                    if frame.size != final_size:
                        frame = frame.resize(final_size, Image.Resampling.LANCZOS)
                    frame.save(_numbered(args.output, progress.step))

            result = stylize(content, styles, options, on_progress=show)
    except KeyboardInterrupt:
        if latest:
            latest[-1].preview().save(args.output)
            print(
                f"stylize: interrupted; saved step {latest[-1].step} to {args.output}",
                file=sys.stderr,
            )
        return EXIT_INTERRUPTED
    except (EngineError, ValueError, OSError) as error:
        print(f"stylize: error: {flag_names(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result.image.save(args.output)
    if result.note:
        print(f"stylize: {result.note}", file=sys.stderr)
    if not args.quiet:
        width, height = result.image.size
        print(
            f"stylize: wrote {args.output} ({width}×{height}, {result.elapsed:.0f} s "
            f"on {result.device}{_faces_kept(result.faces)})",
            file=sys.stderr,
        )
    if args.loss_plot:
        plot_losses(history, scale_starts).save(args.loss_plot)
    if args.config:
        settings = {
            "content": str(args.content),
            "styles": [str(p) for p in args.styles],
            "output": str(args.output),
            "device": result.device,
            "size": list(result.image.size),
            "elapsed_seconds": round(result.elapsed, 2),
            "losses": result.losses,
            "options": dataclasses.asdict(result.options),
        }
        args.config.write_text(json.dumps(settings, indent=2, default=str) + "\n")
    return 0


def _faces_kept(count: int) -> str:
    return "" if count == 0 else f", {count} face{'s' if count > 1 else ''} kept"


def output_size(content: Image.Image, options: StyleOptions) -> tuple[int, int]:
    """The size the result will have: its last scale's."""
    device = resolve_device(options.device)
    precision = options.precision or default_precision(device)
    max_side = options.max_side or DEFAULT_MAX_SIDE[device.type]
    steps = options.steps or DEFAULT_STEPS[schedule_key(device.type, precision)]
    return plan_scales(content.size, options, max_side, steps)[-1].size


def _numbered(output: Path, step: int) -> Path:
    return output.with_name(f"{output.stem}.step{step:04d}{output.suffix or '.png'}")


if __name__ == "__main__":
    sys.exit(main())
