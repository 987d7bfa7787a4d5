"""The external peer: the ``pastiche`` package, run in-process at the same output size.

pastiche keeps its own loss weighting (absolute MSEs with its default layer weights), so
its objective is not ours; it runs the same layers with its defaults and ``max_iter=1``
L-BFGS, one loss evaluation per step. Its preserve-colour path is broken on modern torch,
so it is never used.
"""

from __future__ import annotations

import os
import sys
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
    """Files in, file out, as pastiche's CLI does. Its constructor loads its VGG19 weights;
    that load is timed on its own right before and taken off, as the project's and the
    reference's model loads are (their model is loaded before their clocks start)."""
    from pastiche.pastiche import VGG19, PasticheArtist, save_image

    weights = os.path.join(
        os.path.dirname(sys.modules[PasticheArtist.__module__].__file__ or ""),
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
    )
    load = Stopwatch(device)
    VGG19.from_quantized_bin(weights, pooling="max")
    loading = load.elapsed()
    clock = Stopwatch(device)
    artist = PasticheArtist(
        str(content_path), [str(style_path)], device=str(device), size=long_side
    )
    for _ in range(steps):
        artist.draw()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pastiche.png")
        save_image(artist.pastiche, path)
        wall = max(clock.elapsed() - loading, 0.0)
        with Image.open(path) as saved:
            picture = saved.convert("RGB")
    return PeerRun(picture, steps + 1, wall)  # its constructor evaluates the loss once
