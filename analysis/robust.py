"""Beyond the paper: IQM with stratified-bootstrap intervals over seeds x tasks, and the probability
that each HiMeta variant improves on each baseline, per split, for the success metrics.

Return is left out: its scale differs by task (no normalisation exists for ML10 returns), so pooling
tasks in one IQM would weigh them by their reward scale. Only complete runs (every task of the split
scored) enter a matrix; the tables say how many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.formatting import TextTable
from analysis.labels import METRIC_LABELS, SPLITS, Suite, is_himeta, method_label
from analysis.settings import ReportSettings
from analysis.statistics import Interval, improvement_interval, iqm_interval

ROBUST_METRICS: tuple[str, ...] = ("avg_success", "success")


def score_matrix(scores: pd.DataFrame, method: str, split: str, metric: str, suite: Suite) -> np.ndarray:
    """``[runs, tasks]`` final scores of ``method`` on ``split`` (tasks in the suite's order); runs that
    lack a task are left out."""
    rows = scores[(scores["method"] == method) & (scores["split"] == split)]
    wide = rows.pivot(index="seed", columns="task", values=metric)
    wide = wide.reindex(columns=list(suite.tasks[split])).dropna()
    return wide.to_numpy(dtype=float)


def improvement_pairs(methods: list[str]) -> list[tuple[str, str]]:
    """(HiMeta variant, baseline) for every HiMeta variant and every other method of the study."""
    return [(x, y) for x in methods if is_himeta(x) for y in methods if not is_himeta(y)]


def _rng(settings: ReportSettings, *labels: str) -> np.random.Generator:
    """A generator per estimate, so one interval does not change when methods are added or removed."""
    key = [ord(char) for char in "/".join(labels)]
    return np.random.default_rng([settings.bootstrap_seed, *key])


def _interval_record(interval: Interval) -> dict[str, float]:
    return {"estimate": interval.estimate, "ci_low": interval.low, "ci_high": interval.high}


def iqm_table(scores: pd.DataFrame, methods: list[str], settings: ReportSettings, suite: Suite) -> pd.DataFrame:
    """Per (method, split, metric): IQM over runs x tasks and its interval; NaN where no run is complete."""
    records = []
    for metric in ROBUST_METRICS:
        for split in SPLITS:
            for method in methods:
                matrix = score_matrix(scores, method, split, metric, suite)
                record = {"method": method, "method_label": method_label(method), "split": split,
                          "metric": metric, "runs": matrix.shape[0], "tasks": matrix.shape[1]}
                if matrix.shape[0] > 0:
                    interval = iqm_interval(matrix, settings.bootstrap_resamples, settings.confidence,
                                            _rng(settings, "iqm", method, split, metric))
                    record.update(_interval_record(interval))
                records.append(record)
    return pd.DataFrame(records).reindex(columns=[
        "method", "method_label", "split", "metric", "estimate", "ci_low", "ci_high", "runs", "tasks"])


def improvement_table(scores: pd.DataFrame, methods: list[str], settings: ReportSettings,
                      suite: Suite) -> pd.DataFrame:
    """Per (HiMeta variant X, baseline Y, split, metric): P(X > Y) and its interval."""
    records = []
    for metric in ROBUST_METRICS:
        for split in SPLITS:
            for x, y in improvement_pairs(methods):
                x_scores = score_matrix(scores, x, split, metric, suite)
                y_scores = score_matrix(scores, y, split, metric, suite)
                record = {"method": x, "baseline": y, "pair_label": f"{method_label(x)} > {method_label(y)}",
                          "split": split, "metric": metric, "runs": x_scores.shape[0],
                          "baseline_runs": y_scores.shape[0]}
                if x_scores.shape[0] > 0 and y_scores.shape[0] > 0:
                    interval = improvement_interval(x_scores, y_scores, settings.bootstrap_resamples,
                                                    settings.confidence, _rng(settings, "poi", x, y, split, metric))
                    record.update(_interval_record(interval))
                records.append(record)
    return pd.DataFrame(records).reindex(columns=[
        "method", "baseline", "pair_label", "split", "metric", "estimate", "ci_low", "ci_high", "runs",
        "baseline_runs"])


def _interval_text(row: pd.Series) -> str:
    if np.isnan(row["estimate"]):
        return "—"
    return f"{row['estimate']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def _settings_note(settings: ReportSettings) -> str:
    return (f"{settings.confidence:.0%} percentile intervals from {settings.bootstrap_resamples} "
            f"stratified-bootstrap resamples (seed {settings.bootstrap_seed}); final score: "
            f"{settings.describe()}.")


def _layout(table: pd.DataFrame, row_key: str, row_label: str, caption: str, notes: list[str]) -> TextTable:
    header = [row_label, *[split.capitalize() for _ in ROBUST_METRICS for split in SPLITS]]
    groups = [(METRIC_LABELS[m], len(SPLITS)) for m in ROBUST_METRICS]
    cells = {(r[row_key], r["metric"], r["split"]): r for _, r in table.iterrows()}
    keys = list(dict.fromkeys(table[row_key]))
    labels = dict(zip(table[row_key], table["label"]))
    rows = [[labels[key], *[_interval_text(cells[(key, m, split)]) for m in ROBUST_METRICS for split in SPLITS]]
            for key in keys]
    return TextTable(caption, header, [(None, rows)], notes, groups)


def iqm_layout(table: pd.DataFrame, settings: ReportSettings) -> TextTable:
    """IQM [interval] per method (rows) and metric x split (columns)."""
    runs = ", ".join(f"{label}: {n}" for label, n in
                     table.groupby("method_label", sort=False)["runs"].min().items())
    return _layout(
        table.assign(label=table["method_label"]), "method", "Method",
        "Interquartile mean of the final scores over seeds x tasks, with confidence intervals.",
        [_settings_note(settings), f"Complete runs per method (fewest over splits): {runs}."],
    )


def improvement_layout(table: pd.DataFrame, settings: ReportSettings) -> TextTable:
    """P(X > Y) [interval] per pair (rows) and metric x split (columns)."""
    return _layout(
        table.assign(label=table["pair_label"]), "pair_label", "HiMeta variant > baseline",
        "Probability of improvement P(X > Y): the chance that a run of X scores higher than a run of Y "
        "on a task drawn at random (ties count half).",
        [_settings_note(settings), "0.5 = no difference; an interval above 0.5 favours X."],
    )
