"""Runs every contender on one pair, side by side in this process, and scores them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
from PIL import Image, ImageDraw

from engine import Strength, StyleOptions
from engine.optimize import cudnn_autotune, plan_scales

from .evaluator import Evaluator
from .measure import floor_seconds, peak_memory
from .pairs import Pair
from .peer import run_pastiche
from .project import run_project
from .reference import TUTORIAL_EVALUATIONS, ReferenceRun, run_reference
from .rows import ContenderRow, PairResult

#: Every objective in the table uses the medium preset's weights, the reference's weights.
OBJECTIVE_STRENGTH = Strength.MEDIUM
OBJECTIVE_WEIGHT = OBJECTIVE_STRENGTH.style_weight

Run = TypeVar("Run")


@dataclass(frozen=True)
class PairPlan:
    """What to run on one pair; the CLI builds these from its flags."""

    pair: Pair
    long_side: int
    strengths: tuple[Strength, ...]
    steps: int | None  # None: the engine's default for the device
    reference_evaluations: int = TUTORIAL_EVALUATIONS
    pastiche_steps: int = 0  # 0: skip the peer
    target_steps: int = 0  # >0: if the default misses the reference, a longer run to the target


@dataclass(frozen=True)
class Conditions:
    """What the machine gave one contender: its fresh floor and its peak memory."""

    floor_s: float
    peak_memory_mb: float


@dataclass(frozen=True)
class Outcome:
    """A contender's picture and its own numbers, before the common evaluator scores it."""

    image: Image.Image
    wall_s: float
    evaluations: int
    per_eval_s: float | None
    time_to_target_s: float | None = None
    note: str = ""


def output_size(content: Image.Image, long_side: int) -> tuple[int, int]:
    """The size the engine's final scale will have, so every contender matches it."""
    return plan_scales(content.size, StyleOptions(), long_side, 100)[-1].size


def run_pair(
    plan: PairPlan,
    device: torch.device,
    out_dir: Path,
    log: Callable[[str], None] = lambda _: None,
) -> PairResult:
    """The reference, then the project's presets, then pastiche; rows, images and a sheet."""
    return PairRunner(plan, device, out_dir, log).run()


