"""HiMeta's equations against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms.himeta.equations import (
    categorical_entropy_regularizer,
    goal_indices_constant_discretization,
    goal_indices_constant_margin,
    goal_indices_subtask,
    intrinsic_reward,
    occupancy_loss,
    occupancy_weights,
    shaped_reward,
)


def test_eq7_uniform_is_zero_and_one_hot_is_log_k():
    assert categorical_entropy_regularizer(torch.zeros(5)).item() == pytest.approx(0.0, abs=1e-7)
    peaked = torch.tensor([50.0, 0.0, 0.0, 0.0, 0.0])
    assert categorical_entropy_regularizer(peaked).item() == pytest.approx(math.log(5), abs=1e-6)


def test_eq7_hand_computed_two_categories():
    # phi = (0.75, 0.25): log 2 - H = log 2 + 0.75 log 0.75 + 0.25 log 0.25
    logits = torch.log(torch.tensor([0.75, 0.25]))
    expected = math.log(2) + 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    assert categorical_entropy_regularizer(logits).item() == pytest.approx(expected, abs=1e-6)


def test_eq8_weights_and_values():
    weights = occupancy_weights(3)
    np.testing.assert_allclose(weights.numpy(), np.log(3) * np.exp([-2.0, -1.0, 0.0]), rtol=1e-6)
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    expected = np.log(3) * np.array([np.exp(-2), 1.0, 0.5 * np.exp(-2) + 0.5 * np.exp(-1)])
    np.testing.assert_allclose(occupancy_loss(y).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(occupancy_loss(y, sign=-1.0).numpy(), -expected, rtol=1e-6)
    assert occupancy_loss(y)[1] > occupancy_loss(y)[0]  # later categories cost more


def test_eq16_sign_agreement_scaled_by_extrinsic_reward():
    z = np.array([[0.3, -0.2, 0.1, -0.9], [0.3, -0.2, 0.0, -0.9]])
    a = np.array([[0.5, 0.4, -0.1, -0.2], [0.5, -0.4, 0.0, 0.2]])
    r_ext = np.array([2.0, 4.0])
    # row 0: agree on dims 0 and 3 -> 2/4; row 1: dims 0, 1 and the exact zeros of dim 2 -> 3/4
    np.testing.assert_allclose(intrinsic_reward(r_ext, z, a), [1.0, 3.0])
    assert intrinsic_reward(np.array([0.0]), z[:1], z[:1])[0] == 0.0  # bounded by r_ext


def test_eq16_zero_agrees_only_with_zero():
    assert intrinsic_reward(np.array(1.0), np.array([0.0]), np.array([0.1])) == 0.0


@pytest.mark.parametrize("a", [0.5, 1.0, 3.0, 5.0])
def test_eq21_continuous_at_a_and_anchored(a):
    eps = 1e-9
    below, at, above = shaped_reward(np.array([a - eps, a, a + eps]), a)
    assert at == pytest.approx(a)
    assert below == pytest.approx(a, abs=1e-6) and above == pytest.approx(a, abs=1e-6)
    assert shaped_reward(np.array([0.0]), a)[0] == 0.0


def test_eq21_hand_computed_values_for_a_3():
    values = shaped_reward(np.array([1.0, 2.0, 5.0, 10.0]), 3.0)
    expected = [
        math.log((math.exp(3) - 1) / 3 * 1 + 1),  # 2.0
        math.log((math.exp(3) - 1) / 3 * 2 + 1),  # 2.62
        0.3 * (5 - 3) + 3,  # 3.6
        0.3 * (10 - 3) + 3,  # 5.1
    ]
    np.testing.assert_allclose(values, expected)
    assert values[0] == pytest.approx(2.0, abs=0.01) and values[1] == pytest.approx(2.62, abs=0.01)


def test_eq21_rejects_negative_rewards_and_bad_a():
    with pytest.raises(ValueError, match="non-negative"):
        shaped_reward(np.array([-0.1]), 3.0)
    with pytest.raises(ValueError, match="a must be > 0"):
        shaped_reward(np.array([1.0]), 0.0)


def test_constant_discretization_blocks_of_m():
    # T = 7, M = 3: steps 0-2 -> s_3, 3-5 -> s_6, 6 -> s_7 (the final state)
    np.testing.assert_array_equal(goal_indices_constant_discretization(7, 3), [3, 3, 3, 6, 6, 6, 7])


def test_constant_margin_slides():
    np.testing.assert_array_equal(goal_indices_constant_margin(6, 2), [2, 3, 4, 5, 6, 6])


def test_subtask_goals_at_label_changes():
    labels = np.array([0, 0, 2, 2, 2, 1, 1])
    # changes at t = 2 and t = 5; the last segment aims at s_7
    np.testing.assert_array_equal(goal_indices_subtask(labels), [2, 2, 5, 5, 5, 7, 7])
    np.testing.assert_array_equal(goal_indices_subtask(np.zeros(4, int)), [4, 4, 4, 4])
    np.testing.assert_array_equal(goal_indices_subtask(np.array([0, 1, 0, 1])), [1, 2, 3, 4])


def test_goal_rules_reject_bad_arguments():
    with pytest.raises(ValueError, match="horizon"):
        goal_indices_constant_margin(5, 0)
    with pytest.raises(ValueError, match="1-D"):
        goal_indices_subtask(np.zeros((2, 2)))
