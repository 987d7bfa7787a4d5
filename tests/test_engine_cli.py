"""`stylize CONTENT STYLE -o OUT`: outputs, extras, and one readable line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from engine.__main__ import build_parser, main
from tests.pictures import encode, gradient, stripes, waves

pytestmark = pytest.mark.slow


@pytest.fixture
def pair(tmp_path):
    content, style = tmp_path / "photo.png", tmp_path / "painting.jpg"
    content.write_bytes(encode(gradient(96, 48)))
    style.write_bytes(encode(stripes(), "JPEG"))
    return content, style


def test_a_run_writes_the_picture_plot_config_and_snapshots(pair, tmp_path):
    content, style = pair
    out = tmp_path / "out.png"
    code = main(
        [
            str(content),
            str(style),
            "-o",
            str(out),
            "--max-side",
            "96",
            "--min-scale",
            "32",  # two scales: 48 then 96 px
            "--steps",
            "6",
            "--device",
            "cpu",
            "--strength",
            "strong",
            "--save-every",
            "3",
            "-q",
            "--loss-plot",
            str(tmp_path / "plot.png"),
            "--config",
            str(tmp_path / "run.json"),
        ]
    )
    assert code == 0
    assert Image.open(out).size == (96, 48)
    assert Image.open(tmp_path / "plot.png").size == (820, 440)
    snapshots = sorted(tmp_path.glob("out.step*.png"))
    assert [p.name for p in snapshots] == ["out.step0003.png", "out.step0006.png"]
    assert all(Image.open(p).size == (96, 48) for p in snapshots)  # the coarse one too
    config = json.loads((tmp_path / "run.json").read_text())
    assert config["options"]["strength"] == "strong" and config["size"] == [96, 48]
    assert config["options"]["steps"] == 6 and config["device"] == "cpu"


def test_blend_weights_of_one_and_zero_paint_as_that_style_alone(pair, tmp_path):
    content, first = pair
    second = tmp_path / "waves.png"
    second.write_bytes(encode(waves()))

    def picture(name: str, *styles_and_flags: str) -> bytes:
        out = tmp_path / f"{name}.png"
        args = [str(content), *styles_and_flags, "-o", str(out), "--max-side", "48"]
        assert main([*args, "--steps", "4", "--device", "cpu", "-q"]) == 0
        return Image.open(out).tobytes()

    first_alone, second_alone = picture("first", str(first)), picture("second", str(second))
    assert first_alone != second_alone
    both = (str(first), str(second), "--style-blend-weights")
    # The CPU engine is deterministic, and a zero weight adds exactly nothing.
    assert picture("all-first", *both, "1,0") == first_alone
    assert picture("all-second", *both, "0,1") == second_alone


def run_cli(pair, tmp_path, *extra: str) -> int:
    content, style = pair
    args = [str(content), str(style), "-o", str(tmp_path / "x.png"), "--steps", "1", "-q"]
    try:
        return main([*args, "--device", "cpu", *extra])
    except SystemExit as exit_:  # argparse refuses unknown choices itself
        assert isinstance(exit_.code, int)
        return exit_.code


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--optimizer", "sgd"], "invalid choice"),
        (["--style-layers", "conv9_1"], "unknown VGG19 layer"),
        (["--weights", "/nowhere/vgg.pth"], "Unknown weights"),
        (["--max-side", "4"], "--max-side must be at least 32"),
        (["--style-blend-weights", "1,2"], "--style-blend-weights"),
    ],
)
def test_bad_options_exit_2_with_a_readable_message(pair, tmp_path, capsys, extra, message):
    assert run_cli(pair, tmp_path, *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_broken_image_gives_one_line_and_no_traceback(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff this is not really a jpeg")
    run = subprocess.run(
        [sys.executable, "-m", "engine", str(broken), str(broken), "-o", str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"stylize: error: cannot read {broken}: not a JPEG, PNG, WebP, BMP, TIFF or GIF image"
    ]
    assert not (tmp_path / "o.png").exists()


def test_an_output_folder_that_does_not_exist_is_refused_before_painting(pair, tmp_path, capsys):
    content, style = pair
    out = tmp_path / "missing" / "out.png"
    code = main([str(content), str(style), "-o", str(out), "--device", "cpu", "--steps", "500"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error == f"stylize: error: cannot write {out}: the folder {out.parent} does not exist"


def test_the_size_does_not_depend_on_the_steps(pair, tmp_path, capsys):
    content, style = pair
    out = tmp_path / "one.png"
    args = [str(content), str(style), "-o", str(out), "--max-side", "96", "--device", "cpu"]
    assert main([*args, "--steps", "1", "--min-scale", "32"]) == 0
    with Image.open(out) as picture:
        assert picture.size == (96, 48)  # not the coarse scale's 48×24
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"stylize: wrote {out} (96×48, ")


def test_help_shows_each_default_once_and_examples():
    help_text = subprocess.run(
        [sys.executable, "-m", "engine", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "(default: None)" not in help_text and "('" not in help_text
    assert help_text.count("(default: 384 on CPU, 512") == 1
    assert "conv1_1,conv2_1,conv3_1,conv4_1,conv5_1" in " ".join(help_text.split())
    assert "examples:" in help_text and "examples/starry_night.jpg" in help_text
    for action in build_parser()._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"
