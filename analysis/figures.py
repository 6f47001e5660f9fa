"""Figures (PNG and PDF, seaborn): the paper's Figure 4 learning curves, the IQM intervals and the
probability of improvement. One colour per method, the same in every figure."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.labels import METRIC_AXIS_LABELS, METRIC_LABELS, SPLITS, TASKS_BY_SPLIT, method_label  # noqa: E402
from analysis.robust import ROBUST_METRICS  # noqa: E402

CURVE_METRICS: tuple[str, ...] = ("avg_success", "return")
"""Figure 4's rows: (a) average success, (b) return."""

_CHANCE_COLOUR = "0.45"


def method_colours(methods: list[str]) -> dict[str, tuple[float, float, float]]:
    """A colour-blind-safe colour per method, in study order (the same in every figure)."""
    colours = sns.color_palette("colorblind", n_colors=max(len(methods), 1))
    return {method: colours[index] for index, method in enumerate(methods)}


def _curve_labels(curves: pd.DataFrame, methods: list[str], expected_seeds: int) -> dict[str, str]:
    """Legend label per method, with its seed count when seeds are missing."""
    labels = {}
    for method in methods:
        seeds = curves.loc[curves["method"] == method, "seed"].nunique()
        suffix = "" if seeds == expected_seeds else f" ({seeds}/{expected_seeds} seeds)"
        labels[method] = method_label(method) + suffix
    return labels


def _split_title(split: str) -> str:
    return f"{split} tasks ({len(TASKS_BY_SPLIT[split])} ML10 classes)"


def _step_scale(max_steps: float) -> tuple[float, str]:
    """Divisor and axis label for env steps: millions or thousands where that reads better."""
    if max_steps >= 1e6:
        return 1e6, "Environment steps per run (millions)"
    if max_steps >= 1e4:
        return 1e3, "Environment steps per run (thousands)"
    return 1.0, "Environment steps per run"


