"""The episode metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envs.metrics import episode_metrics, task_table


def test_hand_made_episode():
    rewards = np.array([1.0, 2.0, 3.0, 4.0])
    successes = np.array([0, 0, 1, 0])
    m = episode_metrics(rewards, successes)
    assert m.returns == pytest.approx(10.0)
    assert m.success == 1.0  # ever successful, even though the flag drops again
    assert m.avg_success == pytest.approx((0 + 0 + 1 + 1) / 4)  # running max stays 1 after success


@pytest.mark.parametrize(
    "successes, expected_avg, expected_success",
    [
        ([0, 0, 0, 0, 0], 0.0, 0.0),
        ([1, 0, 0, 0, 0], 1.0, 1.0),
        ([0, 0, 0, 0, 1], 0.2, 1.0),
        ([0, 1, 1, 0, 1], 0.8, 1.0),
    ],
)
def test_average_success_rewards_speed(successes, expected_avg, expected_success):
    m = episode_metrics(np.zeros(5), np.array(successes))
    assert m.avg_success == pytest.approx(expected_avg)
    assert m.success == expected_success


def test_batched_leading_axes():
    rewards = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    successes = np.zeros((2, 3, 4), dtype=bool)
    successes[1, 2, 1] = True
    m = episode_metrics(rewards, successes)
    assert m.returns.shape == (2, 3)
    assert m.returns[0, 0] == 0 + 1 + 2 + 3
    assert m.returns[1, 2] == 20 + 21 + 22 + 23
    assert m.success.sum() == 1 and m.success[1, 2] == 1
    assert m.avg_success[1, 2] == pytest.approx(3 / 4)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same"):
        episode_metrics(np.zeros(4), np.zeros(5))


def test_task_table_means_and_counts():
    episodes = pd.DataFrame(
        {
            "task": ["a", "a", "b", "a"],
            "avg_success": [0.5, 0.0, 1.0, 1.0],
            "success": [1.0, 0.0, 1.0, 1.0],
            "return": [10.0, 2.0, 7.0, 3.0],
        }
    )
    table = task_table(episodes).set_index("task")
    assert table.loc["a", "avg_success"] == pytest.approx(0.5)
    assert table.loc["a", "success"] == pytest.approx(2 / 3)
    assert table.loc["a", "return"] == pytest.approx(5.0)
    assert table.loc["a", "episodes"] == 3
    assert table.loc["b", "episodes"] == 1
    assert list(table.index) == ["a", "b"]  # order of first appearance, not alphabetical
