"""Content, Gram style and total-variation losses.

Each loss is a mean over elements divided by the mean square of its target, so one set of
weights gives the same look at any image size and with either weight source.
"""

from __future__ import annotations

import torch
from torch import nn


def gram(features: torch.Tensor) -> torch.Tensor:
    """Channel correlations (B, C, C), averaged over positions so size does not matter."""
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return torch.bmm(flat, flat.transpose(1, 2)) / (height * width)


def _relative_mse(value: torch.Tensor, target: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
    return (value - target).pow(2).mean() / norm


class ContentLoss(nn.Module):
    """Feature reconstruction error against the content photo's features."""

    target: torch.Tensor
    norm: torch.Tensor

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("norm", target.detach().pow(2).mean().clamp_min(1e-8))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return _relative_mse(features, self.target, self.norm)


class StyleLoss(nn.Module):
    """Gram-matrix error against the (blended) style target of one layer."""

    target: torch.Tensor
    norm: torch.Tensor

    def __init__(self, target_gram: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target_gram.detach())
        self.register_buffer("norm", target_gram.detach().pow(2).mean().clamp_min(1e-8))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return _relative_mse(gram(features), self.target, self.norm)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Squared differences of neighbouring pixels: suppresses high-frequency noise."""
    horizontal = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean()
    vertical = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean()
    return horizontal + vertical
