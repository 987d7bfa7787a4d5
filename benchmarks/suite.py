"""Runs every contender on one pair, side by side in this process, and scores them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from engine import Strength, StyleOptions
from engine.optimize import plan_scales

from .evaluator import Evaluator
from .measure import floor_seconds, peak_memory
from .pairs import Pair
from .peer import run_pastiche
from .project import run_project
from .reference import TUTORIAL_EVALUATIONS, run_reference
from .rows import ContenderRow, PairResult

#: Every objective in the table uses the medium preset's weights, the reference's weights.
OBJECTIVE_STRENGTH = Strength.MEDIUM


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


def output_size(content: Image.Image, long_side: int) -> tuple[int, int]:
    """The size the engine's final scale will have, so every contender matches it."""
    return plan_scales(content.size, StyleOptions(), long_side, 100)[-1].size


def run_pair(
    plan: PairPlan,
    device: torch.device,
    out_dir: Path,
    log: Callable[[str], None] = lambda _: None,
) -> PairResult:
    name = plan.pair.name
    content, style = plan.pair.load()
    size = output_size(content, plan.long_side)
    evaluator = Evaluator(content, style, size, device)
    weight = OBJECTIVE_STRENGTH.style_weight
    result = PairResult(name, size, floor_seconds(size, device))
    log(f"{name} at {size[0]}x{size[1]}: floor {result.floor_s:.3f} s per forward+backward")
    pictures: dict[str, Image.Image] = {"content": content, "style": style}

    def add(row_name: str, picture: Image.Image, **fields: object) -> None:
        score = evaluator.score(picture)
        objective = score.objective(weight)
        fields.setdefault("floor_s", floor)
        if row_name != "reference":
            fields["reference_time_s"] = reference.time_to(objective)
        row = ContenderRow(
            pair=name,
            contender=row_name,
            size=size,
            score=score,
            objective=objective,
            **fields,  # type: ignore[arg-type]
        )
        result.rows.append(row)
        pictures[row_name] = picture
        picture.save(out_dir / f"{name}.{row_name.replace(':', '-')}.png")
        log(f"  {row_name:16} {row.wall_s:7.1f} s  objective {row.objective:.4f}")

    floor = result.floor_s

    def refloor() -> None:
        """Other jobs share the CPU: a floor taken right before a contender is its fair one."""
        nonlocal floor
        floor = floor_seconds(size, device)

    base = StyleOptions(strength=OBJECTIVE_STRENGTH, device=str(device), max_side=plan.long_side)
    refloor()
    with peak_memory(device) as peak:
        reference = run_reference(
            content, style, size, base, evaluator, weight, plan.reference_evaluations
        )
    add(
        "reference",
        reference.image,
        wall_s=reference.wall_s,
        evaluations=reference.evaluations,
        peak_memory_mb=peak.megabytes,
        per_eval_s=reference.wall_s / reference.evaluations,
    )
    target = result.rows[-1].objective

    for strength in plan.strengths:
        options = StyleOptions(
            strength=strength, device=str(device), max_side=plan.long_side, steps=plan.steps
        )
        refloor()
        with peak_memory(device) as peak:
            run = run_project(
                content,
                style,
                options,
                evaluator,
                weight,
                target if strength == OBJECTIVE_STRENGTH else None,
            )
        assert run.image is not None
        note = ""
        reached = run.time_to_target_s
        if strength == OBJECTIVE_STRENGTH and reached is None and plan.target_steps:
            longer = StyleOptions(
                strength=strength,
                device=str(device),
                max_side=plan.long_side,
                steps=plan.target_steps,
            )
            chase = run_project(content, style, longer, evaluator, weight, target, True)
            reached = chase.time_to_target_s
            note = f"target from a {plan.target_steps}-step run" + ("" if reached else ": missed")
        add(
            f"project:{strength.value}",
            run.image,
            wall_s=run.wall_s,
            evaluations=run.steps,
            peak_memory_mb=peak.megabytes,
            per_eval_s=run.per_eval_s,
            time_to_target_s=reached,
            note=note,
        )

    if plan.pastiche_steps:
        refloor()
        with peak_memory(device) as peak:
            peer = run_pastiche(
                plan.pair.content_path,
                plan.pair.style_path,
                plan.long_side,
                plan.pastiche_steps,
                device,
            )
        add(
            "pastiche",
            peer.image,
            wall_s=peer.wall_s,
            evaluations=peer.evaluations,
            peak_memory_mb=peak.megabytes,
            per_eval_s=peer.wall_s / peer.evaluations,
            note="own loss weights (pastiche defaults)",
        )
    contact_sheet(pictures, out_dir / f"{name}.sheet.png")
    return result


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
