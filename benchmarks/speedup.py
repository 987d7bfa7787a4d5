"""``python -m benchmarks.speedup``: the CPU default before and after issue 23, side by side.

Two checks, each scored by the common evaluator:

- **today vs new** at the default CPU size (384 px) on every pair: "today" is the engine as it
  was before — fp32, and a Gram matrix differentiated by autograd (`autograd_gram`) — "new"
  is the engine's default now. The two run interleaved, ``--repeats`` rounds on the same pair
  in this process (today, new; then new, today), so a busy machine slows both alike; the time
  ratio is the median of the rounds' ratios.
- **new vs the textbook loop** at 256 px: the reference (`benchmarks.reference`: one scale,
  L-BFGS, 300 evaluations, fp32, same weights) against the new default, today's too.

Style movement is how far a picture moved toward the style: the evaluator's style loss of the
photo itself minus that of the picture. ``--curve-steps`` adds the new engine in fp32 (a CPU
without AMX) at those step counts on the first pair, between two runs of today's: time against
score where bf16 does not pay.

The section it writes in RESULTS.md sits between two markers and is replaced on the next run;
``python -m benchmarks`` keeps it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from engine import StyleOptions, losses, stylize
from engine.optimize import default_precision, resolve_device
from engine.options import DEFAULT_MAX_SIDE, Precision

from .evaluator import Evaluator
from .measure import Stopwatch
from .pairs import DEFAULT_IMAGES, PAIRS, MissingImages, Pair, resolve
from .reference import TUTORIAL_EVALUATIONS, run_reference
from .report import machine, replace_section
from .suite import OBJECTIVE_WEIGHT, contact_sheet, output_size

HERE = Path(__file__).resolve().parent
TODAY, NEW, REFERENCE, FP32 = "today", "new", "reference", "new fp32"
#: Issue 23's goals.
TARGET_TIME_RATIO = 0.5  # new / today at 384 px
TARGET_CONTENT_RATIO = 1.2  # new content loss / today's, at most
TARGET_SPEEDUP = 8.0  # reference wall time / new, at 256 px
TARGET_MOVEMENT_VS_REFERENCE = 0.8


def autograd_gram(features: torch.Tensor) -> torch.Tensor:
    """The Gram matrix as the engine computed it before: autograd differentiates two products
    and hands back a channels-first gradient."""
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return torch.bmm(flat, flat.transpose(1, 2)) / (height * width)


@contextmanager
def todays_engine() -> Iterator[None]:
    """The engine's losses with today's Gram backward, put back afterwards."""
    current = losses.gram
    losses.gram = autograd_gram
    try:
        yield
    finally:
        losses.gram = current


@dataclass(frozen=True)
class Run:
    """One contender's run on one pair, scored."""

    pair: str
    size: tuple[int, int]
    contender: str
    wall_s: float
    cpu_s: float  # this process's CPU time: less swayed by other jobs on a shared machine
    content: float
    style: float
    movement: float  # the photo's style loss minus the picture's
    precision: str
    steps: int
    image: Image.Image = field(repr=False, compare=False)


@dataclass
class PairRuns:
    pair: str
    size: tuple[int, int]
    photo_style: float
    runs: list[Run] = field(default_factory=list)

    def of(self, contender: str) -> list[Run]:
        return [r for r in self.runs if r.contender == contender]

    def median(self, contender: str, value: Callable[[Run], float]) -> float:
        return statistics.median(value(r) for r in self.of(contender))


