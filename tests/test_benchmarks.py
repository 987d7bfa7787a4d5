"""The benchmark's pure parts on tiny procedural pictures: scoring, the reference loop, plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from benchmarks import faces as faces_benchmark
from benchmarks import report, speedup
from benchmarks.evaluator import Evaluator
from benchmarks.pairs import MissingImages, Pair, resolve
from benchmarks.reference import run_reference
from benchmarks.report import replace_section
from benchmarks.rows import Score
from benchmarks.speedup import autograd_gram, todays_engine
from benchmarks.suite import PairPlan, contact_sheet, output_size, run_pair
from engine import Strength, StyleOptions, losses
from engine.optimize import default_precision
from tests.pictures import gradient, stripes

CPU = torch.device("cpu")
SIZE = (64, 48)


def test_a_picture_scores_zero_content_loss_against_itself():
    evaluator = Evaluator(gradient(), stripes(), SIZE, CPU)
    assert evaluator.score(gradient()).content == pytest.approx(0.0, abs=1e-6)
    assert evaluator.score(stripes(64, 48)).style < evaluator.score(gradient()).style


def test_the_objective_weights_style_like_the_project():
    score = Score(content=0.5, style=0.1, tv=0.01)
    assert score.objective(10.0) == pytest.approx(0.5 + 1.0 + 0.01)


def test_the_reference_counts_its_evaluations_and_traces_a_falling_objective():
    evaluator = Evaluator(gradient(), stripes(), SIZE, CPU)
    options = StyleOptions(device="cpu")
    weight = options.resolved_style_weight
    run = run_reference(
        gradient(), stripes(), SIZE, options, evaluator, weight, evaluations=6, trace_every=2
    )
    assert run.evaluations >= 6 and run.image.size == SIZE
    start, end = run.trace[0], run.trace[-1]
    initial = evaluator.score(gradient()).objective(weight)
    assert start[1] == 0 and start[2] == pytest.approx(initial)
    assert end == (run.wall_s, run.evaluations, evaluator.score(run.image).objective(weight))
    assert end[2] < start[2]
    assert [t for t, _, _ in run.trace] == sorted(t for t, _, _ in run.trace)
    reached = run.time_to(end[2])
    assert reached is not None and reached <= run.wall_s
    assert run.time_to(start[2]) == start[0]
    assert run.time_to(end[2] / 2) is None


def test_every_contender_is_scored_at_the_engines_output_size():
    assert output_size(gradient(1024, 768), 384) == (384, 288)


def test_missing_images_are_named_before_any_work(tmp_path: Path):
    with pytest.raises(MissingImages, match=r"tubingen\.jpg"):
        resolve(["tubingen+starry_night"], tmp_path)
    with pytest.raises(ValueError, match="unknown pair"):
        resolve(["mona+lisa"], tmp_path)


def test_the_contact_sheet_puts_pictures_side_by_side(tmp_path: Path):
    path = tmp_path / "sheet.png"
    contact_sheet({"a": gradient(), "b": stripes()}, path, height=32)
    with Image.open(path) as sheet:
        assert sheet.height > 32 and sheet.width > 64


def test_a_pair_run_scores_each_contender_in_order_and_saves_its_pictures(tmp_path: Path):
    gradient(96, 72).save(tmp_path / "photo.png")
    stripes(96, 96).save(tmp_path / "painting.png")
    pair = Pair("photo+painting", tmp_path / "photo.png", tmp_path / "painting.png")
    plan = PairPlan(
        pair,
        64,
        (Strength.LIGHT, Strength.MEDIUM),
        steps=2,
        reference_evaluations=6,
        target_steps=3,
    )
    result = run_pair(plan, CPU, tmp_path)
    reference, light, medium = result.rows
    assert [r.contender for r in result.rows] == ["reference", "project:light", "project:medium"]
    assert all(r.size == result.size == (64, 48) and r.floor_s > 0 for r in result.rows)
    assert reference.reference_time_s is None and light.evaluations == 2
    # Two steps cannot match the reference's L-BFGS, so the longer run is tried and noted.
    assert medium.note.startswith("target from a 3-step run")
    saved = {p.name for p in tmp_path.glob("photo+painting.*.png")}
    assert saved == {
        "photo+painting.reference.png",
        "photo+painting.project-light.png",
        "photo+painting.project-medium.png",
        "photo+painting.sheet.png",
    }


def test_todays_engine_differentiates_the_gram_by_autograd_and_puts_ours_back():
    ours = losses.gram
    features = torch.rand(1, 4, 6, 5).contiguous(memory_format=torch.channels_last)
    with todays_engine():
        assert losses.gram is autograd_gram
        torch.testing.assert_close(losses.gram(features), ours(features))
    assert losses.gram is ours


def test_the_speedup_section_replaces_itself_and_outlives_a_results_write(tmp_path: Path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nhand-written analysis\n")
    replace_section(results, "## first\n", "speedup")
    replace_section(results, "## faces\n", "faces")
    replace_section(results, "## second\n", "speedup")
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\nhand-written analysis\n")
    assert "## second" in text and "## first" not in text
    assert text.index("## second") < text.index("## faces")  # replaced in place
    assert text.count("<!-- benchmarks.speedup: begin -->") == 1
    assert text.count("<!-- benchmarks.speedup: end -->") == 1
    report.write(results, [], CPU, "config", None)
    text = results.read_text()
    assert "hand-written" not in text and "## second" in text and "## faces" in text


def test_today_and_new_run_interleaved_and_the_goals_are_judged_from_the_table(tmp_path: Path):
    for name, picture in (("tubingen.jpg", gradient(96, 72)), ("starry_night.jpg", stripes())):
        picture.save(tmp_path / name)
    results, out = tmp_path / "RESULTS.md", tmp_path / "out"
    code = speedup.main(
        [
            *("--images", str(tmp_path), "--pairs", "tubingen+starry_night"),
            *("--size", "64", "--repeats", "2", "--steps", "3", "--curve-steps", "2"),
            *("--reference-size", "48", "--reference-evals", "4"),
            *("--out", str(out), "--results", str(results)),
        ]
    )
    assert code == 0
    text, curve = results.read_text().split("Without AMX")
    rows = [line.split(" | ") for line in text.splitlines() if "| 64×48 |" in line]
    assert [(r[2], r[3]) for r in rows] == [
        ("today", "fp32"),
        ("new", default_precision(CPU)),
        ("new", default_precision(CPU)),
        ("today", "fp32"),
    ]
    rows = [line.split(" | ") for line in curve.splitlines() if "| 64×48 |" in line]
    assert [(r[2], r[3]) for r in rows] == [("today", "3"), ("new fp32", "2"), ("today", "3")]
    at_48 = [line.split(" | ")[2] for line in text.splitlines() if "| 48×36 |" in line]
    assert at_48 == ["new", "today", "reference", "new"]
    goals = text.split("Goals:")[1]
    assert "new / today time" in goals and "faster than the reference" in goals
    assert (out / "cpu-default-tubingen-starry_night.jpg").is_file()


def test_the_faces_benchmark_scores_each_strength_with_and_without_keeping(tmp_path: Path):
    results, sheets = tmp_path / "RESULTS.md", tmp_path / "sheets"
    argv = ["--pairs", "astronaut+great_wave", "--size", "64", "--steps", "2", "--device", "cpu"]
    argv += ["--sheets", str(sheets), "--results", str(results)]
    assert faces_benchmark.main(argv) == 0
    text = results.read_text()
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| astronaut |")]
    assert [(r[2], r[3]) for r in rows] == [
        (strength, kept) for strength in ("light", "medium", "strong") for kept in ("—", "1")
    ]
    kept, not_kept = [float(r[4]) for r in rows[1::2]], [float(r[4]) for r in rows[::2]]
    assert all(k < n for k, n in zip(kept, not_kept, strict=True))  # the face stays closer
    assert "kept / not kept" in text
    assert (sheets / "faces-astronaut-great_wave.jpg").is_file()
    faceless = tmp_path / "street.png"
    gradient(96, 72).save(faceless)
    argv = ["--pairs", "astronaut+great_wave", "--size", "64", "--steps", "2", "--device", "cpu"]
    argv += ["--cost", "--rounds", "2", "--faceless", str(faceless), "--results", str(results)]
    assert faces_benchmark.main(argv) == 0
    text = results.read_text()
    assert "kept / not kept" in text  # the quality section stays
    cost_section = text.split("What keeping faces costs")[1]
    costs = [line.split(" | ") for line in cost_section.splitlines() if line.startswith("| ")]
    costs = [row for row in costs if row[0] in ("| astronaut", "| street (no face)")]
    assert [(row[0], row[1]) for row in costs] == [
        ("| astronaut", "1"),
        ("| street (no face)", "0"),
    ]
    assert all(len(row[3].split(", ")) == len(row[4].split(", ")) == 2 for row in costs)
