"""Timing and memory helpers that read the same on CPU and GPU."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from engine import StyleOptions
from engine.vgg import get_model


def sync(device: torch.device) -> None:
    """GPU work is asynchronous: a timer read without a sync measures only the launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Wall time of a contender that leaves out the spans spent scoring it for a trace."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        sync(device)
        self.started = time.perf_counter()
        self.excluded = 0.0

    @contextmanager
    def excluding(self) -> Iterator[None]:
        sync(self.device)  # work queued before the span is the contender's, not the span's
        began = time.perf_counter()
        try:
            yield
        finally:
            self.excluded += time.perf_counter() - began

    def elapsed(self) -> float:
        sync(self.device)
        return time.perf_counter() - self.started - self.excluded


@dataclass
class Peak:
    megabytes: float = 0.0


@contextmanager
def peak_memory(device: torch.device, interval: float = 0.05) -> Iterator[Peak]:
    """Peak of ``max_memory_allocated`` on GPU, of the process RSS (sampled) on CPU."""
    peak = Peak()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        yield peak
        peak.megabytes = torch.cuda.max_memory_allocated(device) / 2**20
        return
    import psutil  # the `bench` extra; only the CPU path needs it

    process = psutil.Process()
    done = threading.Event()

    def sample() -> None:
        while True:
            peak.megabytes = max(peak.megabytes, process.memory_info().rss / 2**20)
            if done.wait(interval):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def floor_seconds(size: tuple[int, int], device: torch.device, repeats: int = 3) -> float:
    """One bare VGG19 forward+backward to the deepest layer the engine uses (the median)."""
    options = StyleOptions()
    layers = list(options.content_layers) + list(options.style_layers)
    model = get_model(device)
    image = torch.rand(1, 3, size[1], size[0], device=device, requires_grad=True)
    timings = []
    for attempt in range(repeats + 1):
        clock = Stopwatch(device)
        features = model(image, layers)
        sum(f.sum() for f in features.values()).backward()
        elapsed = clock.elapsed()
        if attempt:  # the first run warms caches and allocators
            timings.append(elapsed)
        image.grad = None
    return statistics.median(timings)
