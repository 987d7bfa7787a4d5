"""One scorer for every contender: the same VGG19, layers and relative losses, unweighted."""

from __future__ import annotations

import torch
from PIL import Image

from engine import StyleOptions, images
from engine.losses import tv_loss
from engine.optimize import Objective
from engine.vgg import get_model

from .rows import Score


def targets(
    content: Image.Image, style: Image.Image, size: tuple[int, int], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Content at the output size, style at its area: how the engine prepares the final scale."""
    content_t = images.to_tensor(content.resize(size, Image.Resampling.LANCZOS), device)
    style_t = images.to_tensor(images.fit_area(style, size[0] * size[1]), device)
    return content_t, style_t


class Evaluator:
    """Scores pictures of one size against one content photo and one style image.

    Built on the engine's own ``Objective`` with unit weights, so "content" and "style" are
    the raw relative losses the project optimises and the reference's numbers are comparable.
    """

    def __init__(
        self, content: Image.Image, style: Image.Image, size: tuple[int, int], device: torch.device
    ) -> None:
        self.size = size
        self.device = device
        model = get_model(device)
        content_t, style_t = targets(content, style, size, device)
        unit = StyleOptions(style_weight=1.0, content_weight=1.0, tv_weight=0.0)
        self.objective = Objective(model, content_t, [style_t], unit)

    @torch.no_grad()
    def score_tensor(self, image: torch.Tensor) -> Score:
        _, parts = self.objective(image.to(self.device))
        return Score(float(parts["content"]), float(parts["style"]), float(tv_loss(image)))

    def score(self, picture: Image.Image) -> Score:
        if picture.size != self.size:
            picture = picture.resize(self.size, Image.Resampling.LANCZOS)
        return self.score_tensor(images.to_tensor(picture, self.device))
