"""The paper's Table 1 (per method and split), Table 2 (task-wise average success) and Table 5
(task-wise return): mean and sample std (ddof = 1) over seeds of the runs' final scores.

Each table is a long frame (one row per cell, the CSV) and :class:`TextTable` layouts in the paper's
order (the Markdown and LaTeX), with a second layout beside the paper's values where the paper gives any.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.formatting import DIGITS, MISSING, TextTable, format_comparison, format_estimate
from analysis.labels import METRIC_LABELS, METRICS, SPLITS, Suite, method_label
from analysis.loading import Gap
from analysis.protocol import PAPER_PROTOCOL

TASK_TABLE_METRICS: dict[str, str] = {"table2": "avg_success", "table5": "return"}
"""The metric of each task-wise table."""

_STD_NOTE = "Mean ± sample standard deviation (ddof = 1) over seeds; [n/N seeds] marks missing seeds."
EARLY_MARK = " *"
"""Appended to the label of a method with a run scored before the end of its training budget."""
Early = Mapping[str, Sequence[Gap]]
"""Method -> its runs that stopped before their training budget (``Study.stopped_early()``)."""


def _estimate(values: pd.Series) -> tuple[float, float, int]:
    """Mean, sample std (NaN for fewer than two values) and count."""
    values = values.dropna().to_numpy(dtype=float)
    if values.size == 0:
        return math.nan, math.nan, 0
    std = float(np.std(values, ddof=1)) if values.size > 1 else math.nan
    return float(np.mean(values)), std, int(values.size)


def task_table(scores: pd.DataFrame, metric: str, methods: list[str], expected_seeds: int,
               suite: Suite) -> pd.DataFrame:
    """One row per (split, task, method) in the suite's (for ML10 the paper's) order: mean, std and seed
    count of ``metric``."""
    by_cell = {key: rows[metric] for key, rows in scores.groupby(["split", "task", "method"], sort=False)}
    records = []
    for split in SPLITS:
        for task in suite.tasks[split]:
            for method in methods:
                mean, std, seeds = _estimate(by_cell.get((split, task, method), pd.Series(dtype=float)))
                records.append({
                    "split": split, "task": task, "task_label": suite.task_label(task), "method": method,
                    "method_label": method_label(method), "metric": metric, "mean": mean, "std": std,
                    "seeds": seeds, "expected_seeds": expected_seeds,
                })
    return pd.DataFrame(records)


def overall_table(scores: pd.DataFrame, methods: list[str], expected_seeds: int, suite: Suite) -> pd.DataFrame:
    """Table 1: per (method, split, metric), mean and std over seeds of each seed's mean over the split's
    tasks. A seed that lacks a task of the split does not enter that split's cell (its seed count shows).
    """
    per_seed = scores.groupby(["method", "seed", "split"], sort=False)
    split_means = per_seed[list(METRICS)].mean()
    split_means["tasks"] = per_seed["task"].nunique()
    split_means = split_means.reset_index()
    complete = split_means["tasks"] == split_means["split"].map(lambda s: len(suite.tasks[s]))
    split_means = split_means[complete]
    records = []
    for method in methods:
        for split in SPLITS:
            rows = split_means[(split_means["method"] == method) & (split_means["split"] == split)]
            for metric in METRICS:
                mean, std, seeds = _estimate(rows[metric])
                records.append({
                    "method": method, "method_label": method_label(method), "split": split,
                    "metric": metric, "mean": mean, "std": std, "seeds": seeds,
                    "expected_seeds": expected_seeds,
                })
    return pd.DataFrame(records)


def _our_cell(row: pd.Series) -> str:
    return format_estimate(row["mean"], row["std"], int(row["seeds"]), int(row["expected_seeds"]),
                           DIGITS[row["metric"]])


def _comparison_cell(row: pd.Series) -> str:
    """Ours beside the paper's value as the paper prints it (its own precision, e.g. ``0.64 ± 0.3``)."""
    paper = row["paper_text"] if isinstance(row["paper_text"], str) else MISSING
    return format_comparison(_our_cell(row), paper, row["difference"], DIGITS[row["metric"]])


