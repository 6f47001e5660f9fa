"""Figures (PNG and PDF, seaborn): the paper's Figure 4 learning curves, the IQM intervals and the
probability of improvement. One colour-blind-safe colour, marker and line style per method, the same in
every figure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.labels import METRIC_AXIS_LABELS, METRIC_LABELS, SPLITS, Suite, method_label  # noqa: E402
from analysis.robust import ROBUST_METRICS  # noqa: E402

CURVE_METRICS: tuple[str, ...] = ("avg_success", "return")
"""Figure 4's rows: (a) average success, (b) return."""

_CHANCE_COLOUR = "0.45"
_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINE_STYLES: tuple = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))
FEWER_SEEDS_LABEL = "point averages fewer seeds than its legend entry says"


@dataclass(frozen=True)
class MethodStyle:
    """How one method is drawn: colour (colour-blind-safe palette), marker and line style."""

    colour: tuple[float, float, float]
    marker: str
    linestyle: str | tuple


def method_styles(methods: list[str]) -> dict[str, MethodStyle]:
    """A distinct colour, marker and line style per method, in study order (the same in every figure)."""
    colours = sns.color_palette("colorblind", n_colors=max(len(methods), 1))
    return {method: MethodStyle(colours[index], _MARKERS[index % len(_MARKERS)],
                                _LINE_STYLES[index % len(_LINE_STYLES)])
            for index, method in enumerate(methods)}


def method_colours(methods: list[str]) -> dict[str, tuple[float, float, float]]:
    """The colour of each method (see :func:`method_styles`)."""
    return {method: style.colour for method, style in method_styles(methods).items()}


def _curve_seeds(curves: pd.DataFrame, methods: list[str]) -> dict[str, int]:
    """Per method, the number of seeds with any point on Figure 4."""
    return {method: int(curves.loc[curves["method"] == method, "seed"].nunique()) for method in methods}


def curve_labels(curves: pd.DataFrame, methods: list[str], expected_seeds: int) -> dict[str, str]:
    """Legend label per method, with ``(n=3 of 5 seeds)`` when seeds are missing."""
    seeds = _curve_seeds(curves, methods)
    return {method: method_label(method) + ("" if seeds[method] == expected_seeds
                                            else f" (n={seeds[method]} of {expected_seeds} seeds)")
            for method in methods}


