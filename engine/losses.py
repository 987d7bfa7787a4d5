"""Content, Gram style and total-variation losses.

Each loss is a mean over elements divided by the mean square of its target, so one set of
weights gives the same look at any image size and with either weight source.
"""

from __future__ import annotations

import torch
from torch import nn


def gram(features: torch.Tensor) -> torch.Tensor:
    """Channel correlations (B, C, C), averaged over positions so size does not matter."""
    result: torch.Tensor = _Gram.apply(features)
    return result


def _positions_by_channels(features: torch.Tensor) -> torch.Tensor:
    """(B, H·W, C): a free view of channels-last features (the network's own layout)."""
    batch, channels, height, width = features.shape
    return features.permute(0, 2, 3, 1).reshape(batch, height * width, channels)


class _Gram(torch.autograd.Function):
    """The Gram matrix with a backward of one matrix product instead of autograd's two, whose
    gradient comes back in the features' own memory layout. Autograd's came back
    channels-first and was summed into the network's channels-last gradient element by element,
    a slow strided add: this backward makes an evaluation 0.65× as long in bf16 on a CPU and
    about 0.95× in fp32 (benchmarks/RESULTS.md)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, features: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(features)
        batch, channels, height, width = features.shape
        if features.is_contiguous():  # channels first
            flat = features.reshape(batch, channels, height * width)
            return torch.bmm(flat, flat.transpose(1, 2)) / (height * width)
        rows = _positions_by_channels(features)
        return torch.bmm(rows.transpose(1, 2), rows) / (height * width)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (features,) = ctx.saved_tensors  # type: ignore[attr-defined]
        batch, channels, height, width = features.shape
        symmetric = (grad + grad.transpose(1, 2)) / (height * width)
        if features.is_contiguous():  # channels first: (B, C, C) @ (B, C, H·W)
            flat = features.reshape(batch, channels, height * width)
            return torch.bmm(symmetric, flat).view(batch, channels, height, width)
        rows = torch.bmm(_positions_by_channels(features), symmetric)  # (B, H·W, C)
        return rows.view(batch, height, width, channels).permute(0, 3, 1, 2)


def _relative_mse(value: torch.Tensor, target: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
    return (value - target).pow(2).mean() / norm


class ContentLoss(nn.Module):
    """Feature reconstruction error against the content photo's features. ``emphasis``
    (1, 1, H, W) weighs each position's error: more than 1 where the photo must stay (faces)."""

    target: torch.Tensor
    norm: torch.Tensor
    emphasis: torch.Tensor | None

    def __init__(self, target: torch.Tensor, emphasis: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("norm", target.detach().pow(2).mean().clamp_min(1e-8))
        self.register_buffer("emphasis", emphasis)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.emphasis is None:
            return _relative_mse(features, self.target, self.norm)
        return ((features - self.target).pow(2) * self.emphasis).mean() / self.norm


class StyleLoss(nn.Module):
    """Gram-matrix error against the (blended) style target of one layer. With ``presence``
    (1, 1, H, W, in (0, 1]) the picture's Gram matrix is a weighted average over positions:
    where presence is low (faces) the style is hardly asked for, elsewhere in full."""

    target: torch.Tensor
    norm: torch.Tensor
    root: torch.Tensor | None

    def __init__(self, target_gram: torch.Tensor, presence: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("target", target_gram.detach())
        self.register_buffer("norm", target_gram.detach().pow(2).mean().clamp_min(1e-8))
        # gram(f·√p) sums p·f·fᵀ; times positions / Σp it is the weighted average
        root = (
            None
            if presence is None
            else presence.sqrt() * (presence.numel() / presence.sum()).sqrt()
        )
        self.register_buffer("root", root)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        weighted = features if self.root is None else features * self.root
        return _relative_mse(gram(weighted), self.target, self.norm)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Squared differences of neighbouring pixels: suppresses high-frequency noise."""
    horizontal = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean()
    vertical = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean()
    return horizontal + vertical
