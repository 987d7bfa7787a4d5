"""The textbook baseline: the PyTorch neural-style tutorial's algorithm, written plainly.

Single scale at full size, content init, ``torch.optim.LBFGS`` with its defaults, pixels
clamped inside the closure, stop once 300 loss evaluations are done (the tutorial's loop
finishes the L-BFGS step it is in, so a few more may run; the count is reported). The
network, layers, losses and weights are the project's, so only the loop differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from PIL import Image

from engine import StyleOptions, images
from engine.optimize import Objective
from engine.vgg import get_model

from .measure import sync

TUTORIAL_EVALUATIONS = 300


@dataclass(frozen=True)
class ReferenceRun:
    image: Image.Image
    evaluations: int
    wall_s: float


def run_reference(
    content: Image.Image,
    style: Image.Image,
    size: tuple[int, int],
    options: StyleOptions,
    device: torch.device,
    evaluations: int = TUTORIAL_EVALUATIONS,
) -> ReferenceRun:
    """Wall time covers building the targets and the loop, as the project's does."""
    sync(device)
    started = time.perf_counter()
    content_t = images.to_tensor(content.resize(size, Image.Resampling.LANCZOS), device)
    style_t = images.to_tensor(images.fit_area(style, size[0] * size[1]), device)
    objective = Objective(get_model(device), content_t, [style_t], options)
    picture = content_t.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([picture])
    done = 0

    def closure() -> torch.Tensor:
        nonlocal done
        with torch.no_grad():
            picture.clamp_(0, 1)
        optimizer.zero_grad()
        loss, _ = objective(picture)
        loss.backward()
        done += 1
        return loss

    while done < evaluations:
        optimizer.step(closure)
    with torch.no_grad():
        picture.clamp_(0, 1)
    result = images.to_image(picture.detach())
    sync(device)
    return ReferenceRun(result, done, time.perf_counter() - started)