def curve_points(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (method, split, iteration): env steps, mean and sample std (ddof = 1) of ``metric`` over seeds,
    and how many seeds the point averages."""
    grouped = curves.groupby(["method", "split", "iteration"], sort=True)
    points = grouped.agg(steps=("env_steps", "mean"), mean=(metric, "mean"), std=(metric, "std"),
                         seeds=("seed", "nunique"))
    return points.reset_index()


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


def _draw_method(axis: plt.Axes, points: pd.DataFrame, style: MethodStyle, seeds: int, scale: float) -> bool:
    """One method's line, band and markers on a panel; hollow rings where a point averages fewer than
    ``seeds`` seeds. Returns whether any point was ringed."""
    steps = points["steps"].to_numpy() / scale
    axis.plot(steps, points["mean"], color=style.colour, marker=style.marker, linestyle=style.linestyle,
              markersize=5, linewidth=1.6)
    axis.fill_between(steps, points["mean"] - points["std"], points["mean"] + points["std"],
                      color=style.colour, alpha=0.15, linewidth=0)
    fewer = points[points["seeds"] < seeds]
    axis.plot(fewer["steps"] / scale, fewer["mean"], linestyle="none", marker="o", markersize=12,
              markerfacecolor="none", markeredgecolor=style.colour, markeredgewidth=1.5)
    return not fewer.empty


def _legend(figure: plt.Figure, methods: list[str], styles: dict[str, MethodStyle], labels: dict[str, str],
            chance: bool, fewer: bool) -> None:
    handles = [plt.Line2D([], [], color=styles[m].colour, marker=styles[m].marker,
                          linestyle=styles[m].linestyle, markersize=5, label=labels[m]) for m in methods]
    if chance:
        handles.append(plt.Line2D([], [], color=_CHANCE_COLOUR, linestyle="--",
                                  label="Random policy (chance level)"))
    if fewer:
        handles.append(plt.Line2D([], [], color="0.2", linestyle="none", marker="o", markersize=12,
                                  markerfacecolor="none", label=FEWER_SEEDS_LABEL))
    wide = sum(len(handle.get_label()) for handle in handles) > 90
    figure.legend(handles=handles, loc="lower center", frameon=False,
                  bbox_to_anchor=(0.5, -0.04 * (1 + wide)), ncol=math.ceil(len(handles) / 2) if wide else len(handles))


def learning_figure(curves: pd.DataFrame, methods: list[str], chance: pd.DataFrame | None,
                    expected_seeds: int, suite: Suite) -> plt.Figure:
    """Figure 4: average success and return against env steps, mean ± std over seeds, train and test.

    ``curves``: per (method, seed, split, iteration) the split's task means (scores.learning_curves);
    ``chance``: the same for the random policy (a dashed line), or None. A method with missing seeds says
    so in the legend (``n=3 of 5 seeds``); a point averaging fewer seeds than that has a hollow ring.
    """
    labels, styles = curve_labels(curves, methods, expected_seeds), method_styles(methods)
    seeds = _curve_seeds(curves, methods)
    scale, x_label = _step_scale(float(curves["env_steps"].max()) if not curves.empty else 0.0)
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)
    figure, axes = plt.subplots(len(CURVE_METRICS), len(SPLITS), figsize=(11, 7.5), sharex=True,
                                squeeze=False)
    has_chance, fewer = chance is not None and not chance.empty, False
    for row, metric in enumerate(CURVE_METRICS):
        points = curve_points(curves, metric)
        for column, split in enumerate(SPLITS):
            axis = axes[row][column]
            for method in methods:
                subset = points[(points["method"] == method) & (points["split"] == split)]
                if not subset.empty:
                    fewer |= _draw_method(axis, subset, styles[method], seeds[method], scale)
            if points[points["split"] == split].empty:
                axis.text(0.5, 0.5, "no complete evaluation", ha="center", va="center",
                          transform=axis.transAxes, color="0.4")
            if has_chance:
                level = chance[chance["split"] == split][metric].mean()
                axis.axhline(level, color=_CHANCE_COLOUR, linestyle="--", linewidth=1.2)
            axis.set_title(f"({'ab'[row]}) {METRIC_LABELS[metric]}, {suite.split_title(split)}")
            axis.set_ylabel(METRIC_AXIS_LABELS[metric] if column == 0 else "")
            axis.set_xlabel(x_label if row == len(CURVE_METRICS) - 1 else "")
            if metric != "return":
                axis.set_ylim(-0.03, 1.03)
    _legend(figure, methods, styles, labels, has_chance, fewer)
    missing = ", fewer where the legend says so" if any(labels[m] != method_label(m) for m in methods) else ""
    figure.suptitle(f"{suite.title} learning curves: mean (line) ± std (band) over seeds "
                    f"({expected_seeds} per method{missing})", y=1.0)
    figure.tight_layout()
    return figure


def plot_learning_curves(curves: pd.DataFrame, methods: list[str], chance: pd.DataFrame | None,
                         expected_seeds: int, suite: Suite, stem: Path) -> list[Path]:
    """Figure 4 (:func:`learning_figure`) as ``stem``.png and .pdf."""
    return _save(learning_figure(curves, methods, chance, expected_seeds, suite), stem)


def _interval_panels(
    table: pd.DataFrame, row_key: str, labels: list[str], colours: list, x_label: str, title: str,
    reference: float | None, suite: Suite, stem: Path,
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
            axis.set_title(f"{METRIC_LABELS[metric]}, {suite.split_title(split)}")
            axis.set_xlabel(x_label.format(metric=METRIC_LABELS[metric].lower()))
    figure.suptitle(title, y=1.0)
    figure.tight_layout()
    return _save(figure, stem)


def plot_iqm(table: pd.DataFrame, methods: list[str], confidence: float, suite: Suite,
             stem: Path) -> list[Path]:
    """IQM (tick) and its interval (bar) per method; one panel per metric and split."""
    colours = method_colours(methods)
    return _interval_panels(
        table, "method_label", [method_label(m) for m in methods], list(colours.values()),
        "IQM of final {metric} (0-1)",
        f"Interquartile mean over seeds x tasks (tick) with {confidence:.0%} stratified-bootstrap "
        "intervals (bar)",
        None, suite, stem,
    )


def plot_improvement(table: pd.DataFrame, methods: list[str], confidence: float, suite: Suite,
                     stem: Path) -> list[Path]:
    """P(HiMeta variant > baseline) and its interval per pair, coloured by the HiMeta variant."""
    method_colour = method_colours(methods)
    pairs = list(dict.fromkeys(table["pair_label"]))
    first_method = dict(zip(table["pair_label"], table["method"]))
    colours = [method_colour[first_method[pair]] for pair in pairs]
    return _interval_panels(
        table, "pair_label", pairs, colours, "P(X > Y) on final {metric}",
        f"Probability of improvement (tick) with {confidence:.0%} stratified-bootstrap intervals (bar); "
        "dashed: 0.5, no difference",
        0.5, suite, stem,
    )
