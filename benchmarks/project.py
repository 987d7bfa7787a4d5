"""The project's engine as a contender, watched through its public ``on_progress`` hook.

At every progress point of the final scale the current iterate is scored by the common
evaluator; the time spent scoring is subtracted, so the reported times are the engine's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PIL import Image

from engine import Progress, RunCancelled, StyleOptions, stylize

from .evaluator import Evaluator
from .measure import Stopwatch


@dataclass
class ProjectRun:
    image: Image.Image | None  # None when stopped at the target
    steps: int
    wall_s: float  # engine time, scoring excluded
    trace: list[tuple[float, int, float]] = field(default_factory=list)  # (s, step, objective)
    time_to_target_s: float | None = None

    @property
    def per_eval_s(self) -> float | None:
        """Seconds per step (one loss evaluation each) over the final scale's progress points."""
        if len(self.trace) < 2:
            return None
        (t0, s0, _), (t1, s1, _) = self.trace[0], self.trace[-1]
        return (t1 - t0) / (s1 - s0) if s1 > s0 else None


def run_project(
    content: Image.Image,
    style: Image.Image,
    options: StyleOptions,
    evaluator: Evaluator,
    objective_weight: float,
    target: float | None = None,
    stop_at_target: bool = False,
) -> ProjectRun:
    """``objective_weight`` is the style weight the trace's objective is computed with."""
    run = ProjectRun(image=None, steps=0, wall_s=0.0)
    stop = threading.Event()
    clock = Stopwatch(evaluator.device)

    def watch(progress: Progress) -> None:
        if progress.scale != progress.scales - 1:
            return
        own_time = progress.elapsed - clock.excluded
        with clock.excluding():
            objective = evaluator.score(progress.preview()).objective(objective_weight)
        run.trace.append((own_time, progress.step, objective))
        run.steps = progress.step
        if target is not None and run.time_to_target_s is None and objective <= target:
            run.time_to_target_s = own_time
            if stop_at_target:
                stop.set()

    try:
        result = stylize(content, style, options, on_progress=watch, cancel=stop)
        run.image, run.steps = result.image, result.steps
    except RunCancelled:
        pass
    run.wall_s = clock.elapsed()
    return run
