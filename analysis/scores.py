"""Per-run final scores and per-run learning curves: the numbers every table and figure starts from."""

from __future__ import annotations

import pandas as pd

from analysis.errors import ReportInputError
from analysis.labels import METRICS, Suite
from analysis.settings import ReportSettings

SCORE_COLUMNS: tuple[str, ...] = (
    "method", "seed", "split", "task", *METRICS, "final_iterations", "final_env_steps",
)


def final_iterations(evaluations: pd.DataFrame, settings: ReportSettings) -> dict[str, list[int]]:
    """Per method, the evaluation points that make up the final score (from all its seeds together).

    Raises:
        ReportInputError: a method has fewer evaluation points than ``report.last_k`` asks for.
    """
    points: dict[str, list[int]] = {}
    for method, rows in evaluations.groupby("method", sort=False):
        available = sorted(set(rows["iteration"]))
        wanted = settings.points_averaged
        if len(available) < wanted:
            raise ReportInputError(
                f"{method} has {len(available)} evaluation point(s) ({available}) but report.last_k = "
                f"{wanted}; lower report.last_k or evaluate more often"
            )
        points[str(method)] = available[-wanted:]
    return points


def final_scores(evaluations: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    """One row per (method, seed, task): each metric averaged over the method's final evaluation points.

    A (run, task) that lacks one of those points has no final score (a gap the loader recorded), so it
    does not enter the tables' means and the cell's seed count shows it.
    """
    if evaluations.empty:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    finals = final_iterations(evaluations, settings)
    chosen = evaluations[[it in finals[m] for m, it in zip(evaluations["method"], evaluations["iteration"])]]
    grouped = chosen.groupby(["method", "seed", "split", "task"], sort=False)
    scores = grouped[list(METRICS)].mean()
    scores["final_iterations"] = grouped["iteration"].size()
    scores["final_env_steps"] = grouped["env_steps"].max()
    scores = scores.reset_index()
    expected = scores["method"].map(lambda method: len(finals[method]))
    return scores[scores["final_iterations"] == expected][list(SCORE_COLUMNS)].reset_index(drop=True)


def learning_curves(evaluations: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """Per (method, seed, split, eval point): each metric averaged over the split's tasks of ``suite``.

    Only points where the run has every task of the split enter (a mean over fewer tasks would not be
    comparable); ``env_steps`` is the method's mean over seeds at that iteration, so seeds line up on
    Figure 4's x axis.
    """
    columns = ["method", "seed", "split", "iteration", "env_steps", *METRICS]
    if evaluations.empty:
        return pd.DataFrame(columns=columns)
    grouped = evaluations.groupby(["method", "seed", "split", "iteration"], sort=False)
    curves = grouped[list(METRICS)].mean()
    curves["tasks"] = grouped["task"].nunique()
    curves = curves.reset_index()
    complete = curves["tasks"] == curves["split"].map(lambda split: len(suite.tasks[split]))
    steps = evaluations.groupby(["method", "iteration"])["env_steps"].mean().rename("env_steps")
    curves = curves[complete].join(steps, on=["method", "iteration"])
    return curves[columns].reset_index(drop=True)
