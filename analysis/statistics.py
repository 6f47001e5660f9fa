"""Robust aggregate statistics after Agarwal et al. (2021), "Deep RL at the Edge of the Statistical
Precipice": interquartile mean, stratified-bootstrap percentile intervals and probability of improvement.

Scores are matrices ``[runs, tasks]`` (runs = seeds). The stratified bootstrap resamples runs with
replacement independently within each task (rliable's ``StratifiedBootstrap`` without task resampling).
Written here because rliable does not import with pandas 3; the definitions follow the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float


def _as_matrix(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(f"{name} must be a non-empty [runs, tasks] matrix, got shape {matrix.shape}")
    if np.isnan(matrix).any():
        raise ValueError(f"{name} contains NaN; drop incomplete runs first")
    return matrix


def batched_iqm(samples: np.ndarray) -> np.ndarray:
    """Interquartile mean of each ``samples[b]`` (all remaining axes pooled): the mean of the middle
    values after dropping ``floor(n / 4)`` from each end of the sorted ``n`` scores (scipy's
    ``trim_mean(x, 0.25)``, as rliable's ``aggregate_iqm``)."""
    flat = np.sort(samples.reshape(samples.shape[0], -1), axis=1)
    n = flat.shape[1]
    cut = n // 4
    return flat[:, cut:n - cut].mean(axis=1)


def interquartile_mean(scores: np.ndarray) -> float:
    """IQM of a ``[runs, tasks]`` matrix (all runs x tasks pooled)."""
    return float(batched_iqm(_as_matrix(scores)[None])[0])


def stratified_bootstrap(scores: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``[resamples, runs, tasks]``: per task, ``runs`` runs drawn with replacement from that task's runs."""
    matrix = _as_matrix(scores)
    runs, tasks = matrix.shape
    rows = rng.integers(0, runs, size=(resamples, runs, tasks))
    return matrix[rows, np.arange(tasks)]


def percentile_interval(estimate: float, replicates: np.ndarray, confidence: float) -> Interval:
    """The percentile bootstrap interval of ``replicates`` around ``estimate``."""
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return Interval(estimate, float(low), float(high))


def iqm_interval(
    scores: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator
) -> Interval:
    """IQM of ``scores`` with its stratified-bootstrap percentile interval."""
    replicates = batched_iqm(stratified_bootstrap(scores, resamples, rng))
    return percentile_interval(interquartile_mean(scores), replicates, confidence)


def batched_probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) for each batch entry of ``x [B, n, tasks]`` and ``y [B, m, tasks]``: per task the
    Mann-Whitney statistic ``mean_{i, j} [x_i > y_j] + 0.5 [x_i == y_j]``, then the mean over tasks."""
    greater = (x[:, :, None, :] > y[:, None, :, :]).mean(axis=(1, 2))
    ties = (x[:, :, None, :] == y[:, None, :, :]).mean(axis=(1, 2))
    return (greater + 0.5 * ties).mean(axis=1)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): the probability that a run of X beats a run of Y on a task drawn uniformly at random."""
    x, y = _as_matrix(x, "x"), _as_matrix(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must score the same tasks, got {x.shape[1]} and {y.shape[1]} columns")
    return float(batched_probability_of_improvement(x[None], y[None])[0])


def improvement_interval(
    x: np.ndarray, y: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator
) -> Interval:
    """P(X > Y) with a percentile interval from independent stratified bootstraps of X and Y."""
    estimate = probability_of_improvement(x, y)
    replicates = batched_probability_of_improvement(
        stratified_bootstrap(x, resamples, rng), stratified_bootstrap(y, resamples, rng)
    )
    return percentile_interval(estimate, replicates, confidence)

