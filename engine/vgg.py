"""A frozen VGG19 feature extractor with named layers, truncated at the deepest layer asked."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

import torch
from torch import nn

from .options import Pooling
from .weights import CONV_SHAPES, LAYER_NAMES, InputConvention, VGGWeights, load_weights

logger = logging.getLogger(__name__)


def canonical_layer(name: str) -> str:
    """``reluX_Y`` is a synonym of ``convX_Y`` (Caffe's in-place ReLU): both give rectified maps."""
    canonical = "conv" + name[4:] if name.startswith("relu") else name
    if canonical not in LAYER_NAMES or canonical.startswith("pool"):
        choices = ", ".join(n for n in LAYER_NAMES if n.startswith("conv"))
        raise ValueError(f"unknown VGG19 layer {name!r}; choose from {choices}")
    return canonical


class Normalize(nn.Module):
    """Maps an RGB image in [0, 1] to what the first conv layer was trained on."""

    scale: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, convention: InputConvention) -> None:
        super().__init__()
        self.bgr = convention.bgr
        self.register_buffer("scale", torch.tensor(convention.scale))
        self.register_buffer("mean", torch.tensor(convention.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(convention.std).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.bgr:
            image = image.flip(1)
        return (image * self.scale - self.mean) / self.std


class VGG19Features(nn.Module):
    """VGG19's conv part; ``forward`` returns the rectified maps of the requested layers."""

    def __init__(self, weights: VGGWeights, pooling: Pooling = "max") -> None:
        super().__init__()
        self.normalize = Normalize(weights.convention)
        layers: list[nn.Module] = []
        for name in LAYER_NAMES:
            if name.startswith("conv"):
                layers.append(nn.Conv2d(*CONV_SHAPES[name], kernel_size=3, padding=1))
            elif name.startswith("relu"):
                layers.append(nn.ReLU(inplace=True))
            else:
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                layers.append(pool(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)
        self.load_state_dict(weights.state_dict, strict=False)
        self.source = weights.source
        # channels_last: an evaluation runs about 9% faster on CPU (benchmarks/RESULTS.md).
        self.to(memory_format=torch.channels_last)
        self.eval().requires_grad_(False)

    def forward(self, image: torch.Tensor, layers: Collection[str]) -> dict[str, torch.Tensor]:
        wanted = {canonical_layer(name) for name in layers}
        last = max(LAYER_NAMES.index(name) for name in wanted) + 1  # the ReLU after it
        out: dict[str, torch.Tensor] = {}
        x = self.normalize(image).contiguous(memory_format=torch.channels_last)
        for index in range(last + 1):
            x = self.features[index](x)
            if LAYER_NAMES[index].startswith("relu"):
                conv_name = "conv" + LAYER_NAMES[index][4:]
                if conv_name in wanted:
                    out[conv_name] = x
        return out


_cache: dict[tuple[str, str, str], VGG19Features] = {}
_cache_lock = threading.Lock()


def get_model(
    device: torch.device, weights: str = "bundled", pooling: Pooling = "max"
) -> VGG19Features:
    """One warm model per (device, weights, pooling): loading takes seconds, jobs reuse it."""
    key = (str(device), weights, pooling)
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            logger.info("Loading VGG19 (%s weights, %s pooling) on %s", weights, pooling, device)
            model = VGG19Features(load_weights(weights), pooling).to(device)
            _cache[key] = model
        return model
