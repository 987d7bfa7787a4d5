"""The external peer: the ``pastiche`` package, run in-process at the same output size.

pastiche keeps its own loss weighting (absolute MSEs with its default layer weights), so
its objective is not ours; it runs the same layers with its defaults and ``max_iter=1``
L-BFGS, one loss evaluation per step. Its preserve-colour path is broken on modern torch,
so it is never used.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .measure import Stopwatch


@dataclass(frozen=True)
class PeerRun:
    image: Image.Image
    evaluations: int
    wall_s: float

    @property
    def per_eval_s(self) -> float:
        return self.wall_s / self.evaluations


def run_pastiche(
    content_path: Path, style_path: Path, long_side: int, steps: int, device: torch.device
) -> PeerRun:
    """Files in, file out, as pastiche's CLI does; the wall time includes its set-up."""
    from pastiche.pastiche import PasticheArtist, save_image

    clock = Stopwatch(device)
    artist = PasticheArtist(
        str(content_path), [str(style_path)], device=str(device), size=long_side
    )
    for _ in range(steps):
        artist.draw()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pastiche.png")
        save_image(artist.pastiche, path)
        wall = clock.elapsed()
        with Image.open(path) as saved:
            picture = saved.convert("RGB")
    return PeerRun(picture, steps + 1, wall)  # its constructor evaluates the loss once