class PairRunner:
    """One pair's contenders, run back to back and scored by one evaluator."""

    def __init__(
        self, plan: PairPlan, device: torch.device, out_dir: Path, log: Callable[[str], None]
    ) -> None:
        self.plan, self.device, self.out_dir, self.log = plan, device, out_dir, log
        self.content, self.style = plan.pair.load()
        self.size = output_size(self.content, plan.long_side)
        self.evaluator = Evaluator(self.content, self.style, self.size, device)
        self.result = PairResult(plan.pair.name, self.size, floor_seconds(self.size, device))
        self.pictures: dict[str, Image.Image] = {"content": self.content, "style": self.style}

    def run(self) -> PairResult:
        width, height = self.size
        self.log(
            f"{self.plan.pair.name} at {width}x{height}: "
            f"floor {self.result.floor_s:.3f} s per forward+backward"
        )
        reference, target = self.run_reference()
        for strength in self.plan.strengths:
            self.run_project(strength, reference, target)
        if self.plan.pastiche_steps:
            self.run_pastiche(reference)
        contact_sheet(self.pictures, self.out_dir / f"{self.plan.pair.name}.sheet.png")
        return self.result

    def run_reference(self) -> tuple[ReferenceRun, float]:
        """The textbook loop, and its objective: the target the project races to."""
        run, conditions = self.measured(
            lambda: run_reference(
                self.content,
                self.style,
                self.size,
                self.options(OBJECTIVE_STRENGTH),
                self.evaluator,
                OBJECTIVE_WEIGHT,
                self.plan.reference_evaluations,
            )
        )
        outcome = Outcome(run.image, run.wall_s, run.evaluations, run.per_eval_s)
        row = self.add("reference", conditions, outcome, None)
        return run, row.objective

    def run_project(self, strength: Strength, reference: ReferenceRun, target: float) -> None:
        """Only the preset with the reference's weights races to the reference's objective."""
        racing = strength == OBJECTIVE_STRENGTH
        options = self.options(strength, self.plan.steps)
        run, conditions = self.measured(
            lambda: run_project(
                self.content,
                self.style,
                options,
                self.evaluator,
                OBJECTIVE_WEIGHT,
                target if racing else None,
            )
        )
        assert run.image is not None  # only a run that stops at its target has none
        reached, note = run.time_to_target_s, ""
        if racing and reached is None and self.plan.target_steps:
            reached, note = self.chase(strength, target)
        outcome = Outcome(run.image, run.wall_s, run.steps, run.per_eval_s, reached, note)
        self.add(f"project:{strength.value}", conditions, outcome, reference)

    def chase(self, strength: Strength, target: float) -> tuple[float | None, str]:
        """A longer run, outside the row's measurements, for when the default fell short."""
        steps = self.plan.target_steps
        chase = run_project(
            self.content,
            self.style,
            self.options(strength, steps),
            self.evaluator,
            OBJECTIVE_WEIGHT,
            target,
            True,
        )
        reached = chase.time_to_target_s
        return reached, f"target from a {steps}-step run" + ("" if reached else ": missed")

    def run_pastiche(self, reference: ReferenceRun) -> None:
        """The peer reads the pair's files itself, as its CLI would."""
        pair = self.plan.pair
        run, conditions = self.measured(
            lambda: run_pastiche(
                pair.content_path,
                pair.style_path,
                self.plan.long_side,
                self.plan.pastiche_steps,
                self.device,
            )
        )
        note = "own loss weights (pastiche defaults)"
        outcome = Outcome(run.image, run.wall_s, run.evaluations, run.per_eval_s, note=note)
        self.add("pastiche", conditions, outcome, reference)

    def options(self, strength: Strength, steps: int | None = None) -> StyleOptions:
        return StyleOptions(
            strength=strength, device=str(self.device), max_side=self.plan.long_side, steps=steps
        )

    def measured(self, contender: Callable[[], Run]) -> tuple[Run, Conditions]:
        """Other jobs share the CPU: a floor taken right before a contender is its fair one.
        cuDNN's autotuning is on for every contender alike (and put back after)."""
        floor = floor_seconds(self.size, self.device)
        with cudnn_autotune(self.device), peak_memory(self.device) as peak:
            run = contender()
        return run, Conditions(floor, peak.megabytes)

    def add(
        self,
        contender: str,
        conditions: Conditions,
        outcome: Outcome,
        reference: ReferenceRun | None,  # None for the reference's own row
    ) -> ContenderRow:
        """Scores the picture against the common evaluator, then records and saves it."""
        score = self.evaluator.score(outcome.image)
        objective = score.objective(OBJECTIVE_WEIGHT)
        row = ContenderRow(
            pair=self.plan.pair.name,
            contender=contender,
            size=self.size,
            wall_s=outcome.wall_s,
            evaluations=outcome.evaluations,
            score=score,
            objective=objective,
            peak_memory_mb=conditions.peak_memory_mb,
            floor_s=conditions.floor_s,
            per_eval_s=outcome.per_eval_s,
            time_to_target_s=outcome.time_to_target_s,
            reference_time_s=reference.time_to(objective) if reference else None,
            note=outcome.note,
        )
        self.result.rows.append(row)
        self.pictures[contender] = outcome.image
        outcome.image.save(self.out_dir / f"{row.pair}.{contender.replace(':', '-')}.png")
        self.log(f"  {contender:16} {row.wall_s:7.1f} s  objective {row.objective:.4f}")
        return row


def contact_sheet(pictures: dict[str, Image.Image], path: Path, height: int = 256) -> None:
    """One row: content | style | reference | project presets | pastiche, each captioned."""
    caption = 16
    tiles = [
        (name, p.resize((max(1, round(p.width * height / p.height)), height)))
        for name, p in pictures.items()
    ]
    width = sum(t.width for _, t in tiles) + 4 * (len(tiles) - 1)
    sheet = Image.new("RGB", (width, height + caption), "white")
    draw = ImageDraw.Draw(sheet)
    x = 0
    for name, tile in tiles:
        draw.text((x + 2, 2), name, fill="black")
        sheet.paste(tile, (x, caption))
        x += tile.width + 4
    sheet.save(path)
