"""The GPU path's parts that can be checked without a GPU: the memory model, bf16 autocast,
the device choice and cuDNN's global flag. The figures themselves need a GPU (see
tests/test_engine_gpu.py, skipped without CUDA, and benchmarks/RESULTS.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine import StyleOptions, images, stylize
from engine.memory import bytes_per_pixel, largest_side, peak_bytes
from engine.optimize import Objective, cudnn_autotune, resolve_device
from engine.vgg import get_model
from tests.pictures import gradient, stripes

GB = 1024**3


def test_a_smaller_budget_never_gives_a_larger_picture():
    photo = (4000, 3000)
    sides = [largest_side(photo, 2048, budget * GB) for budget in (80, 40, 20, 10, 5, 2)]
    assert sides[0] == 2048  # an H100's 80 GB: the size asked
    assert sides == sorted(sides, reverse=True) and sides[-1] < sides[0]
    for budget, side in zip((40, 20, 10, 5, 2), sides[1:], strict=True):
        width, height = side, round(side * 3 / 4)
        assert peak_bytes((width, height)) <= 0.85 * budget * GB  # it fits, by the model


def test_never_larger_than_asked_nor_than_the_photo():
    assert largest_side((4000, 3000), 512, 80 * GB) == 512
    assert largest_side((300, 200), 2048, 80 * GB) == 300  # photos are never upscaled
    assert largest_side((4000, 3000), 2048, 0) == 32  # nothing fits: the OOM path decides


def test_bf16_needs_less_memory_per_pixel():
    assert bytes_per_pixel("bf16") < bytes_per_pixel("fp32")


@pytest.mark.slow
def test_bf16_autocast_paints_as_well_as_fp32():
    """L-BFGS amplifies bfloat16's rounding, so pixels drift; the fair test is the common
    evaluator: the same objective, in fp32, reached as well (here: 5.50 against 5.77)."""
    plain = StyleOptions(device="cpu", max_side=64, steps=12, seed=0, precision="fp32")
    photo, painting = gradient(64, 48), stripes(64, 64)
    fp32 = stylize(photo, painting, plain)
    bf16 = stylize(photo, painting, dataclasses.replace(plain, precision="bf16"))
    cpu = torch.device("cpu")
    evaluator = Objective(
        get_model(cpu),
        images.to_tensor(photo, cpu),
        [images.to_tensor(images.fit_area(painting, 64 * 48), cpu)],
        plain,
    )
    with torch.no_grad():
        scores = [float(evaluator(images.to_tensor(r.image, cpu))[0]) for r in (fp32, bf16)]
    assert scores[1] <= scores[0] * 1.15, scores
    a, b = (np.asarray(r.image, dtype=np.float32) for r in (fp32, bf16))
    moved = np.abs(a - np.asarray(photo, dtype=np.float32)).mean()
    assert 0 < np.abs(a - b).mean() < moved / 2  # bf16 really ran; the picture is the same


def test_auto_picks_cuda_then_apples_gpu_then_the_cpu(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto").type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"


def test_cudnn_autotuning_is_on_for_a_gpu_run_and_put_back_after():
    flags = torch.backends.cudnn
    before = flags.benchmark
    flags.benchmark = False
    try:
        seen = []
        with cudnn_autotune(torch.device("cuda")):
            seen.append(flags.benchmark)
        seen.append(flags.benchmark)
        with cudnn_autotune(torch.device("cpu")):
            seen.append(flags.benchmark)
        assert seen == [True, False, False]
    finally:
        flags.benchmark = before
