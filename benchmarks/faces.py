"""``python -m benchmarks.faces``: does keeping faces keep the person, and cost the rest?

Each portrait is painted at Light, Medium and Strong, with face keeping and without, side by
side in one process, and scored by the same network the engine uses (fp32, at the output size):

- **face content**: the relative content loss (``conv4_2``) inside the face boxes only: how far
  the eyes, mouth and skin moved from the photo (lower is closer);
- **style outside**: the relative Gram loss over every style layer, with the picture's Gram
  matrices taken outside the faces only, and its **movement**: the photo's own style-outside
  loss minus the picture's — how far the rest moved toward the style. The goal: with keeping,
  at least 0.9× the movement without.

``--cost`` measures, on a quiet machine, what keeping costs: the default job with and without
it in interleaved rounds, on the portraits and on a photo without a face, and the detector
alone.
The portraits are public domain and need no download: NASA's Eileen Collins and Lav Varshney's
cameraman (CC0, his face turned aside), both bundled with scikit-image; the two side by side
as a group; and Metzinger's cubist Portrait of Metzinger from the bot's gallery (a painted
face). Sheets go to ``--sheets``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from engine import Strength, StyleOptions, faces, images, stylize
from engine.faces import Box
from engine.losses import StyleLoss, gram
from engine.optimize import Features, resolve_device
from engine.options import DEFAULT_MAX_SIDE
from engine.vgg import canonical_layer, get_model

from .report import machine, replace_section
from .suite import contact_sheet, output_size

HERE = Path(__file__).resolve().parent
GALLERY = HERE.parent / "bot" / "gallery"
TARGET_MOVEMENT = 0.9  # style movement outside the faces, kept / not kept


def _astronaut() -> Image.Image:
    from skimage import data  # the benchmark's own dependency (pip install .[bench])

    return Image.fromarray(data.astronaut())  # type: ignore[no-untyped-call]


def _cameraman() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.camera()).convert("RGB")  # type: ignore[no-untyped-call]


def _group() -> Image.Image:
    left, right = _astronaut(), _cameraman()
    group = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    group.paste(left, (0, 0))
    group.paste(right, (left.width, 0))
    return group


def _gallery(name: str) -> Callable[[], Image.Image]:
    return lambda: images.load_image(GALLERY / f"{name}.jpg")


PORTRAITS: dict[str, Callable[[], Image.Image]] = {
    "astronaut": _astronaut,
    "cameraman": _cameraman,
    "group": _group,
    "metzinger": _gallery("portrait_of_metzinger"),
}
STYLES: dict[str, Callable[[], Image.Image]] = {
    "the_kiss": _gallery("the_kiss"),
    "great_wave": _gallery("great_wave"),
}

#: Each portrait once, the photo under both styles: about 10 minutes on a 2-core CPU.
DEFAULT_PAIRS = (
    "astronaut+the_kiss",
    "astronaut+great_wave",
    "cameraman+great_wave",
    "group+the_kiss",
    "metzinger+great_wave",
)


def box_mask(boxes: list[Box], size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(1, 1, H, W): 1 inside any box, else 0 (hard edges: what is measured is the box)."""
    width, height = size
    mask = torch.zeros(1, 1, height, width, device=device)
    for box in boxes:
        top, bottom = (
            int(box.top * height),
            max(int(box.top * height) + 1, round((box.top + box.height) * height)),
        )
        left, right = (
            int(box.left * width),
            max(int(box.left * width) + 1, round((box.left + box.width) * width)),
        )
        mask[..., top:bottom, left:right] = 1
    return mask


@dataclass(frozen=True)
class FaceScore:
    face_content: float
    style_outside: float


