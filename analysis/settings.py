"""The study config's ``report`` block: which evaluation point is final, partial reports, bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from analysis.errors import ReportInputError

FINAL_POINTS: tuple[str, ...] = ("last", "mean_last_k")


@dataclass(frozen=True)
class ReportSettings:
    """How the report turns runs into numbers (documented in docs/reports.md).

    Attributes:
        final_point: ``"last"`` (the last evaluation point of each run) or ``"mean_last_k"`` (per task,
            the mean over the last ``last_k`` evaluation points).
        last_k: number of final evaluation points averaged by ``mean_last_k`` (ignored by ``last``).
        partial: report whatever exists, marking gaps, instead of raising on missing data.
        bootstrap_resamples: stratified-bootstrap resamples for the IQM and improvement intervals.
        confidence: coverage of those intervals (percentile method), in (0, 1).
        bootstrap_seed: seed of the bootstrap's generator (the intervals are reproducible).
    """

    final_point: str = "last"
    last_k: int = 1
    partial: bool = False
    bootstrap_resamples: int = 2000
    confidence: float = 0.95
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        if self.final_point not in FINAL_POINTS:
            raise ReportInputError(
                f"report.final_point must be one of {FINAL_POINTS}, got {self.final_point!r}"
            )
        if isinstance(self.last_k, bool) or not isinstance(self.last_k, int) or self.last_k < 1:
            raise ReportInputError(f"report.last_k must be an integer >= 1, got {self.last_k!r}")
        if not isinstance(self.partial, bool):
            raise ReportInputError(f"report.partial must be true or false, got {self.partial!r}")
        if not isinstance(self.bootstrap_resamples, int) or self.bootstrap_resamples < 1:
            raise ReportInputError(
                f"report.bootstrap_resamples must be an integer >= 1, got {self.bootstrap_resamples!r}"
            )
        if not 0.0 < float(self.confidence) < 1.0:
            raise ReportInputError(f"report.confidence must lie in (0, 1), got {self.confidence!r}")

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None) -> ReportSettings:
        """Settings from the config's ``report`` mapping; unknown keys are an error naming them."""
        block = dict(block or {})
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(block) - known)
        if unknown:
            raise ReportInputError(
                f"unknown report setting(s) {unknown}; known: {sorted(known)}"
            )
        return cls(**block)

    @property
    def points_averaged(self) -> int:
        """How many final evaluation points enter a run's final score."""
        return self.last_k if self.final_point == "mean_last_k" else 1

    def describe(self) -> str:
        """One sentence for the summary and table captions."""
        if self.final_point == "last":
            return "the last evaluation point of each run"
        return f"the mean over the last {self.last_k} evaluation points of each run"
