"""On a CUDA GPU only: the engine's GPU path, measured against its own memory model.

Skipped, with the reason, where there is no CUDA (as on the project's CI machine). Run on a
GPU machine with ``make test PYTEST_ARGS=tests/test_engine_gpu.py``.
"""

from __future__ import annotations

import pytest
import torch

from engine import StyleOptions, stylize
from engine.memory import peak_bytes
from tests.pictures import gradient, stripes

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_gpu_run_stays_within_the_memory_model(precision):
    torch.cuda.reset_peak_memory_stats()
    options = StyleOptions(device="cuda", max_side=512, steps=20, precision=precision)
    result = stylize(gradient(640, 480), stripes(512, 512), options)
    assert result.image.size == (512, 384) and result.note is None
    peak = torch.cuda.max_memory_allocated()
    assert peak <= peak_bytes(result.image.size, precision), peak


def test_a_small_free_memory_makes_a_smaller_picture_and_says_so(monkeypatch):
    free = peak_bytes((640, 480)) / 0.85  # room, by the model, for 640 px
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (int(free), int(free)))
    options = StyleOptions(device="cuda", max_side=1024, steps=4)
    result = stylize(gradient(2000, 1500), stripes(512, 512), options)
    assert max(result.image.size) <= 640 and result.note is not None
    assert "no room" in result.note
