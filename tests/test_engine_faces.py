"""Faces keep the person: found where they are, weighed in the losses, and a real run keeps
them closer to the photo while the rest takes the style (issue 24).

``tests/data/portrait.jpg`` is a 128 px crop of NASA's portrait of Eileen Collins (public
domain; as bundled with scikit-image as ``astronaut``): her eyes are at about (0.39, 0.39)
and (0.59, 0.39), her mouth at (0.49, 0.57) of the picture. ``tests/data/profile.jpg`` is a
128 px crop of Lav Varshney's cameraman (CC0; scikit-image's ``camera``), his face turned
aside: eye at (0.39, 0.39), nose at (0.49, 0.45).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageChops

from engine import Strength, StyleOptions, faces, stylize
from engine.__main__ import main
from engine.faces import Box
from engine.losses import ContentLoss, StyleLoss, gram
from tests.pictures import gradient, noise, stripes

pytestmark = pytest.mark.slow
PORTRAIT = Path(__file__).parent / "data" / "portrait.jpg"
PROFILE = Path(__file__).parent / "data" / "profile.jpg"
EYES_AND_MOUTH = [(0.39, 0.39), (0.59, 0.39), (0.49, 0.57)]
CPU = StyleOptions(device="cpu", precision="fp32", seed=0)


@pytest.fixture(scope="module")
def portrait() -> Image.Image:
    return Image.open(PORTRAIT).convert("RGB")


def covers(box: Box, x: float, y: float) -> bool:
    return box.left <= x <= box.left + box.width and box.top <= y <= box.top + box.height


def test_the_face_is_found_where_it_is_mirrored_too(portrait):
    (face,) = faces.find(portrait)
    assert all(covers(face, x, y) for x, y in EYES_AND_MOUTH)
    assert 0.25 < face.width < 0.6  # the face, not the whole picture
    (turned,) = faces.find(portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert all(covers(turned, 1 - x, y) for x, y in EYES_AND_MOUTH)


def test_a_face_turned_aside_is_found_turned_either_way():
    profile = Image.open(PROFILE)
    (face,) = faces.find(profile)  # one face, though the profile search sees it both ways
    assert covers(face, 0.39, 0.39) and covers(face, 0.49, 0.45)
    (turned,) = faces.find(profile.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert turned.left == pytest.approx(1 - face.left - face.width, abs=0.03)
    assert (turned.top, turned.width) == pytest.approx((face.top, face.width), abs=0.03)


def test_several_faces_and_a_small_one_each_found_at_its_place(portrait):
    group = Image.new("RGB", (256 + 400, 300), (128, 128, 128))
    group.paste(portrait, (0, 0))
    group.paste(portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (128, 40))
    group.paste(portrait.resize((80, 80)), (500, 200))  # a face about 33 px across
    found = faces.find(group)
    assert len(found) == 3
    centres = sorted((b.left + b.width / 2) * group.width for b in found)
    assert centres[0] < 128 < centres[1] < 256 < 500 < centres[2] < 580
    assert found[-1].width * group.width < 40  # largest first: the small one last


def test_no_face_in_patterns_and_noise():
    for picture in (gradient(200, 150), stripes(200, 200), noise(200, 150)):
        assert faces.find(picture) == []


def test_the_mask_is_one_inside_the_face_zero_away_and_feathered_between():
    face = Box(0.25, 0.25, 0.5, 0.5)
    for width, height in ((64, 48), (13, 9)):  # any scale draws the same face
        mask = faces.mask([face], (width, height), torch.device("cpu"))[0, 0]
        assert mask.shape == (height, width)
        assert float(mask[height // 2, width // 2]) == pytest.approx(1.0, abs=0.05)
        assert float(mask[0, 0]) == float(mask[-1, -1]) == 0.0
        assert float(mask.min()) >= 0 and float(mask.max()) <= 1
        between = ((mask > 0.05) & (mask < 0.95)).sum()
        assert between > 0  # a soft edge, not a cut-out
    tall = faces.mask([face], (100, 100), torch.device("cpu"))[0, 0]
    # it reaches the forehead and the chin above and below the cascade's square
    assert float(tall[22, 50]) > 0 and float(tall[80, 50]) > 0 and float(tall[50, 22]) < 0.5
    two = faces.mask([face, Box(0.0, 0.0, 0.2, 0.2)], (100, 100), torch.device("cpu"))[0, 0]
    assert float(two[50, 50]) == pytest.approx(float(tall[50, 50])) and float(two[12, 10]) > 0.9


def test_presence_weighs_the_style_statistics_by_position():
    features = torch.rand(1, 3, 4, 6)
    left = torch.zeros(1, 1, 4, 6)
    left[..., :3] = 1
    target = torch.rand(1, 3, 3)
    only_left = StyleLoss(target, presence=left.clamp_min(1e-12))
    expected = StyleLoss(target)(features[..., :3].contiguous())
    torch.testing.assert_close(only_left(features), expected)
    torch.testing.assert_close(
        StyleLoss(target, torch.ones(1, 1, 4, 6))(features), StyleLoss(target)(features)
    )
    assert gram(features).shape == (1, 3, 3)


def test_emphasis_weighs_the_content_error_by_position():
    target, features = torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, 2)
    target[..., 0, 0] = 1  # the error is all at one position
    emphasis = torch.ones(1, 1, 2, 2)
    plain = float(ContentLoss(target, emphasis)(features))
    assert plain == pytest.approx(float(ContentLoss(target)(features)))
    emphasis[..., 0, 0] = 10
    assert float(ContentLoss(target, emphasis)(features)) == pytest.approx(10 * plain)
    emphasis[..., 0, 0], emphasis[..., 1, 1] = 1, 10  # elsewhere: no matter
    assert float(ContentLoss(target, emphasis)(features)) == pytest.approx(plain)


def region_error(picture: Image.Image, photo: Image.Image, box: Box, inside: bool) -> float:
    """Mean absolute difference of grey levels inside ``box`` (or outside it), 0–255."""
    grey = photo.convert("L").resize(picture.size)
    difference = np.asarray(ImageChops.difference(picture.convert("L"), grey), dtype=float)
    height, width = difference.shape
    within = np.zeros_like(difference, dtype=bool)
    top, left = round(box.top * height), round(box.left * width)
    bottom, right = round((box.top + box.height) * height), round((box.left + box.width) * width)
    within[top:bottom, left:right] = True
    return float(difference[within == inside].mean())


def test_keeping_faces_keeps_the_face_closer_to_the_photo_and_paints_the_rest(portrait):
    options = replace(CPU, max_side=96, steps=24, strength=Strength.STRONG)
    kept = stylize(portrait, stripes(96, 96), options)
    painted = stylize(portrait, stripes(96, 96), replace(options, keep_faces=False))
    assert (kept.faces, painted.faces) == (1, 0)
    (face,) = faces.find(portrait)
    inner = Box(
        face.left + face.width / 4, face.top + face.height / 4, face.width / 2, face.height / 2
    )
    assert region_error(kept.image, portrait, inner, True) < 0.85 * region_error(
        painted.image, portrait, inner, True
    )
    outside_kept = region_error(kept.image, portrait, face, False)
    assert outside_kept > 0.8 * region_error(painted.image, portrait, face, False)


def test_no_face_found_paints_exactly_as_without_keeping():
    options = replace(CPU, max_side=64, steps=6)
    found = stylize(gradient(64, 48), stripes(64, 64), options)
    off = stylize(gradient(64, 48), stripes(64, 64), replace(options, keep_faces=False))
    assert found.faces == off.faces == 0
    assert found.image.tobytes() == off.image.tobytes()


def test_the_cli_keeps_faces_unless_told_not_to(tmp_path, capsys):
    style = tmp_path / "style.png"
    stripes(96, 96).save(style)
    outputs = {}
    for flag in ("--keep-faces", "--no-keep-faces"):
        out = tmp_path / f"{flag}.png"
        common = ["--device", "cpu", "--precision", "fp32", "--seed", "0", "--steps", "8"]
        assert (
            main([str(PORTRAIT), str(style), "-o", str(out), *common, "--max-side", "96", flag])
            == 0
        )
        outputs[flag] = Image.open(out).convert("RGB")
        said = capsys.readouterr().err
        assert ("1 face kept" in said) == (flag == "--keep-faces"), said
    assert outputs["--keep-faces"].tobytes() != outputs["--no-keep-faces"].tobytes()


def test_a_painted_face_is_a_face_and_brushstrokes_are_not():
    gallery = Path(__file__).parent.parent / "bot" / "gallery"
    (face,) = faces.find(Image.open(gallery / "portrait_of_metzinger.jpg"))
    assert 0.2 < face.left + face.width / 2 < 0.8  # Metzinger's face, cubist as it is
    for faceless in ("great_wave", "udnie", "water_lilies", "the_dance"):
        assert faces.find(Image.open(gallery / f"{faceless}.jpg")) == [], faceless