class FaceScorer:
    """Scores pictures of one portrait against its photo and one style, by region."""

    def __init__(
        self, photo: Image.Image, style: Image.Image, size: tuple[int, int], device: torch.device
    ) -> None:
        self.size, self.device = size, device
        self.features = Features(get_model(device), False, device.type)
        options = StyleOptions()
        self.content_layer = canonical_layer(options.content_layers[0])
        self.style_layers = [canonical_layer(name) for name in options.style_layers]
        self.boxes = faces.find(photo)
        photo_t = images.to_tensor(photo.resize(size, Image.Resampling.LANCZOS), device)
        style_t = images.to_tensor(images.fit_area(style, size[0] * size[1]), device)
        with torch.no_grad():
            target = self.features(photo_t, [self.content_layer])[self.content_layer]
            self.target = target
            self.inside = box_mask(self.boxes, (target.shape[-1], target.shape[-2]), device)
            grams = self.features(style_t, self.style_layers)
            self.style = {}
            for name, feature in self.features(photo_t, self.style_layers).items():
                outside = 1 - box_mask(self.boxes, (feature.shape[-1], feature.shape[-2]), device)
                self.style[name] = StyleLoss(gram(grams[name]), outside.clamp_min(1e-12))
        self.photo = self.score(photo)

    @torch.no_grad()
    def score(self, picture: Image.Image) -> FaceScore:
        picture_t = images.to_tensor(
            picture.resize(self.size, Image.Resampling.LANCZOS), self.device
        )
        features = self.features(picture_t, [self.content_layer, *self.style_layers])
        # the face's own error, relative to the face's own features
        error = (features[self.content_layer] - self.target).pow(2) * self.inside
        content = error.sum() / (self.target.pow(2) * self.inside).sum().clamp_min(1e-8)
        style = statistics.fmean(float(loss(features[name])) for name, loss in self.style.items())
        return FaceScore(float(content), style)


@dataclass(frozen=True)
class Row:
    portrait: str
    style: str
    strength: Strength
    kept: bool
    faces: int
    seconds: float
    face_content: float
    style_outside: float
    movement: float  # the photo's style-outside loss minus the picture's


def detector_ms(picture: Image.Image, side: int, repeats: int = 5) -> float:
    """The median time of ``faces.find`` on ``picture`` as a painter hands it over (decoded
    at most four times the output size)."""
    picture = picture.copy()
    picture.thumbnail((4 * side, 4 * side))
    faces.find(picture)  # the cascades load once per process
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        faces.find(picture)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def run_portrait(
    name: str,
    style_name: str,
    side: int,
    device: torch.device,
    steps: int | None,
    sheets: Path,
    log: Callable[[str], None],
) -> list[Row]:
    photo, style = PORTRAITS[name](), STYLES[style_name]()
    size = output_size(photo, side)
    scorer = FaceScorer(photo, style, size, device)
    rows, tiles = [], {"photo": photo, "style": style}
    for strength in Strength:
        for kept in (False, True):
            options = StyleOptions(
                device=str(device), max_side=side, steps=steps, strength=strength, keep_faces=kept
            )
            began = time.perf_counter()
            result = stylize(photo, style, options)
            seconds = time.perf_counter() - began
            score = scorer.score(result.image)
            row = Row(
                name,
                style_name,
                strength,
                kept,
                result.faces,
                seconds,
                score.face_content,
                score.style_outside,
                scorer.photo.style_outside - score.style_outside,
            )
            rows.append(row)
            tiles[f"{strength.value} {'kept' if kept else 'not kept'}"] = result.image
            log(
                f"  {name}+{style_name} {strength.value:6} kept={kept!s:5} faces {result.faces} "
                f"{seconds:5.1f} s face content {row.face_content:.3f} movement {row.movement:.4f}",
            )
    contact_sheet(tiles, sheets / f"faces-{name}-{style_name}.jpg", height=min(size[1], 256))
    return rows


def _say(line: str) -> None:
    print(line, flush=True)  # a long run: each line as it comes, even into a file