def _save(figure: plt.Figure, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    figure.savefig(paths[0], dpi=150, bbox_inches="tight")
    figure.savefig(paths[1], bbox_inches="tight")
    plt.close(figure)
    return paths


def plot_learning_curves(
    curves: pd.DataFrame, methods: list[str], chance: pd.DataFrame | None, expected_seeds: int, stem: Path
) -> list[Path]:
    """Figure 4: average success and return against env steps, mean ± std over seeds, train and test.

    ``curves``: per (method, seed, split, iteration) the split's task means (scores.learning_curves);
    ``chance``: the same for the random policy (a dashed line), or None.
    """
    labels = _curve_labels(curves, methods, expected_seeds)
    palette = {labels[method]: colour for method, colour in method_colours(methods).items()}
    data = curves.assign(label=curves["method"].map(labels))
    scale, x_label = _step_scale(float(data["env_steps"].max()) if not data.empty else 0.0)
    data = data.assign(steps=data["env_steps"] / scale)
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    figure, axes = plt.subplots(len(CURVE_METRICS), len(SPLITS), figsize=(11, 7.5), sharex=True,
                                squeeze=False)
    for row, metric in enumerate(CURVE_METRICS):
        for column, split in enumerate(SPLITS):
            axis = axes[row][column]
            subset = data[data["split"] == split]
            if subset.empty:
                axis.text(0.5, 0.5, "no complete evaluation", ha="center", va="center",
                          transform=axis.transAxes, color="0.4")
            else:
                sns.lineplot(data=subset, x="steps", y=metric, hue="label", hue_order=list(palette),
                             palette=palette, errorbar="sd", marker="o", markersize=4, ax=axis,
                             legend=False)
            if chance is not None and not chance.empty:
                level = chance[chance["split"] == split][metric].mean()
                axis.axhline(level, color=_CHANCE_COLOUR, linestyle="--", linewidth=1.2)
            axis.set_title(f"({'ab'[row]}) {METRIC_LABELS[metric]}, {_split_title(split)}")
            axis.set_ylabel(METRIC_AXIS_LABELS[metric] if column == 0 else "")
            axis.set_xlabel(x_label if row == len(CURVE_METRICS) - 1 else "")
            if metric != "return":
                axis.set_ylim(-0.03, 1.03)
    handles = [plt.Line2D([], [], color=colour, marker="o", markersize=4, label=label)
               for label, colour in palette.items()]
    if chance is not None and not chance.empty:
        handles.append(plt.Line2D([], [], color=_CHANCE_COLOUR, linestyle="--",
                                  label="Random policy (chance level)"))
    wide = sum(len(handle.get_label()) for handle in handles) > 90
    figure.legend(handles=handles, loc="lower center", frameon=False, bbox_to_anchor=(0.5, -0.04 * (1 + wide)),
                  ncol=math.ceil(len(handles) / 2) if wide else len(handles))
    missing = ", fewer where the legend says so" if any(labels[m] != method_label(m) for m in methods) else ""
    figure.suptitle(f"ML10 learning curves: mean (line) ± std (band) over seeds "
                    f"({expected_seeds} per method{missing})", y=1.0)
    figure.tight_layout()
    return _save(figure, stem)


def _interval_panels(
    table: pd.DataFrame, row_key: str, labels: list[str], colours: list, x_label: str, title: str,
    reference: float | None, stem: Path,
) -> list[Path]:
    """One panel per (metric, split): a point and a horizontal interval per row label."""
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    height = 1.2 + 0.45 * max(len(labels), 1)
    figure, axes = plt.subplots(len(ROBUST_METRICS), len(SPLITS), figsize=(11, 2 * height),
                                sharey=True, squeeze=False)
    positions = np.arange(len(labels))[::-1]
    for row, metric in enumerate(ROBUST_METRICS):
        for column, split in enumerate(SPLITS):
            axis = axes[row][column]
            cells = table[(table["metric"] == metric) & (table["split"] == split)].set_index(row_key)
            for position, label, colour in zip(positions, labels, colours):
                if label not in cells.index or np.isnan(cells.loc[label, "estimate"]):
                    axis.text(0.5, position, "no complete run", ha="center", va="center", fontsize=9,
                              color="0.4")
                    continue
                cell = cells.loc[label]
                axis.hlines(position, cell["ci_low"], cell["ci_high"], color=colour, linewidth=5, alpha=0.45)
                axis.plot(cell["estimate"], position, "|", color=colour, markersize=16, markeredgewidth=2.5)
            if reference is not None:
                axis.axvline(reference, color="0.3", linestyle="--", linewidth=1)
            if not labels:
                axis.text(0.5, 0.5, "nothing to compare in this study", ha="center", va="center",
                          transform=axis.transAxes, color="0.4")
            axis.set_xlim(-0.05, 1.05)
            axis.set_ylim(-0.6, len(labels) - 0.4)
            axis.set_yticks(positions, labels)
            axis.set_title(f"{METRIC_LABELS[metric]}, {_split_title(split)}")
            axis.set_xlabel(x_label.format(metric=METRIC_LABELS[metric].lower()))
    figure.suptitle(title, y=1.0)
    figure.tight_layout()
    return _save(figure, stem)


def plot_iqm(table: pd.DataFrame, methods: list[str], confidence: float, stem: Path) -> list[Path]:
    """IQM (tick) and its interval (bar) per method; one panel per metric and split."""
    colours = method_colours(methods)
    return _interval_panels(
        table, "method_label", [method_label(m) for m in methods], list(colours.values()),
        "IQM of final {metric} (0-1)",
        f"Interquartile mean over seeds x tasks (tick) with {confidence:.0%} stratified-bootstrap "
        "intervals (bar)",
        None, stem,
    )


def plot_improvement(table: pd.DataFrame, methods: list[str], confidence: float, stem: Path) -> list[Path]:
    """P(HiMeta variant > baseline) and its interval per pair, coloured by the HiMeta variant."""
    method_colour = method_colours(methods)
    pairs = list(dict.fromkeys(table["pair_label"]))
    first_method = dict(zip(table["pair_label"], table["method"]))
    colours = [method_colour[first_method[pair]] for pair in pairs]
    return _interval_panels(
        table, "pair_label", pairs, colours, "P(X > Y) on final {metric}",
        f"Probability of improvement (tick) with {confidence:.0%} stratified-bootstrap intervals (bar); "
        "dashed: 0.5, no difference",
        0.5, stem,
    )
