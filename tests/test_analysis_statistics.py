"""IQM, stratified bootstrap and probability of improvement against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.statistics import (
    improvement_interval,
    interquartile_mean,
    iqm_interval,
    probability_of_improvement,
    stratified_bootstrap,
)


def test_iqm_of_a_known_matrix_drops_a_quarter_at_each_end():
    # 8 scores: drop 2 lowest (1, 2) and 2 highest (7, 8), mean of 3, 4, 5, 6 = 4.5
    assert interquartile_mean(np.array([[8.0, 1.0, 3.0, 6.0], [2.0, 7.0, 5.0, 4.0]])) == pytest.approx(4.5)
    # 10 scores: floor(10 / 4) = 2 dropped at each end, mean of 3..8 = 5.5
    assert interquartile_mean(np.arange(1.0, 11.0).reshape(2, 5)) == pytest.approx(5.5)
    # 5 seeds x 2 tasks with an outlier the IQM ignores: sorted 0.1 0.2 0.2 0.3 0.4 0.4 0.5 0.6 0.7 9.0
    scores = np.array([[0.1, 0.4], [0.2, 0.5], [0.2, 0.6], [0.3, 0.7], [0.4, 9.0]])
    assert interquartile_mean(scores) == pytest.approx((0.2 + 0.3 + 0.4 + 0.4 + 0.5 + 0.6) / 6)


def test_bootstrap_interval_of_a_constant_score_is_that_constant():
    interval = iqm_interval(np.full((5, 3), 0.7), 500, 0.95, np.random.default_rng(0))
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((0.7, 0.7, 0.7))


def test_stratified_bootstrap_resamples_runs_within_each_task_only():
    scores = np.array([[10.0, 20.0, 30.0], [11.0, 21.0, 31.0], [12.0, 22.0, 32.0]])
    samples = stratified_bootstrap(scores, 200, np.random.default_rng(1))
    assert samples.shape == (200, 3, 3)
    for task in range(3):
        assert set(np.unique(samples[:, :, task])) <= set(scores[:, task])
    # runs are drawn independently per task: some resample mixes rows across tasks
    assert any(len({int(v) % 10 for v in sample_run}) > 1 for sample in samples for sample_run in sample)


def test_iqm_interval_brackets_the_estimate_and_is_reproducible():
    scores = np.array([[0.1, 0.5, 0.9], [0.3, 0.4, 0.8], [0.2, 0.6, 0.7], [0.0, 0.5, 1.0]])
    first = iqm_interval(scores, 1000, 0.95, np.random.default_rng(7))
    again = iqm_interval(scores, 1000, 0.95, np.random.default_rng(7))
    assert first == again
    assert first.low <= first.estimate <= first.high and first.low < first.high


def test_probability_of_improvement_matches_the_mann_whitney_count():
    x = np.array([[0.9, 0.5], [0.7, 0.5]])
    y = np.array([[0.8, 0.5], [0.6, 0.4]])
    # task 0: 0.9>0.8, 0.9>0.6, 0.7<0.8, 0.7>0.6 -> 3/4; task 1: tie, win, tie, win -> (0.5+1+0.5+1)/4
    assert probability_of_improvement(x, y) == pytest.approx(0.75)
    assert probability_of_improvement(x, y) + probability_of_improvement(y, x) == pytest.approx(1.0)
    assert probability_of_improvement(np.array([[2.0]]), np.array([[2.0]])) == pytest.approx(0.5)


def test_improvement_interval_of_identical_constant_scores_is_one_half():
    interval = improvement_interval(np.full((3, 4), 0.2), np.full((5, 4), 0.2), 300, 0.95,
                                    np.random.default_rng(0))
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((0.5, 0.5, 0.5))


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.array([[0.1, np.nan]]), np.zeros(4)])
def test_statistics_reject_empty_nan_or_flat_input(bad):
    with pytest.raises(ValueError, match="scores"):
        interquartile_mean(bad)


def test_probability_of_improvement_needs_the_same_tasks():
    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement(np.zeros((2, 3)), np.zeros((2, 4)))