def section(device: torch.device, command: str, rows: list[Row], total_s: float) -> str:
    lines = [
        "## Keeping faces (`python -m benchmarks.faces`)",
        "",
        *machine(device),
        "",
        f"`{command}`, whole run {total_s / 60:.1f} min. Face content: the relative content "
        "loss inside the face boxes (lower: closer to the photo). Style outside: the relative "
        "Gram loss outside them; movement: the photo's minus the picture's. What keeping "
        "costs in time: the next section.",
        "",
        "| portrait | style | strength | faces kept | face content | style outside "
        "| movement | movement kept / not |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for off, on in zip(rows[::2], rows[1::2], strict=True):
        ratio = on.movement / off.movement if off.movement > 0 else float("nan")
        for row in (off, on):
            shown = f"{ratio:.2f}" if row is on else ""
            lines.append(
                f"| {row.portrait} | {row.style} | {row.strength.value} | "
                f"{row.faces if row.kept else '—'} | {row.face_content:.3f} "
                f"| {row.style_outside:.4f} | {row.movement:.4f} | {shown} |"
            )
        verdicts.append(ratio)
    met = all(ratio >= TARGET_MOVEMENT for ratio in verdicts)
    lines += [
        "",
        f"Style movement outside the faces, kept / not kept: from {min(verdicts):.2f}× to "
        f"{max(verdicts):.2f}× (target ≥ {TARGET_MOVEMENT}): {'met' if met else 'MISSED'}.",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Cost:
    """The default job on one photo, keeping faces and not, in interleaved rounds."""

    photo: str
    faces: int
    detector_ms: float
    off_s: list[float]
    on_s: list[float]


def measure_cost(
    name: str, photo: Image.Image, style: Image.Image, base: StyleOptions, rounds: int
) -> Cost:
    """off, on; then on, off; …: a machine that slows down slows both alike."""
    side = base.max_side or DEFAULT_MAX_SIDE[resolve_device(base.device).type]
    times: dict[bool, list[float]] = {False: [], True: []}
    faces_kept = 0
    for round_ in range(rounds):
        for kept in (False, True) if round_ % 2 == 0 else (True, False):
            began = time.perf_counter()
            result = stylize(photo, style, dataclasses.replace(base, keep_faces=kept))
            times[kept].append(time.perf_counter() - began)
            faces_kept = max(faces_kept, result.faces)
            _say(f"  {name} kept={kept!s:5} {times[kept][-1]:5.1f} s")
    return Cost(name, faces_kept, detector_ms(photo, side), times[False], times[True])


def cost_section(device: torch.device, command: str, costs: list[Cost]) -> str:
    lines = [
        "## What keeping faces costs (`python -m benchmarks.faces --cost`)",
        "",
        *machine(device),
        "",
        f"`{command}`: the default job (The Great Wave, Medium) with keeping faces and "
        "without, in interleaved rounds; the detector alone on the photo as a painter gets it "
        "(median of 5).",
        "",
        "| photo | faces | detector ms | without keeping s | with keeping s | with / without |",
        "|---|---:|---:|---|---|---:|",
    ]
    for cost in costs:
        ratio = statistics.median(cost.on_s) / statistics.median(cost.off_s)
        lines.append(
            f"| {cost.photo} | {cost.faces} | {cost.detector_ms:.0f} | "
            f"{', '.join(f'{s:.1f}' for s in cost.off_s)} | "
            f"{', '.join(f'{s:.1f}' for s in cost.on_s)} | {ratio:.2f} |"
        )
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.faces",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--pairs", default=",".join(DEFAULT_PAIRS), help="portrait+style, comma-separated")
    add("--size", type=int, default=None, help="long side (default: the device's default)")
    add("--steps", type=int, default=None, help="steps (default: the engine's)")
    add("--device", default="auto")
    add("--cost", action="store_true", help="only what keeping costs in time (a quiet machine)")
    add("--rounds", type=int, default=2, help="--cost: interleaved rounds on each photo")
    add("--faceless", type=Path, default=HERE.parent.parent / "shared" / "images" / "tubingen.jpg")
    add("--sheets", type=Path, default=HERE / "out", help="where the side-by-side sheets go")
    add("--results", type=Path, default=HERE / "RESULTS.md", help="its section is replaced")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    device = resolve_device(args.device)
    side = args.size or DEFAULT_MAX_SIDE[device.type]
    pairs = [pair.split("+") for pair in args.pairs.split(",") if pair.strip()]
    unknown = [p for p, s in pairs if p not in PORTRAITS] + [s for _, s in pairs if s not in STYLES]
    if unknown:
        print(f"benchmarks.faces: unknown {', '.join(unknown)}", file=sys.stderr)
        return 2
    command = "python -m benchmarks.faces " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.cost:
        photos = {name: PORTRAITS[name]() for name in dict.fromkeys(p for p, _ in pairs)}
        if args.faceless.is_file():
            photos[f"{args.faceless.stem} (no face)"] = images.load_image(args.faceless)
        style = STYLES["great_wave"]()
        base = StyleOptions(device=str(device), max_side=args.size, steps=args.steps)
        costs = [measure_cost(n, p, style, base, args.rounds) for n, p in photos.items()]
        text = cost_section(device, command.strip(), costs)
        replace_section(args.results, text, "faces-cost")
        print(text)
        return 0
    args.sheets.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows: list[Row] = []
    for portrait, style in pairs:
        print(f"{portrait}+{style} at {side} px")
        rows += run_portrait(portrait, style, side, device, args.steps, args.sheets, _say)
    total = time.perf_counter() - started
    text = section(device, command.strip(), rows, total)
    replace_section(args.results, text, "faces")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