class Scorer:
    """Runs a contender on one pair at one size and scores its picture."""

    def __init__(
        self, pair: Pair, long_side: int, device: torch.device, steps: int | None = None
    ) -> None:
        self.pair, self.device, self.steps = pair, device, steps
        self.content, self.style = pair.load()
        self.long_side = long_side
        self.size = output_size(self.content, long_side)
        self.evaluator = Evaluator(self.content, self.style, self.size, device)
        photo = self.evaluator.score(self.content)
        self.runs = PairRuns(pair.name, self.size, photo.style)

    def run(
        self, contender: str, steps: int | None = None, precision: Precision | None = None
    ) -> Run:
        """``TODAY`` is fp32 with today's Gram; anything else is the engine as it is now."""
        if contender == TODAY:
            precision = "fp32"
        steps = steps or self.steps
        options = StyleOptions(
            device=str(self.device), max_side=self.long_side, steps=steps, precision=precision
        )
        clock, cpu = Stopwatch(self.device), time.process_time()
        with todays_engine() if contender == TODAY else nullcontext():
            result = stylize(self.content, self.style, options)
        wall, cpu = clock.elapsed(), time.process_time() - cpu
        score = self.evaluator.score(result.image)
        run = Run(
            self.pair.name,
            self.size,
            contender,
            wall,
            cpu,
            score.content,
            score.style,
            self.runs.photo_style - score.style,
            result.options.precision or "fp32",
            result.steps,
            result.image,
        )
        self.runs.runs.append(run)
        return run

    def reference(self, evaluations: int) -> Run:
        options = StyleOptions(device=str(self.device), precision="fp32")
        cpu = time.process_time()
        ref = run_reference(
            self.content,
            self.style,
            self.size,
            options,
            self.evaluator,
            OBJECTIVE_WEIGHT,
            evaluations,
            trace_every=evaluations + 1,  # no trace: only the whole run is compared
        )
        cpu = time.process_time() - cpu  # includes one scoring at the start, a fraction of 1 %
        score = self.evaluator.score(ref.image)
        run = Run(
            self.pair.name,
            self.size,
            REFERENCE,
            ref.wall_s,
            cpu,
            score.content,
            score.style,
            self.runs.photo_style - score.style,
            "fp32",
            ref.evaluations,
            ref.image,
        )
        self.runs.runs.append(run)
        return run


def today_vs_new(
    scorer: Scorer, repeats: int, log: Callable[[str], None] = lambda _: None
) -> PairRuns:
    """Interleaved rounds: today then new, new then today, …"""
    for round_ in range(repeats):
        order = (TODAY, NEW) if round_ % 2 == 0 else (NEW, TODAY)
        for contender in order:
            run = scorer.run(contender)
            log(f"  {run.pair} {contender:6} {run.wall_s:6.1f} s  style {run.style:.5f}")
    return scorer.runs


def time_ratio(runs: PairRuns, seconds: Callable[[Run], float] = lambda r: r.wall_s) -> float:
    """Median over rounds of new / today, each round's two runs taken back to back."""
    pairs = zip(runs.of(TODAY), runs.of(NEW), strict=True)
    return statistics.median(seconds(new) / seconds(today) for today, new in pairs)


def new_vs_reference(
    scorer: Scorer, evaluations: int, log: Callable[[str], None] = lambda _: None
) -> PairRuns:
    """new, today, the reference, new: the short runs on both sides of the long one."""
    for contender in (NEW, TODAY, REFERENCE, NEW):
        run = scorer.reference(evaluations) if contender == REFERENCE else scorer.run(contender)
        log(f"  {run.pair} {contender:9} {run.wall_s:6.1f} s  style {run.style:.5f}")
    return scorer.runs


def curve(
    scorer: Scorer, steps: Sequence[int], log: Callable[[str], None] = lambda _: None
) -> PairRuns:
    """The new engine in fp32 (a CPU without AMX) at several step counts, between two runs
    of today's, which the curve's times are divided by."""
    for contender, count in [(TODAY, None), *((FP32, n) for n in steps), (TODAY, None)]:
        run = scorer.run(contender, steps=count, precision="fp32")
        log(
            f"  {run.pair} {contender:6} {run.steps:4} steps {run.wall_s:6.1f} s  "
            f"style {run.style:.5f}"
        )
    return scorer.runs


