"""The textbook baseline: the PyTorch neural-style tutorial's algorithm, written plainly.

Single scale at full size, content init, ``torch.optim.LBFGS`` with its defaults, pixels
clamped inside the closure, stop once 300 loss evaluations are done (the tutorial's loop
finishes the L-BFGS step it is in, so a few more may run; the count is reported). The
network, layers, losses and weights are the project's, so only the loop differs.

Every ``trace_every`` evaluations the iterate is scored by the common evaluator, with the
scoring time subtracted, so the table can say when the reference reached any objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from PIL import Image

from engine import StyleOptions, images
from engine.optimize import Objective
from engine.vgg import get_model

from .evaluator import Evaluator, targets
from .measure import Stopwatch

TUTORIAL_EVALUATIONS = 300


@dataclass(frozen=True)
class ReferenceRun:
    image: Image.Image
    evaluations: int
    wall_s: float  # scoring excluded
    trace: list[tuple[float, int, float]] = field(default_factory=list)  # (s, evals, objective)

    @property
    def per_eval_s(self) -> float:
        return self.wall_s / self.evaluations

    def time_to(self, objective: float) -> float | None:
        """When the trace first shows ``objective`` or better (to within its spacing)."""
        return next((s for s, _, value in self.trace if value <= objective), None)


def run_reference(
    content: Image.Image,
    style: Image.Image,
    size: tuple[int, int],
    options: StyleOptions,
    evaluator: Evaluator,
    objective_weight: float,
    evaluations: int = TUTORIAL_EVALUATIONS,
    trace_every: int = 10,
) -> ReferenceRun:
    """Wall time covers building the targets and the loop, as the project's does."""
    device = evaluator.device
    trace: list[tuple[float, int, float]] = []
    clock = Stopwatch(device)
    content_t, style_t = targets(content, style, size, device)
    objective = Objective(get_model(device), content_t, [style_t], options)
    picture = content_t.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([picture])
    # torch leaves LBFGS.step unannotated; this is the signature it has.
    step: Callable[[Callable[[], torch.Tensor]], object] = optimizer.step
    done = 0

    def score() -> None:
        at = clock.elapsed()
        with clock.excluding():
            value = evaluator.score_tensor(picture.detach()).objective(objective_weight)
        trace.append((at, done, value))

    def closure() -> torch.Tensor:
        nonlocal done
        with torch.no_grad():
            picture.clamp_(0, 1)
        if done % trace_every == 0:
            score()
        optimizer.zero_grad()
        loss: torch.Tensor  # nn.Module.__call__ is typed Any; forward returns this
        loss, _ = objective(picture)
        torch.autograd.backward(loss)  # what loss.backward() calls, but annotated
        done += 1
        return loss

    while done < evaluations:
        step(closure)
    with torch.no_grad():
        picture.clamp_(0, 1)
    result = images.to_image(picture.detach())
    wall = clock.elapsed()
    trace.append((wall, done, evaluator.score(result).objective(objective_weight)))
    return ReferenceRun(result, done, wall, trace)
