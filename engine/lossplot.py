"""A small PNG chart of the loss curves, drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw

COLOURS = {
    "total": (20, 20, 20),
    "content": (31, 119, 180),
    "style": (214, 39, 40),
    "tv": (44, 160, 44),
}
WIDTH, HEIGHT, MARGIN = 820, 440, 60
LEGEND = 130  # the legend sits right of the plot, never over a curve


def plot_losses(
    history: Sequence[tuple[int, Mapping[str, float]]], scale_starts: Sequence[int] = ()
) -> Image.Image:
    """Loss against step on a log axis; dashed lines mark where a finer scale began."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = MARGIN, 40, WIDTH - LEGEND, HEIGHT - MARGIN
    draw.text((8, 12), "loss (weighted, as optimised; log scale)", fill="black")
    draw.rectangle((left, top, right, bottom), outline=(120, 120, 120))
    values = [v for _, losses in history for v in losses.values() if v > 0]
    if not history or not values:
        draw.text((left + 10, top + 10), "no losses recorded", fill="black")
        return image
    last_step = max(step for step, _ in history) or 1
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    high = max(high, low + 1)

    def x(step: float) -> float:
        return left + (right - left) * step / last_step

    def y(value: float) -> float:
        return bottom - (bottom - top) * (math.log10(value) - low) / (high - low)

    for exponent in range(low, high + 1):
        draw.line((left, y(10**exponent), right, y(10**exponent)), fill=(225, 225, 225))
        draw.text((8, y(10**exponent) - 6), f"1e{exponent}", fill="black")
    for step in scale_starts:
        for start in range(top, bottom, 8):
            draw.line((x(step), start, x(step), min(start + 4, bottom)), fill=(150, 150, 150))
        draw.text((x(step) + 4, top + 4), "finer scale", fill=(110, 110, 110))
    for tick in range(0, last_step + 1, max(1, last_step // 5)):
        draw.text((x(tick) - 8, bottom + 6), str(tick), fill="black")
    draw.text(((left + right) // 2 - 12, bottom + 24), "step", fill="black")
    for index, (name, colour) in enumerate(COLOURS.items()):
        points = [(x(step), y(losses[name])) for step, losses in history if losses.get(name, 0) > 0]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        row = top + 14 + 18 * index
        draw.line((right + 16, row, right + 36, row), fill=colour, width=3)
        draw.text((right + 42, row - 6), name, fill="black")
    if scale_starts:
        row = top + 14 + 18 * len(COLOURS)
        for start in range(right + 16, right + 36, 6):
            draw.line((start, row, start + 3, row), fill=(150, 150, 150))
        draw.text((right + 42, row - 6), "scale change", fill="black")
    return image
