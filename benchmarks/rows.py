"""Typed rows of the results table: one per contender per pair, plus per-pair facts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Score:
    """Unweighted losses of one picture under the common evaluator."""

    content: float
    style: float
    tv: float

    def objective(
        self, style_weight: float, content_weight: float = 1.0, tv_weight: float = 1.0
    ) -> float:
        """The project's weighted objective, so contenders can be compared on one number."""
        return content_weight * self.content + style_weight * self.style + tv_weight * self.tv


@dataclass(frozen=True)
class ContenderRow:
    """What one contender did on one pair."""

    pair: str
    contender: str  # e.g. "project:medium", "reference", "pastiche"
    size: tuple[int, int]
    wall_s: float
    evaluations: int
    score: Score
    objective: float  # score.objective at the medium preset's weights
    peak_memory_mb: float
    floor_s: float  # bare forward+backward measured just before this contender ran
    per_eval_s: float | None = None  # at full size, when measurable
    time_to_target_s: float | None = None  # project only: reaching the reference's objective
    reference_time_s: float | None = None  # when the reference first reached this objective
    note: str = ""

    @property
    def floor_ratio(self) -> float | None:
        """Seconds per evaluation over the bare forward+backward: the loop's overhead."""
        return self.per_eval_s / self.floor_s if self.per_eval_s else None

    @property
    def reference_time_ratio(self) -> float | None:
        """The reference's time to this row's objective over this row's own wall time."""
        return self.reference_time_s / self.wall_s if self.reference_time_s else None


@dataclass(frozen=True)
class PairResult:
    """Everything measured on one content/style pair at one size."""

    pair: str
    size: tuple[int, int]
    floor_s: float  # one bare VGG19 forward+backward at this size
    rows: list[ContenderRow] = field(default_factory=list)

    def row(self, contender: str) -> ContenderRow | None:
        return next((r for r in self.rows if r.contender == contender), None)
