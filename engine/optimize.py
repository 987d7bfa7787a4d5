"""The optimisation loop: coarse-to-fine scales, L-BFGS or Adam, progress and cancellation."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torch import nn

from . import faces as faces_
from . import images, memory
from .errors import EngineError, RunCancelled
from .losses import ContentLoss, StyleLoss, gram, tv_loss
from .options import (
    COARSE_SHARE,
    DEFAULT_MAX_SIDE,
    DEFAULT_STEPS,
    Pooling,
    Precision,
    Progress,
    Result,
    StyleOptions,
    schedule_key,
)
from .vgg import VGG19Features, canonical_layer, get_model

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
OOM_RETRY_SCALE = 0.7


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, else Apple's MPS, else the CPU; an explicit GPU must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if torch.backends.mps.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from error
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise EngineError("A GPU (CUDA) was asked for, but none is available here.")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise EngineError(
                f"There is no GPU {name}; this machine has {torch.cuda.device_count()}."
            )
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise EngineError("An Apple GPU (MPS) was asked for, but none is available here.")
    elif device.type != "cpu":
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return device


def default_precision(device: torch.device) -> Precision:
    """bf16 on a CPU with AMX, whose tile units multiply bf16 in hardware: an evaluation
    there takes about 0.4× the time of fp32 and the picture scores the same
    (benchmarks/RESULTS.md). Without AMX, bf16 is emulated and slower, so fp32; GPUs keep fp32
    until a GPU run measures otherwise."""
    if device.type == "cpu" and _cpu_has_amx():
        return "bf16"
    return "fp32"


def _cpu_has_amx() -> bool:
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private; absent: assume not
    return bool(probe()) if probe is not None else False


def warm_up(device: str = "auto", weights: str = "bundled", pooling: Pooling = "max") -> str:
    """Load the model now so the first job does not pay for it; returns the device used."""
    resolved = resolve_device(device)
    get_model(resolved, weights, pooling)
    return str(resolved)


@dataclass(frozen=True)
class Scale:
    size: tuple[int, int]  # (width, height)
    steps: int


def plan_scales(
    content_size: tuple[int, int],
    options: StyleOptions,
    max_side: int,
    steps: int,
    coarse_share: float = COARSE_SHARE["cpu"],
) -> list[Scale]:
    """Long sides doubling up to the output size; each coarse scale takes ``coarse_share``
    steps per step at the output size (see engine.options.COARSE_SHARE)."""
    width, height = content_size
    long_side = min(max_side, max(width, height))
    sides = [long_side]
    multiscale = options.multiscale
    if multiscale is None:
        multiscale = long_side >= 2 * options.min_scale
    while multiscale and sides[0] // 2 >= options.min_scale:
        sides.insert(0, sides[0] // 2)
    sides = sides[-steps:]  # fewer steps than scales: drop coarse ones, never the output size
    shares = [coarse_share] * (len(sides) - 1) + [1.0]
    counts = [max(1, math.floor(steps * share / sum(shares))) for share in shares]
    counts[-1] += steps - sum(counts)
    final = _scaled(content_size, long_side / max(width, height))
    return [
        Scale(_scaled(final, side / long_side), count)
        for side, count in zip(sides, counts, strict=True)
        if count > 0
    ]


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


class Objective(nn.Module):
    """Weighted content + style + TV loss of one scale, its targets computed once."""

    def __init__(
        self,
        model: VGG19Features,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        options: StyleOptions,
        faces: Sequence[faces_.Box] = (),
    ) -> None:
        super().__init__()
        self.model = model
        self.features = Features(model, options.precision == "bf16", content.device.type)
        self.content_layers = [canonical_layer(name) for name in options.content_layers]
        self.style_layers = [canonical_layer(name) for name in options.style_layers]
        self.layers = sorted(set(self.content_layers + self.style_layers))
        layer_weights = options.style_layer_weights or (1.0,) * len(self.style_layers)
        self.style_layer_weights = [w / sum(layer_weights) for w in layer_weights]
        blend_weights = options.style_blend_weights or (1.0,) * len(styles)
        if len(blend_weights) != len(styles):
            raise ValueError("style_blend_weights needs one weight per style image")
        blend = [w / sum(blend_weights) for w in blend_weights]
        self.content_weight = options.content_weight
        self.style_weight = options.resolved_style_weight
        self.tv_weight = options.tv_weight
        # The targets in fp32 even under bf16: they are computed once, and a target rounded
        # to bf16 is one the picture would copy (style 1.2% off fp32's instead of 3.7%).
        exact = Features(model, False, content.device.type)
        with torch.no_grad():
            # every layer's size is needed only to draw the faces' masks at it
            content_features = exact(content, self.layers if faces else self.content_layers)
            inside = (
                {
                    name: faces_.mask(list(faces), (f.shape[-1], f.shape[-2]), f.device)
                    for name, f in content_features.items()
                }
                if faces
                else {}
            )
            self.content_losses = nn.ModuleList(
                ContentLoss(
                    content_features[name],
                    _weighing(inside.get(name), faces_.content_inside(self.style_weight)),
                )
                for name in self.content_layers
            )
            targets = _blended_grams(exact, styles, blend, self.style_layers)
            self.style_losses = nn.ModuleList(
                StyleLoss(targets[name], _weighing(inside.get(name), faces_.STYLE_INSIDE))
                for name in self.style_layers
            )

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        features = self.features(image, self.layers)
        content = sum(
            loss(features[name])
            for name, loss in zip(self.content_layers, self.content_losses, strict=True)
        )
        content = content / len(self.content_layers)
        style = sum(
            weight * loss(features[name])
            for name, weight, loss in zip(
                self.style_layers, self.style_layer_weights, self.style_losses, strict=True
            )
        )
        tv = tv_loss(image)
        parts = {
            "content": self.content_weight * content,
            "style": self.style_weight * style,
            "tv": self.tv_weight * tv,
        }
        total = parts["content"] + parts["style"] + parts["tv"]
        parts["total"] = total
        return total, parts


def _weighing(mask: torch.Tensor | None, inside: float) -> torch.Tensor | None:
    """Per position: 1 away from the faces, ``inside`` within them (None: no face)."""
    return None if mask is None else 1 + (inside - 1) * mask


class Features:
    """The network's features at some layers. With ``bf16`` its forward pass (and so its
    backward) runs in bfloat16 under autocast; the features come back in float32, so Gram
    matrices and losses are summed at full precision."""

    def __init__(self, model: VGG19Features, bf16: bool, device_type: str) -> None:
        self.model, self.bf16, self.device_type = model, bf16, device_type

    def __call__(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            features: dict[str, torch.Tensor] = self.model(image, layers)
        return {name: feature.float() for name, feature in features.items()}


def _blended_grams(
    model: Features,
    styles: Sequence[torch.Tensor],
    weights: Sequence[float],
    layers: Sequence[str],
) -> dict[str, torch.Tensor]:
    """Each layer's style target: the weighted sum of the style images' Gram matrices."""
    targets: dict[str, torch.Tensor] = {}
    # One style image's features at a time: several at full size would crowd a GPU.
    for weight, style in zip(weights, styles, strict=True):
        features = model(style, layers)
        for name in layers:
            weighted = weight * gram(features[name])
            targets[name] = targets[name] + weighted if name in targets else weighted
    return targets


def stylize(
    content: Image.Image,
    style: Image.Image | Sequence[Image.Image],
    options: StyleOptions | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Paint ``content`` in the style of ``style`` (one image or several to blend)."""
    options = options or StyleOptions()
    device = resolve_device(options.device)
    if options.precision is None:
        options = dataclasses.replace(options, precision=default_precision(device))
    content = images.load_image(content)
    styles = [images.load_image(s) for s in ([style] if isinstance(style, Image.Image) else style)]
    if not styles:
        raise ValueError("at least one style image is needed")
    asked = options.max_side or DEFAULT_MAX_SIDE[device.type]
    steps = options.steps or DEFAULT_STEPS[schedule_key(device.type, options.precision)]
    max_side, note = _fitting_side(content, asked, device, options)
    try:
        result = _run(content, styles, options, device, max_side, steps, on_progress, cancel)
        return dataclasses.replace(result, note=note) if note else result
    except torch.OutOfMemoryError:  # the model was wrong for once: one try at 70 %
        _release(device)
        smaller = int(max_side * OOM_RETRY_SCALE)
        logger.warning("Out of GPU memory at %d px; retrying once at %d px", max_side, smaller)
        try:
            result = _run(content, styles, options, device, smaller, steps, on_progress, cancel)
        except torch.OutOfMemoryError as error:
            _release(device)
            raise EngineError("The GPU ran out of memory, even at a smaller size.") from error
        note = f"Made at {smaller} px instead of {max_side} px: the GPU ran out of memory."
        return dataclasses.replace(result, note=note)


