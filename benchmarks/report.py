"""Writes RESULTS.md: machine details, the table, and which targets are met."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from .rows import ContenderRow, PairResult

TARGET_SPEEDUP = 4.0  # the project reaches the reference's objective 4x sooner
TARGET_OVERHEAD = 1.10  # per evaluation, at most 10% above the bare forward+backward
TARGET_DEFAULT_JOB_S = 90.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(device: torch.device) -> list[str]:
    lines = [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores, "
        f"torch threads {torch.get_num_threads()}",
        f"- torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- device: {device}",
    ]
    if device.type == "cuda":
        lines.append(f"- GPU: {torch.cuda.get_device_name(device)}")
    return lines


def _f(value: float | None, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def _dims(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _speedup(reference: ContenderRow | None, row: ContenderRow) -> float | None:
    """How many times sooner than the reference's whole run ``row`` reached its objective."""
    if reference is None or not row.time_to_target_s:
        return None
    return reference.wall_s / row.time_to_target_s


def table(results: Sequence[PairResult]) -> list[str]:
    lines = [
        "| pair | size | contender | wall s | evals | content | style | objective "
        "| s/eval | floor s | ×floor | to ref. objective s | ref. s / that "
        "| ref. s to this objective | that / wall s | peak MB | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        reference = result.row("reference")
        for row in result.rows:
            lines.append(
                f"| {row.pair} | {_dims(row.size)} | {row.contender} | "
                f"{row.wall_s:.1f} | {row.evaluations} | {row.score.content:.4f} | "
                f"{row.score.style:.5f} | {row.objective:.4f} | {_f(row.per_eval_s, '.3f')} | "
                f"{row.floor_s:.3f} | {_f(row.floor_ratio, '.2f')} | {_f(row.time_to_target_s)} | "
                f"{_f(_speedup(reference, row), '.2f')} | {_f(row.reference_time_s)} | "
                f"{_f(row.reference_time_ratio, '.2f')} | "
                f"{row.peak_memory_mb:.0f} | {row.note} |"
            )
    return lines


def targets(results: Sequence[PairResult], default_job: ContenderRow | None) -> list[str]:
    """Checks computed from the table, so the verdict always matches the numbers."""
    lines = []
    for result in results:
        reference, medium = result.row("reference"), result.row("project:medium")
        if reference is None or medium is None:
            continue
        speedup = _speedup(reference, medium)
        if speedup is not None:
            lines.append(
                f"- {result.pair} {_dims(result.size)}: reaches the reference's objective "
                f"{speedup:.2f}× sooner (target ≥ 4): {_verdict(speedup >= TARGET_SPEEDUP)}"
            )
        else:
            lines.append(f"- {result.pair}: never reached the reference's objective: MISSED")
        if medium.reference_time_ratio:
            lines.append(
                f"  at equal quality the other way round: the reference needs "
                f"{medium.reference_time_s:.1f} s to reach the project's final objective "
                f"({medium.objective:.4f}), {medium.reference_time_ratio:.2f}× "
                f"the project's {medium.wall_s:.1f} s"
            )
        ratio = medium.floor_ratio
        if ratio is not None:
            verdict = _verdict(ratio <= TARGET_OVERHEAD)
            lines.append(f"  per-evaluation time {ratio:.2f}× the floor (target ≤ 1.10): {verdict}")
    if default_job is not None:
        verdict = _verdict(default_job.wall_s <= TARGET_DEFAULT_JOB_S)
        lines.append(
            f"- the bot's default CPU job ({default_job.pair}, {_dims(default_job.size)}, "
            f"{default_job.evaluations} steps): {default_job.wall_s:.1f} s (target ≤ 90): {verdict}"
        )
    return lines


def _marker(name: str, edge: str) -> str:
    return f"<!-- benchmarks.{name}: {edge} -->"


#: A section another benchmark (``benchmarks.speedup``, ``benchmarks.faces``) wrote, markers
#: included: it is replaced by that benchmark's next run and kept by everything else.
_SECTION = re.compile(r"<!-- benchmarks\.([\w-]+): begin -->.*?<!-- benchmarks\.\1: end -->", re.S)


def replace_section(path: Path, body: str, name: str) -> None:
    """Puts ``body`` between ``name``'s markers in ``path``, in place of what was there, or at
    the end; the rest of the file stays as it was."""
    text = path.read_text() if path.exists() else ""
    marked = f"{_marker(name, 'begin')}\n{body.rstrip()}\n{_marker(name, 'end')}"
    old = next((m for m in _SECTION.finditer(text) if m.group(1) == name), None)
    if old is not None:
        text = text[: old.start()] + marked + text[old.end() :]
    else:
        text = f"{text.rstrip()}\n\n{marked}\n" if text.strip() else f"{marked}\n"
    path.write_text(text)


def write(
    path: Path,
    results: Sequence[PairResult],
    device: torch.device,
    config: str,
    default_job: ContenderRow | None,
    notes: Sequence[str] = (),
) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks` (`make bench`); images and contact sheets are in "
        "`benchmarks/out/`.",
        "",
        "## Machine",
        *machine(device),
        "",
        "## Run",
        config,
        "",
        "## Table",
        "Losses are the common evaluator's (same VGG19 and layers, relative MSEs, unweighted); "
        "objective = content + 10 × style + tv, the medium preset's weights, which the "
        "reference uses. s/eval is at the output size; ×floor divides it by one bare VGG19 "
        "forward+backward at that size. Times exclude the scoring done for the trace.",
        "",
        *table(results),
        "",
        "Floors: " + "; ".join(f"{r.pair} {_dims(r.size)}: {r.floor_s:.3f} s" for r in results),
        "",
        "## Targets",
        *targets(results, default_job),
        "",
        "## Notes",
        *notes,
        "",
    ]
    kept = _SECTION.finditer(path.read_text()) if path.exists() else iter(())
    for section in kept:  # the other benchmarks' sections outlive a run of this one
        lines += [section.group(0), ""]
    path.write_text("\n".join(lines))
