"""The making-of film on its own (``engine.makingof``): which steps of a run become frames,
and the GIF they make: its size, its timing, its end on the finished picture, and how it is
made to fit Telegram's cap. No optimisation runs: the frames are plain colours."""

from __future__ import annotations

import functools
import io
import random
import time
from collections.abc import Callable

import pytest
from PIL import Image, ImageSequence

from engine import makingof
from engine.options import Progress

#: Colours far apart, so that every frame survives the GIF's palette as itself.
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def progress(step: int, total: int, preview: Callable[[], Image.Image]) -> Progress:
    return Progress(step, total, 0, 1, (64, 48), {}, 0.0, 0.0, preview)


def recorded_steps(total: int, reported: range) -> list[int]:
    """The steps a recorder keeps of a run of ``total`` steps that reports ``reported``."""
    recorder = makingof.FrameRecorder()
    for step in reported:
        shot = functools.partial(Image.new, "RGB", (step + 1, 1))  # its width names its step
        recorder(progress(step, total, shot))
    return [shot().width - 1 for shot in recorder.snapshots]


def test_frames_are_kept_at_evenly_spaced_steps_about_frames_of_them() -> None:
    total = 10 * makingof.FRAMES  # a frame every ten steps
    assert recorded_steps(total, range(1, total + 1)) == list(range(1, total + 1, 10))
    assert recorded_steps(total, range(total + 1)) == list(range(0, total + 1, 10))
    # a report every 7 steps: each frame at the first report at least ten steps further on
    assert recorded_steps(total, range(7, total + 1, 7))[:4] == [7, 21, 35, 49]
    # fewer steps than frames: every one of them
    assert recorded_steps(12, range(1, 13)) == list(range(1, 13))


def solid(colour: tuple[int, int, int], size: tuple[int, int]) -> Callable[[], Image.Image]:
    return lambda: Image.new("RGB", size, colour)


def colour_at(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    return tuple(int(channel) for channel in pixel)


def frames_of(film: bytes) -> list[tuple[tuple[int, ...], int]]:
    """Each frame's colour (at its centre) and duration in milliseconds."""
    with Image.open(io.BytesIO(film)) as gif:
        assert gif.format == "GIF" and gif.info["loop"] == 0  # it plays again and again
        return [
            (colour_at(frame, frame.width // 2, frame.height // 2), frame.info["duration"])
            for frame in ImageSequence.Iterator(gif)
        ]


def test_the_film_is_one_size_lasts_five_seconds_and_ends_on_the_finished_picture() -> None:
    recorder = makingof.FrameRecorder()
    # coarse stages are smaller pictures: each frame is scaled to the film's one size
    recorder.snapshots = [solid(COLOURS[n], (40 * (n + 1), 30 * (n + 1))) for n in range(4)]
    film = recorder.film(Image.new("RGB", (640, 480), COLOURS[4]))
    assert film is not None
    with Image.open(io.BytesIO(film)) as gif:
        assert gif.size == (makingof.SIDE, 240)  # the longest side at SIDE, the shape kept
        sizes = {frame.size for frame in ImageSequence.Iterator(gif)}
        assert sizes == {(makingof.SIDE, 240)}
    # four frames share four seconds; the finished picture stays on screen one more
    assert frames_of(film) == [(COLOURS[n], 1000) for n in range(4)] + [(COLOURS[4], 1000)]


def test_a_small_picture_is_not_blown_up_and_a_single_frame_still_makes_a_film() -> None:
    recorder = makingof.FrameRecorder()
    recorder.snapshots = [solid(COLOURS[0], (20, 10))]
    final = Image.new("RGB", (100, 50), COLOURS[1])
    film = recorder.film(final)
    assert film is not None
    with Image.open(io.BytesIO(film)) as gif:
        assert gif.size == (100, 50)
    assert frames_of(film) == [(COLOURS[0], 4000), (COLOURS[1], 1000)]
    assert final.size == (100, 50)  # the finished picture itself is left as it was


def test_a_run_that_gave_no_frame_has_no_film() -> None:
    assert makingof.FrameRecorder().film(Image.new("RGB", (64, 64))) is None


@pytest.mark.parametrize(
    ("cap", "kept"),
    [
        (41, list(range(40))),  # everything fits
        (40, list(range(0, 40, 2))),  # half the frames: every other one
        (21, list(range(0, 40, 2))),  # exactly at the cap fits
        (20, list(range(0, 40, 4))),  # a quarter
        (10, [0]),  # the first frame and the finished picture, at least
        (2, [0]),
        (1, None),  # not even that fits: no film
    ],
)
def test_a_film_too_big_for_telegram_keeps_fewer_frames_until_it_fits(
    monkeypatch: pytest.MonkeyPatch, cap: int, kept: list[int] | None
) -> None:
    """The shrinking on its own: a "GIF" here is a byte a frame, so each try's size is known,
    and each frame is a grey as light as its number, so each try's frames are known."""
    tried: list[list[int]] = []

    def gif(frames: list[Image.Image]) -> bytes:
        tried.append([colour_at(frame, 0, 0)[0] for frame in frames])
        return bytes(len(frames))

    monkeypatch.setattr(makingof, "_gif", gif)
    monkeypatch.setattr(makingof, "MAX_BYTES", cap)
    recorder = makingof.FrameRecorder()
    recorder.snapshots = [solid((n, n, n), (8, 8)) for n in range(40)]
    film = recorder.film(Image.new("RGB", (8, 8), (255, 255, 255)))
    assert [len(frames) - 1 for frames in tried] == [40, 20, 10, 1][: len(tried)]
    if kept is None:
        assert film is None and len(tried) == 4
    else:
        assert film == bytes(len(kept) + 1)
        assert tried[-1] == [*kept, 255]  # evenly spread, ending on the finished picture


def photo_like(seed: int) -> Image.Image:
    """A frame with a photo's many colours: a gradient under noise."""
    noise = Image.frombytes("RGB", (320, 240), random.Random(seed).randbytes(320 * 240 * 3))
    gradient = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    return Image.blend(gradient, noise, 0.3)


def test_a_whole_run_is_filmed_in_well_under_a_second() -> None:
    """The module's promise (a few tens of milliseconds): a fast quantiser, about 5 ms for
    these frames, where Pillow's default takes about 100 ms each, over 3 s for the film."""
    recorder = makingof.FrameRecorder()
    recorder.snapshots = [functools.partial(photo_like, seed) for seed in range(makingof.FRAMES)]
    final = photo_like(makingof.FRAMES)
    began = time.perf_counter()
    film = recorder.film(final)
    took = time.perf_counter() - began
    assert film is not None and len(film) <= makingof.MAX_BYTES
    assert took < 1.5, f"{took:.2f} s"


def test_frames_that_hardly_change_cost_hardly_anything() -> None:
    """A painting converges: late frames differ from the one before in a few places. The
    palette leaves GIF room for "unchanged" (a transparent colour), so each frame stores only
    what moved and the film stays far below the cap instead of a full picture a frame."""
    picture = photo_like(0)

    def moved(step: int) -> Image.Image:
        frame = picture.copy()
        frame.paste((255, 0, 0), (5 * step, 0, 5 * step + 20, 20))
        return frame

    def film_of(frames: int) -> bytes:
        recorder = makingof.FrameRecorder()
        recorder.snapshots = [functools.partial(moved, step) for step in range(frames)]
        film = recorder.film(moved(frames))
        assert film is not None
        return film

    one_frame, whole_run = film_of(1), film_of(makingof.FRAMES)
    assert len(whole_run) < 3 * len(one_frame), (len(whole_run), len(one_frame))