def _fitting_side(
    content: Image.Image, asked: int, device: torch.device, options: StyleOptions
) -> tuple[int, str | None]:
    """On a GPU, the largest size up to ``asked`` that fits in its free memory (see
    engine.memory), and a note for the user when that is smaller than asked."""
    if device.type != "cuda":
        return asked, None
    free, _total = torch.cuda.mem_get_info(device)
    side = memory.largest_side(content.size, asked, free, options.precision or "fp32")
    if side >= min(asked, max(content.size)):
        return asked, None
    logger.info("Free GPU memory (%.1f GB) fits %d px of the %d asked", free / 1e9, side, asked)
    return side, f"Made at {side} px instead of {asked} px: the GPU had no room for more."


def _release(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _initial_image(
    options: StyleOptions,
    content: torch.Tensor,
    style: Image.Image,
    size: tuple[int, int],
    device: torch.device,
) -> torch.Tensor:
    if options.init == "content":
        return content.clone()
    if options.init == "style":
        return images.to_tensor(style.resize(size, Image.Resampling.LANCZOS), device)
    generator = torch.Generator().manual_seed(options.seed if options.seed is not None else 0)
    return torch.rand(content.shape, generator=generator).to(device)


def _make_optimizer(options: StyleOptions, image: torch.Tensor) -> torch.optim.Optimizer:
    if options.optimizer == "adam":
        return torch.optim.Adam([image], lr=options.resolved_lr)
    return torch.optim.LBFGS([image], lr=options.resolved_lr, max_iter=1, history_size=50)


@dataclass(frozen=True)
class ProgressReporter:
    """Hands ``on_progress`` a ``Progress`` every ``every`` steps and at each scale's end."""

    scales: Sequence[Scale]
    every: int
    on_progress: ProgressCallback | None
    started: float  # perf_counter() when the run began

    @property
    def total(self) -> int:
        return sum(scale.steps for scale in self.scales)

    def after_step(
        self,
        scale_index: int,
        local_step: int,
        iterate: torch.Tensor,
        losses: dict[str, torch.Tensor],
    ) -> None:
        scale = self.scales[scale_index]
        done = sum(s.steps for s in self.scales[:scale_index]) + local_step + 1
        if self.on_progress is None or (done % self.every and local_step + 1 < scale.steps):
            return
        # A step costs about its pixel count: the ETA weighs the steps left by their sizes.
        work = [s.steps * s.size[0] * s.size[1] for s in self.scales]
        work_done = sum(work[:scale_index]) + (local_step + 1) * work[scale_index] / scale.steps
        elapsed = time.perf_counter() - self.started
        self.on_progress(
            Progress(
                step=done,
                total=self.total,
                scale=scale_index,
                scales=len(self.scales),
                size=scale.size,
                losses={k: float(v) for k, v in losses.items()},
                elapsed=elapsed,
                eta=elapsed * (sum(work) - work_done) / work_done,
                preview=_preview(iterate),
            )
        )


def _run(
    content: Image.Image,
    styles: list[Image.Image],
    options: StyleOptions,
    device: torch.device,
    max_side: int,
    steps: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Result:
    started = time.perf_counter()
    if options.seed is not None:
        torch.manual_seed(options.seed)
    model = get_model(device, options.weights, options.pooling)
    share = COARSE_SHARE[schedule_key(device.type, options.precision)]
    scales = plan_scales(content.size, options, max_side, steps, share)
    reporter = ProgressReporter(scales, options.progress_every, on_progress, started)
    found = faces_.find(content) if options.keep_faces else []
    image: torch.Tensor | None = None
    parts: dict[str, torch.Tensor] = {}
    try:
        with cudnn_autotune(device):
            for index, scale in enumerate(scales):
                objective, image = _prepare_scale(
                    model, content, styles, options, scale, image, device, found
                )
                after_step = functools.partial(reporter.after_step, index)
                image, parts = _descend(objective, image, scale.steps, options, cancel, after_step)
                del objective
        assert image is not None
        result_image = images.to_image(image)
        if options.preserve_colors:
            result_image = images.keep_luminance_only(result_image, content)
        elif found:
            result_image = faces_.keep_colours(result_image, content, found)
        return Result(
            image=result_image,
            options=options,
            steps=reporter.total,
            elapsed=time.perf_counter() - started,
            losses={k: float(v) for k, v in parts.items()},
            device=str(device),
            faces=len(found),
        )
    finally:
        # Drop the iterate now, even when cancelled or out of memory.
        image = None
        _release(device)


@contextlib.contextmanager
def cudnn_autotune(device: torch.device) -> Iterator[None]:
    """cuDNN picks the fastest kernels for this run's sizes; the global flag is put back after,
    so whatever runs next (another job, a benchmark's contender) finds it as it was."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = previous or device.type == "cuda"
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def _prepare_scale(
    model: VGG19Features,
    content: Image.Image,
    styles: Sequence[Image.Image],
    options: StyleOptions,
    scale: Scale,
    previous: torch.Tensor | None,
    device: torch.device,
    faces: Sequence[faces_.Box] = (),
) -> tuple[Objective, torch.Tensor]:
    """One scale's objective, and its first iterate: the previous scale's result, enlarged."""
    content_t = images.to_tensor(content.resize(scale.size, Image.Resampling.LANCZOS), device)
    # style_scale sizes the style relative to the result: its area grows with the square.
    style_area = scale.size[0] * scale.size[1] * options.style_scale**2
    style_ts = [images.to_tensor(images.fit_area(s, style_area), device) for s in styles]
    if options.preserve_colors:
        style_ts = [images.match_colors(s, content_t) for s in style_ts]
    objective = Objective(model, content_t, style_ts, options, faces)
    if previous is None:
        return objective, _initial_image(options, content_t, styles[0], scale.size, device)
    return objective, images.resize_tensor(previous, scale.size)


StepCallback = Callable[[int, torch.Tensor, dict[str, torch.Tensor]], None]


def _descend(
    objective: Objective,
    image: torch.Tensor,
    steps: int,
    options: StyleOptions,
    cancel: threading.Event | None,
    after_step: StepCallback,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Optimise the pixels of one scale; checks ``cancel`` before every step."""
    image = image.detach().contiguous().requires_grad_(True)
    optimizer = _make_optimizer(options, image)
    parts: dict[str, torch.Tensor] = {}

    def closure() -> float:
        nonlocal parts
        optimizer.zero_grad(set_to_none=True)
        total, losses = objective(image)
        total.backward()
        parts = {name: value.detach() for name, value in losses.items()}
        # A float, as Optimizer.step asks: L-BFGS converts the loss to one itself.
        return float(total.detach())

    for local_step in range(steps):
        if cancel is not None and cancel.is_set():
            raise RunCancelled()
        optimizer.step(closure)
        with torch.no_grad():  # keep a displayable image: clipping at the end would distort it
            image.clamp_(0, 1)
        after_step(local_step, image, parts)
    return image.detach(), parts


def _preview(image: torch.Tensor) -> Callable[[], Image.Image]:
    """A snapshot now, decoded only if someone looks: the loop goes on changing ``image``."""
    snapshot = image.detach().clone()
    return lambda: images.to_image(snapshot)
