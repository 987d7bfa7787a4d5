"""Where the faces are, so that the painting keeps the person (issue 24).

The detector is OpenCV's Haar cascades, which ship inside ``opencv-python-headless`` 4.x
(nothing is downloaded; 5.x no longer bundles them): the frontal ``alt2`` cascade, and the
profile one on the photo and on its mirror image for faces turned either way. Chosen for the
install (one 50 MB wheel beside PyTorch's 5 GB, no runtime of its own) and the speed (tens of
milliseconds on a CPU, against a 15 s painting); MTCNN's PyTorch package pins an old torch,
MediaPipe brings its own runtime, and YuNet's model is in no package. Of the frontal
cascades, ``alt2`` found every face of our portraits and none in the paintings and photos
without one (``default`` saw faces in The Starry Night, The Scream and Tübingen's river);
what it finds and misses: docs/engine.md.

A face is a ``Box`` in fractions of the picture, so one detection serves every scale of the
run; ``mask`` draws the boxes at any size as feathered ellipses that also cover the forehead
and chin the cascade's square leaves out.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from PIL import Image

from . import images

#: The photo is searched at this long side: a face of 20 px there (4 % of a 512 px side) is
#: still found, and the search costs a fraction of a second whatever the photo's size (at
#: 640 px it found no more and took twice as long).
DETECT_SIDE = 512
SMALLEST_FACE = 0.04  # of the photo's shorter side; smaller ones are a few pixels of a painting
SAME_FACE = 0.3  # two boxes overlapping this much (intersection over the smaller) are one face
#: The cascade's square runs from the brows to the lips: the ellipse drawn around it reaches
#: the forehead and the chin, and fades out over its outer ``FEATHER`` of the radius.
WIDEN, HEIGHTEN, LOWER, FEATHER = 1.0, 1.3, 0.05, 0.35

#: Inside a face the content's error weighs this many times what it weighs elsewhere (at
#: Medium's style weight and below; in step with the style weight above it), and the face
#: takes this share in the picture's style statistics: the eyes, mouth and skin stay the
#: person's while hair, clothes and background take the full style (benchmarks/RESULTS.md).
CONTENT_INSIDE = 10.0
STYLE_INSIDE = 0.2
BALANCED_STYLE_WEIGHT = 10.0  # Medium's

#: Each cascade, whether it also looks at the mirror image, and how many overlapping hits make
#: a face (fewer finds faces in brushstrokes, more loses the turned ones).
_SEARCHES = (
    ("haarcascade_frontalface_alt2.xml", False, 4),
    ("haarcascade_profileface.xml", False, 5),
    ("haarcascade_profileface.xml", True, 5),
)
_lock = threading.Lock()  # a cascade object is not safe to share between threads


@dataclass(frozen=True)
class Box:
    """One face: left, top, width and height as fractions of the picture's width and height."""

    left: float
    top: float
    width: float
    height: float

    def overlap(self, other: Box) -> float:
        """The intersection as a share of the smaller box's area."""
        across = min(self.left + self.width, other.left + other.width) - max(self.left, other.left)
        down = min(self.top + self.height, other.top + other.height) - max(self.top, other.top)
        smaller = min(self.width * self.height, other.width * other.height)
        return max(0.0, across) * max(0.0, down) / smaller if smaller > 0 else 0.0


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV has no {name}: install opencv-python-headless 4.x")
    return cascade


def find(image: Image.Image) -> list[Box]:
    """The faces in ``image``, largest first: frontal, and turned to either side."""
    small = image.convert("L")  # not equalised: a plain background would squash the face
    small.thumbnail((DETECT_SIDE, DETECT_SIDE), Image.Resampling.BILINEAR)
    gray = np.asarray(small)
    width, height = small.size
    least = max(12, round(SMALLEST_FACE * min(width, height)))
    found: list[Box] = []
    with _lock:
        for name, mirrored, neighbours in _SEARCHES:
            pixels = np.ascontiguousarray(gray[:, ::-1]) if mirrored else gray
            hits = _cascade(name).detectMultiScale(
                pixels, scaleFactor=1.1, minNeighbors=neighbours, minSize=(least, least)
            )
            for x, y, w, h in np.asarray(hits).reshape(-1, 4).tolist():
                left = width - x - w if mirrored else x
                found.append(Box(left / width, y / height, w / width, h / height))
    found.sort(key=lambda box: box.width * box.height, reverse=True)
    faces: list[Box] = []
    for box in found:  # the largest of each cluster stands for the face
        if all(box.overlap(kept) < SAME_FACE for kept in faces):
            faces.append(box)
    return faces


def mask(faces: list[Box], size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(1, 1, H, W): 1 inside each face, 0 away from all, a smooth fall between."""
    width, height = size
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    result = torch.zeros(height, width, device=device)
    for face in faces:
        centre_x = face.left + face.width / 2
        centre_y = face.top + face.height * (0.5 + LOWER)
        across = (xs - centre_x) / (face.width * WIDEN / 2)
        down = (ys - centre_y) / (face.height * HEIGHTEN / 2)
        radius = torch.sqrt(down[:, None] ** 2 + across[None, :] ** 2)
        inside = ((1 - radius) / FEATHER).clamp(0, 1)
        result = torch.maximum(result, inside * inside * (3 - 2 * inside))  # smoothstep
    return result[None, None]


def content_inside(style_weight: float) -> float:
    """How much more a face's content weighs: Strong paints harder, so the face holds harder."""
    return CONTENT_INSIDE * max(1.0, style_weight / BALANCED_STYLE_WEIGHT)


def keep_colours(picture: Image.Image, photo: Image.Image, faces: list[Box]) -> Image.Image:
    """The photo's colours inside the faces, the picture's light and strokes: a style's
    palette (Klimt's gold, Hokusai's blue) would otherwise paint the skin."""
    coloured = images.keep_luminance_only(picture, photo)
    weight = mask(faces, picture.size, torch.device("cpu"))[0, 0]
    alpha = Image.fromarray((weight * 255).round().to(torch.uint8).numpy())
    return Image.composite(coloured, picture, alpha)
