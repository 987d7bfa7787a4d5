"""Typed options, progress and results: the vocabulary shared by the API, CLI, queue and bot."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import Image

#: Layer names follow Gatys et al.; as in Caffe, where ReLU runs in place, a ``convX_Y``
#: layer's features are its rectified responses (``reluX_Y`` is accepted as a synonym).
DEFAULT_CONTENT_LAYERS: tuple[str, ...] = ("conv4_2",)
DEFAULT_STYLE_LAYERS: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

Optimizer = Literal["lbfgs", "adam"]
Init = Literal["content", "noise", "style"]
Pooling = Literal["max", "avg"]
Precision = Literal["fp32", "bf16"]


class Strength(enum.StrEnum):
    """Three presets of the style weight, from a hint of the style to a full repaint."""

    LIGHT = "light"
    MEDIUM = "medium"
    STRONG = "strong"

    @property
    def style_weight(self) -> float:
        return STRENGTH_STYLE_WEIGHTS[self]


#: Style/content weight ratios, calibrated by eye on tubingen + starry_night and
#: tubingen + the_scream; losses are normalised so they hold at any size.
STRENGTH_STYLE_WEIGHTS: dict[Strength, float] = {
    Strength.LIGHT: 3.0,
    Strength.MEDIUM: 10.0,
    Strength.STRONG: 40.0,
}

#: Defaults that depend on the device: a CPU user waits in a chat, a GPU has room.
DEFAULT_MAX_SIDE = {"cpu": 384, "cuda": 512, "mps": 512}
#: Steps, and the steps at each coarse scale per step at the output size (a coarse step
#: costs about a quarter as much per halving, and settles the layout the fine scale only
#: refines), by ``schedule_key``. A CPU with AMX runs the network in bf16 (``cpu-bf16``), an
#: evaluation in 0.4× the time; a bf16 step moves the picture a little less, so it takes six
#: more at the output size: at 384 px 66 steps at 192 px, then 40 (benchmarks/RESULTS.md).
DEFAULT_STEPS = {"cpu": 100, "cpu-bf16": 106, "cuda": 300, "mps": 300}
COARSE_SHARE = {"cpu": 2.0, "cpu-bf16": 1.65, "cuda": 2.0, "mps": 2.0}


def schedule_key(device_type: str, precision: Precision | None) -> str:
    """Which defaults of ``DEFAULT_STEPS`` and ``COARSE_SHARE`` a run takes."""
    return "cpu-bf16" if device_type == "cpu" and precision == "bf16" else device_type


@dataclass(frozen=True, kw_only=True)
class StyleOptions:
    """Every knob of one run; the defaults make a good picture with no flags."""

    strength: Strength = Strength.MEDIUM
    style_weight: float | None = None  # overrides the strength preset
    content_weight: float = 1.0
    tv_weight: float = 1.0
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None  # equal when None
    style_blend_weights: tuple[float, ...] | None = None  # one per style image; equal when None
    max_side: int | None = None  # None: DEFAULT_MAX_SIDE for the device
    steps: int | None = None  # total over all scales; None: DEFAULT_STEPS (see schedule_key)
    optimizer: Optimizer = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam
    init: Init = "content"
    pooling: Pooling = "max"
    multiscale: bool | None = None  # None: on when max_side is at least twice min_scale
    min_scale: int = 128  # long side of the coarsest scale
    preserve_colors: bool = False
    #: Faces found in the photo keep the person's features: more content, less style inside
    #: each (engine.faces). No face found: the run is as without it.
    keep_faces: bool = True
    style_scale: float = 1.0
    seed: int | None = None
    device: str = "auto"
    weights: str = "bundled"
    #: bf16: the network's passes under autocast, losses in fp32. None: bf16 on a CPU that
    #: multiplies bf16 in hardware (AMX), fp32 elsewhere (engine.optimize.default_precision).
    precision: Precision | None = None
    progress_every: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", Strength(self.strength))
        for name in (
            "content_layers",
            "style_layers",
            "style_layer_weights",
            "style_blend_weights",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        _check_choice("optimizer", self.optimizer, ("lbfgs", "adam"))
        _check_choice("init", self.init, ("content", "noise", "style"))
        _check_choice("pooling", self.pooling, ("max", "avg"))
        if self.precision is not None:
            _check_choice("precision", self.precision, ("fp32", "bf16"))
        if not self.content_layers or not self.style_layers:
            raise ValueError("content_layers and style_layers must each name at least one layer")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(
            self.style_layers
        ):
            raise ValueError("style_layer_weights needs one weight per style layer")
        for name in ("content_weight", "tv_weight", "style_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.style_weight is not None and self.style_weight < 0:
            raise ValueError("style_weight must not be negative")
        if self.style_scale == 0:
            raise ValueError("style_scale must be positive")
        if self.max_side is not None and self.max_side < 32:
            raise ValueError("max_side must be at least 32 pixels")
        if self.steps is not None and self.steps < 1:
            raise ValueError("steps must be at least 1")
        if self.lr is not None and self.lr <= 0:
            raise ValueError("lr must be positive")
        if self.min_scale < 32 or self.progress_every < 1:
            raise ValueError("min_scale must be at least 32 and progress_every at least 1")

    @property
    def resolved_style_weight(self) -> float:
        return self.strength.style_weight if self.style_weight is None else self.style_weight

    @property
    def resolved_lr(self) -> float:
        if self.lr is not None:
            return self.lr
        return 1.0 if self.optimizer == "lbfgs" else 0.02


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running job, handed to ``on_progress`` every few steps."""

    step: int  # steps done, over all scales
    total: int
    scale: int  # 0-based index of the current scale
    scales: int
    size: tuple[int, int]  # (width, height) of the current scale
    losses: dict[str, float]  # content, style, tv, total (weighted, as optimised)
    elapsed: float  # seconds since the run started
    eta: float  # estimated seconds left
    preview: Callable[[], Image.Image] = field(repr=False, compare=False)

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


@dataclass(frozen=True)
class Result:
    """The finished picture and how it was made."""

    image: Image.Image = field(repr=False)
    options: StyleOptions
    steps: int
    elapsed: float
    losses: dict[str, float]
    device: str
    note: str | None = None  # e.g. "ran out of GPU memory; made at 358 px instead"
    faces: int = 0  # faces kept (keep_faces and found in the photo)
