"""``python -m benchmarks``: the project against the textbook reference and pastiche.

Default (19.7 min measured on two CPU cores): tubingen+starry_night at the engine's default
size (384 px on CPU) with every contender (the reference, the three presets, pastiche for
50 steps), the other two pairs at 128 px with the reference and the medium preset.
``--quick`` is a smoke run (first pair, 128 px, short runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from engine import Strength
from engine.optimize import default_precision, resolve_device
from engine.options import DEFAULT_MAX_SIDE, DEFAULT_STEPS, schedule_key

from . import report
from .pairs import DEFAULT_IMAGES, PAIRS, MissingImages, Pair, resolve
from .rows import ContenderRow, PairResult
from .suite import PairPlan, run_pair

HERE = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--images", type=Path, default=DEFAULT_IMAGES, help="folder holding the pair images")
    add("--pairs", default=",".join(PAIRS), help="comma-separated pair names")
    add(
        "--size",
        type=int,
        default=None,
        help="long side for the first pair (default: the engine's default for the device)",
    )
    add("--other-size", type=int, default=128, help="long side for the other pairs")
    add("--steps", type=int, default=None, help="project steps (default: the engine's)")
    add("--reference-evals", type=int, default=300, help="the tutorial's loss evaluations")
    add("--pastiche-steps", type=int, default=50, help="pastiche L-BFGS steps; 0 skips it")
    add("--pastiche-all", action="store_true", help="run pastiche on every pair, not the first")
    add(
        "--target-steps",
        type=int,
        default=0,
        help="if the project's default misses the reference's objective, chase it this long",
    )
    add(
        "--strengths",
        default=",".join(s.value for s in Strength),
        help="presets run on the first pair (the others run medium)",
    )
    add("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    add(
        "--quick",
        action="store_true",
        help="smoke run: first pair only at 128 px, 40 reference evaluations, 20 steps",
    )
    add("--out", type=Path, default=HERE / "out", help="images and contact sheets")
    add("--results", type=Path, default=HERE / "RESULTS.md")
    return parser


NOTES = (
    "- Timings are from a shared two-core machine where other jobs run: expect ±10–20% "
    "noise between runs; compare rows of one run (contenders run back to back in one "
    "process).",
    "- GPU rows were not measured in this session (no GPU was lent). The same code runs "
    "on CUDA with `--device cuda`: it synchronises around every timing and reports "
    "`torch.cuda.max_memory_allocated` as peak memory.",
)


@dataclass(frozen=True)
class Settings:
    """The flags that shape the run, once ``--quick`` and the device's defaults are applied."""

    names: list[str]
    size: int  # the first pair's long side
    other_size: int
    steps: int | None  # None: the engine's default for the device
    reference_evals: int
    pastiche_steps: int
    pastiche_all: bool
    target_steps: int
    strengths: str  # parsed by ``presets`` after the pairs resolve, so a bad pair is named first

    @classmethod
    def from_args(cls, args: argparse.Namespace, device: torch.device) -> Settings:
        names = [n.strip() for n in args.pairs.split(",") if n.strip()]
        size = args.size or DEFAULT_MAX_SIDE[device.type]
        steps, reference_evals = args.steps, args.reference_evals
        pastiche_steps = args.pastiche_steps
        if args.quick:
            names, size, steps, reference_evals, pastiche_steps = names[:1], 128, 20, 40, 20
        return cls(
            names,
            size,
            args.other_size,
            steps,
            reference_evals,
            pastiche_steps,
            args.pastiche_all,
            args.target_steps,
            args.strengths,
        )

    @property
    def presets(self) -> tuple[Strength, ...]:
        """The first pair's presets, medium always: the comparison with the reference needs it."""
        strengths = tuple(Strength(s.strip()) for s in self.strengths.split(",") if s.strip())
        return strengths if Strength.MEDIUM in strengths else (Strength.MEDIUM, *strengths)

    def plans(self, pairs: list[Pair]) -> list[PairPlan]:
        """The first pair in full; the others at ``other_size`` with medium alone."""
        presets = self.presets
        return [
            PairPlan(
                pair,
                self.size if index == 0 else self.other_size,
                presets if index == 0 else (Strength.MEDIUM,),
                self.steps,
                self.reference_evals,
                self.pastiche_steps if index == 0 or self.pastiche_all else 0,
                self.target_steps,
            )
            for index, pair in enumerate(pairs)
        ]


def describe(
    command: list[str],
    settings: Settings,
    plans: list[PairPlan],
    device: torch.device,
    total_s: float,
) -> str:
    """The RESULTS.md "Run" line: the command, what each pair ran, the whole run's time."""
    key = schedule_key(device.type, default_precision(device))
    project_steps = settings.steps or DEFAULT_STEPS[key]
    pastiche_on = "every pair" if settings.pastiche_all else "first pair"
    return (
        f"`python -m benchmarks {' '.join(command)}` — "
        + "; ".join(
            f"{p.pair.name} at {p.long_side} px ({', '.join(s.value for s in p.strengths)})"
            for p in plans
        )
        + f"; project steps {project_steps}, reference {settings.reference_evals} evaluations, "
        f"pastiche {settings.pastiche_steps} steps ({pastiche_on}); "
        f"whole run {total_s / 60:.1f} min."
    )


def default_job(
    results: list[PairResult], settings: Settings, device: torch.device
) -> ContenderRow | None:
    """The medium preset's row when it ran as the bot runs it: default size and steps."""
    if settings.size != DEFAULT_MAX_SIDE[device.type] or settings.steps is not None:
        return None
    return results[0].row("project:medium") if results else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    settings = Settings.from_args(args, device)
    try:
        pairs = resolve(settings.names, args.images)
    except (MissingImages, ValueError) as error:
        print(f"benchmarks: {error}", file=sys.stderr)
        return 2
    plans = settings.plans(pairs)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [run_pair(plan, device, args.out, log=print) for plan in plans]
    total = time.perf_counter() - started
    command = argv if argv is not None else sys.argv[1:]
    config = describe(command, settings, plans, device, total)
    job = default_job(results, settings, device)
    report.write(args.results, results, device, config, job, NOTES)
    print(f"wrote {args.results} and images under {args.out} in {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