def curve_rows(runs: PairRuns) -> list[str]:
    today_s = runs.median(TODAY, lambda r: r.wall_s)
    today_movement = runs.median(TODAY, lambda r: r.movement)
    lines = [
        "| pair | size | contender | steps | wall s | × today's wall | content | style "
        "| style movement × today's |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs.runs:
        lines.append(
            f"| {r.pair} | {_dims(r.size)} | {r.contender} | {r.steps} | {r.wall_s:.1f} | "
            f"{r.wall_s / today_s:.2f} | {r.content:.4f} | {r.style:.5f} | "
            f"{r.movement / today_movement:.3f} |"
        )
    return lines


def _dims(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def run_rows(all_runs: Sequence[PairRuns]) -> list[str]:
    lines = [
        "| pair | size | contender | precision | steps | wall s | CPU s | content | style "
        "| style movement |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for runs in all_runs:
        for r in runs.runs:
            lines.append(
                f"| {r.pair} | {_dims(r.size)} | {r.contender} | {r.precision} | {r.steps} | "
                f"{r.wall_s:.1f} | {r.cpu_s:.1f} | {r.content:.4f} | {r.style:.5f} | "
                f"{r.movement:.4f} |"
            )
    return lines


def today_verdicts(all_runs: Sequence[PairRuns]) -> list[str]:
    lines = []
    for runs in all_runs:
        if not runs.of(TODAY) or not runs.of(NEW):
            continue
        ratio, cpu = time_ratio(runs), time_ratio(runs, lambda r: r.cpu_s)
        best = min(r.wall_s for r in runs.of(NEW)) / min(r.wall_s for r in runs.of(TODAY))
        movement = runs.median(NEW, lambda r: r.movement) / runs.median(TODAY, lambda r: r.movement)
        content = runs.median(NEW, lambda r: r.content) / runs.median(TODAY, lambda r: r.content)
        lines.append(
            f"- {runs.pair} {_dims(runs.size)}: new / today time {ratio:.2f}× (target ≤ 0.5): "
            f"{_verdict(ratio <= TARGET_TIME_RATIO)} (median of the rounds; the best runs "
            f"{best:.2f}×, CPU time {cpu:.2f}×); style movement "
            f"{movement:.3f}× today's (target ≥ 1): {_verdict(movement >= 1.0)}; content loss "
            f"{content:.2f}× today's (target ≤ 1.2): {_verdict(content <= TARGET_CONTENT_RATIO)}"
        )
    return lines


def pooled_verdict(all_runs: Sequence[PairRuns]) -> list[str]:
    """Every round of every pair: the pairs are samples of one job, the default picture."""
    ratios = [
        new.wall_s / today.wall_s
        for runs in all_runs
        for today, new in zip(runs.of(TODAY), runs.of(NEW), strict=True)
    ]
    if len(all_runs) < 2 or not ratios:
        return []
    ratio = statistics.median(ratios)
    return [
        f"- all pairs: new / today time {ratio:.2f}×, the median of {len(ratios)} rounds "
        f"(from {min(ratios):.2f}× to {max(ratios):.2f}×; target ≤ 0.5): "
        f"{_verdict(ratio <= TARGET_TIME_RATIO)}"
    ]


def reference_verdicts(all_runs: Sequence[PairRuns]) -> list[str]:
    lines = []
    for runs in all_runs:
        reference = runs.of(REFERENCE)
        if not reference or not runs.of(NEW):
            continue
        ref = reference[0]
        speedup = ref.wall_s / runs.median(NEW, lambda r: r.wall_s)
        movement = runs.median(NEW, lambda r: r.movement) / ref.movement
        today = ref.wall_s / runs.median(TODAY, lambda r: r.wall_s) if runs.of(TODAY) else None
        was = f" (today's default: {today:.1f}×)" if today else ""
        lines.append(
            f"- {runs.pair} {_dims(runs.size)}: new {speedup:.1f}× faster than the reference"
            f"{was} (target ≥ 8): {_verdict(speedup >= TARGET_SPEEDUP)}; style movement "
            f"{movement:.2f}× the reference's (target ≥ 0.8): "
            f"{_verdict(movement >= TARGET_MOVEMENT_VS_REFERENCE)}"
        )
    return lines


def section(
    device: torch.device,
    command: str,
    at_size: Sequence[PairRuns],
    at_reference: Sequence[PairRuns],
    curves: Sequence[PairRuns],
    total_s: float,
) -> str:
    precision = default_precision(device)
    lines = [
        "## The CPU default before and after issue 23 (`python -m benchmarks.speedup`)",
        "",
        *machine(device),
        f"- the new default's precision here: {precision}",
        "",
        f'`{command}`, whole run {total_s / 60:.1f} min. "today" is the engine before '
        'issue 23 (fp32, autograd\'s Gram backward); "new" is the default now; both run the '
        "same schedule. Losses are the common evaluator's; style movement = the photo's "
        "style loss minus the picture's.",
        "",
        *run_rows([*at_size, *at_reference]),
        "",
        "Goals:",
        *today_verdicts(at_size),
        *pooled_verdict(at_size),
        *reference_verdicts(at_reference),
    ]
    for runs in curves:
        lines += [
            "",
            "Without AMX (fp32), time against score: the new engine at several step counts, "
            "today's default before and after them.",
            "",
            *curve_rows(runs),
        ]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speedup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--images", type=Path, default=DEFAULT_IMAGES, help="folder holding the pair images")
    add("--pairs", default=",".join(PAIRS), help="comma-separated pair names")
    add("--size", type=int, default=DEFAULT_MAX_SIDE["cpu"], help="today vs new at this side")
    add("--repeats", type=int, default=2, help="interleaved rounds of today and new")
    add("--steps", type=int, default=None, help="every contender's steps (default: the engine's)")
    add("--reference-size", type=int, default=256, help="new vs the reference at this side")
    add("--reference-evals", type=int, default=TUTORIAL_EVALUATIONS)
    add("--reference-pairs", type=int, default=3, help="how many pairs run the reference; 0: none")
    add("--curve-steps", default="", help="e.g. 50,100: the new engine in fp32 on the first pair")
    add("--device", default="cpu", help="cpu (the goal's device), or auto, cuda")
    add("--out", type=Path, default=HERE / "out", help="pictures")
    add("--sheets", type=Path, default=None, help="today-vs-new sheets (JPEG); default: --out")
    add("--results", type=Path, default=HERE / "RESULTS.md", help="its section is replaced")
    return parser


def sheet_path(folder: Path, pair: str) -> Path:
    return folder / f"cpu-default-{pair.replace('+', '-')}.jpg"


def save_sheet(runs: PairRuns, scorer: Scorer, folder: Path) -> Path:
    """content | style | today | new, at the output's own height, captioned with the numbers."""
    pictures = {"photo": scorer.content, "style": scorer.style}
    for contender in (TODAY, NEW):
        last = runs.of(contender)[-1]
        caption = f"{contender}: {last.wall_s:.0f} s, style {last.style:.4f}"
        pictures[caption] = last.image
    path = sheet_path(folder, runs.pair)
    contact_sheet(pictures, path, height=runs.size[1])
    return path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    names = [n.strip() for n in args.pairs.split(",") if n.strip()]
    try:
        pairs = resolve(names, args.images)
    except (MissingImages, ValueError) as error:
        print(f"benchmarks.speedup: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    sheets = args.sheets or args.out
    sheets.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    at_size, at_reference, curves = [], [], []
    for pair in pairs:
        scorer = Scorer(pair, args.size, device, args.steps)
        print(f"{pair.name} at {_dims(scorer.size)}: today vs new")
        at_size.append(today_vs_new(scorer, args.repeats, print))
        print(f"  sheet {save_sheet(scorer.runs, scorer, sheets)}")
    for pair in pairs[: args.reference_pairs]:
        scorer = Scorer(pair, args.reference_size, device, args.steps)
        print(f"{pair.name} at {_dims(scorer.size)}: new vs the reference")
        at_reference.append(new_vs_reference(scorer, args.reference_evals, print))
    steps = [int(s) for s in args.curve_steps.split(",") if s.strip()]
    if steps:
        scorer = Scorer(pairs[0], args.size, device, args.steps)
        print(f"{pairs[0].name} at {_dims(scorer.size)}: fp32 curve")
        curves.append(curve(scorer, steps, print))
    for runs in [*at_size, *at_reference, *curves]:
        for run in runs.runs:
            contender = run.contender.replace(" ", "-")
            name = f"{run.pair}.{contender}.{run.size[0]}px.{run.steps}steps.png"
            run.image.save(args.out / name)
    total = time.perf_counter() - started
    command = "python -m benchmarks.speedup " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(device, command.strip(), at_size, at_reference, curves, total)
    replace_section(args.results, text, "speedup")
    print(text)
    print(f"wrote its section of {args.results} in {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