def _label(method: str, early: Early) -> str:
    return method_label(method) + (EARLY_MARK if method in early else "")


def _early_notes(methods: list[str], early: Early) -> list[str]:
    """A footnote for the methods marked with :data:`EARLY_MARK`."""
    runs = [f"{method_label(method)} seed {gap.seed} ({gap.detail})"
            for method in methods for gap in early.get(method, [])]
    if not runs:
        return []
    return [f"{EARLY_MARK.strip()} Scored before the end of the training budget (partial report): "
            + "; ".join(runs) + "."]


def _has_paper_values(table: pd.DataFrame) -> bool:
    return "paper_mean" in table.columns and bool(table["paper_mean"].notna().any())


def _paper_notes(table: pd.DataFrame) -> list[str]:
    sources = sorted(table["paper_source"].dropna().unique())
    return ["Cells: ours / paper (Δ = ours − paper); " + MISSING + " where the paper gives no value.",
            "Paper values: " + "; ".join(sources) + " (reports/paper/), produced under " + PAPER_PROTOCOL
            + ". Ours: the protocol in summary.md (docs/protocol.md: why the two differ)."]


def _cells_by(table: pd.DataFrame, keys: list[str]) -> dict[tuple, pd.Series]:
    return {tuple(row[key] for key in keys): row for _, row in table.iterrows()}


def task_layouts(table: pd.DataFrame, methods: list[str], caption: str, final_point: str, suite: Suite,
                 early: Early) -> list[TextTable]:
    """Table 2 / Table 5 in the paper's layout (tasks as rows, methods as columns, train then test),
    followed by the same layout beside the paper's values when the paper reports any. ``early``: methods
    with runs scored before the end of their budget, marked in the header and a footnote."""
    metric = table["metric"].iloc[0]
    header = ["Task", *[_label(method, early) for method in methods]]
    cells = _cells_by(table, ["split", "task", "method"])

    def sections(cell: Callable[[pd.Series], str]) -> list[tuple[str | None, list[list[str]]]]:
        return [
            (f"{METRIC_LABELS[metric]} ({split})",
             [[suite.task_label(task), *[cell(cells[(split, task, method)]) for method in methods]]
              for task in suite.tasks[split]])
            for split in SPLITS
        ]

    notes = [_STD_NOTE, f"Final score: {final_point}.", *_early_notes(methods, early)]
    layouts = [TextTable(caption, header, sections(_our_cell), notes)]
    if _has_paper_values(table):
        layouts.append(TextTable(caption + " Beside the paper's values.", header, sections(_comparison_cell),
                                 [*_paper_notes(table), *_early_notes(methods, early)]))
    return layouts


def overall_layouts(table: pd.DataFrame, methods: list[str], caption: str, final_point: str,
                    early: Early) -> list[TextTable]:
    """Table 1: one row per method; train then test columns of average success, success and return.
    ``early``: as in :func:`task_layouts`."""
    header = ["Method", *[METRIC_LABELS[m] for _ in SPLITS for m in METRICS]]
    groups = [(split.capitalize(), len(METRICS)) for split in SPLITS]
    cells = _cells_by(table, ["method", "split", "metric"])

    def rows(cell: Callable[[pd.Series], str]) -> list[list[str]]:
        return [[_label(method, early), *[cell(cells[(method, split, metric)])
                                         for split in SPLITS for metric in METRICS]]
                for method in methods]

    notes = [_STD_NOTE, "Per seed, each metric is first averaged over the split's tasks.",
             f"Final score: {final_point}.", *_early_notes(methods, early)]
    layouts = [TextTable(caption, header, [(None, rows(_our_cell))], notes, groups)]
    if _has_paper_values(table):
        layouts.append(TextTable(caption + " Beside the paper's values.", header, [(None, rows(_comparison_cell))],
                                 [*_paper_notes(table), *_early_notes(methods, early)], groups))
    return layouts
