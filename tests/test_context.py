"""PEARL's context pieces: product of Gaussians, KL, the running belief, the per-task episode FIFO."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms.common.context import (
    ContextEncoder,
    GaussianBelief,
    TaskEpisodeBuffer,
    kl_to_standard_normal,
    product_of_gaussians,
)


def test_product_of_gaussians_against_hand_computed_values():
    # task 0: N(1, 1) x N(3, 1) -> precision 2: var 1/2, mean (1 + 3) / 2 = 2
    # task 1: N(0, 1) x N(4, 3) -> precision 1 + 1/3 = 4/3: var 3/4, mean 3/4 * (0 + 4/3) = 1
    means = torch.tensor([[[1.0], [3.0]], [[0.0], [4.0]]])
    variances = torch.tensor([[[1.0], [1.0]], [[1.0], [3.0]]])
    mean, variance = product_of_gaussians(means, variances)
    torch.testing.assert_close(mean, torch.tensor([[2.0], [1.0]]))
    torch.testing.assert_close(variance, torch.tensor([[0.5], [0.75]]))


def test_product_is_permutation_invariant_and_one_factor_is_itself():
    torch.manual_seed(0)
    means, variances = torch.randn(5, 3), torch.rand(5, 3) + 0.1
    mean, variance = product_of_gaussians(means, variances)
    shuffled = torch.randperm(5)
    torch.testing.assert_close(product_of_gaussians(means[shuffled], variances[shuffled]), (mean, variance))
    torch.testing.assert_close(product_of_gaussians(means[:1], variances[:1]), (means[0], variances[0]))


def test_kl_to_standard_normal_against_hand_computed_value():
    # 0.5 * [(2 + 1 - 1 - ln 2) + (0.5 + 0 - 1 - ln 0.5)] = 0.5 * 1.5 = 0.75
    kl = kl_to_standard_normal(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.5]]))
    torch.testing.assert_close(kl, torch.tensor([0.75]))
    assert kl_to_standard_normal(torch.zeros(1, 4), torch.ones(1, 4)).item() == 0.0
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(torch.tensor([1.0, 0.0]), torch.tensor([2.0, 0.5]).sqrt()),
        torch.distributions.Normal(0.0, 1.0)).sum()
    assert math.isclose(kl.item(), reference.item(), rel_tol=1e-6)


def test_running_belief_equals_the_batch_posterior_of_everything_seen():
    torch.manual_seed(0)
    encoder = ContextEncoder(input_dim=6, hidden_sizes=(16,), latent_dim=3)
    context = torch.randn(4, 7, 6)  # 4 slots, 7 transitions each
    belief = GaussianBelief.prior(4, 3, torch.device("cpu"))
    prior_mean, prior_variance = belief.distribution()
    assert torch.equal(prior_mean, torch.zeros(4, 3)) and torch.equal(prior_variance, torch.ones(4, 3))
    with torch.no_grad():
        for t in range(7):
            belief = belief.add(*encoder(context[:, t]))
        torch.testing.assert_close(belief.distribution(), encoder.posterior(context))
    assert (belief.count == 7).all()


def test_encoder_factor_variances_are_softplus_of_the_second_half():
    encoder = ContextEncoder(input_dim=2, hidden_sizes=(), latent_dim=1)
    with torch.no_grad():
        encoder.net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        encoder.net[0].bias.zero_()
    mean, variance = encoder(torch.tensor([[0.5, 0.0], [-1.0, 2.0]]))
    torch.testing.assert_close(mean, torch.tensor([[0.5], [-1.0]]))
    torch.testing.assert_close(variance, torch.tensor([[math.log(2.0)], [math.log(1 + math.e**2)]]))


def _episodes(count: int, value: float, steps: int = 4):
    obs = np.full((count, steps + 1, 2), value, np.float32)
    obs[:, :, 1] = np.arange(steps + 1)  # the step index, to check next_obs alignment
    return obs, np.full((count, steps, 1), value, np.float32), np.full((count, steps), value, np.float32)


def test_buffer_keeps_the_latest_context_set_per_task_and_evicts_fifo():
    buffer = TaskEpisodeBuffer(capacity_episodes=5, steps=4, obs_dim=2, action_dim=1)
    buffer.add_trial(0, *_episodes(3, 0.0), context=np.array([True, True, False]))
    buffer.add_trial(1, *_episodes(2, 1.0), context=np.array([True, False]))
    assert list(buffer.tasks_with_context()) == [0, 1]
    assert list(buffer.episodes_of(0, context_only=True)) == [0, 1]
    buffer.add_trial(0, *_episodes(2, 2.0), context=np.array([True, False]))  # overwrites slots 0, 1
    assert list(buffer.episodes_of(0, context_only=False)) == [0, 1, 2]
    assert list(buffer.episodes_of(0, context_only=True)) == [0]  # the old context set is gone
    assert buffer.observations[0, 0, 0] == 2.0 and buffer.size == 5 and buffer.cursor == 2
    buffer.add_trial(1, *_episodes(1, 3.0), context=np.array([False]))
    assert list(buffer.tasks_with_context()) == [0]  # task 1 has replay data but no context now


def test_buffer_samples_within_a_task_with_the_true_next_observation():
    buffer = TaskEpisodeBuffer(capacity_episodes=8, steps=4, obs_dim=2, action_dim=1)
    buffer.add_trial(0, *_episodes(2, 0.0), context=np.array([True, False]))
    buffer.add_trial(1, *_episodes(2, 1.0), context=np.array([True, True]))
    batch = buffer.sample(np.array([1, 0, 1]), 50, np.random.default_rng(0), context_only=False)
    assert batch["obs"].shape == (3, 50, 2) and batch["rewards"].shape == (3, 50)
    np.testing.assert_array_equal(batch["obs"][:, :, 0], np.array([1.0, 0.0, 1.0])[:, None].repeat(50, 1))
    np.testing.assert_array_equal(batch["next_obs"][..., 1], batch["obs"][..., 1] + 1)
    assert (batch["next_obs"][..., 1] == 4).any()  # the last step's next obs is the final obs s_T


def test_buffer_checkpoint_holds_only_the_filled_part_and_restores_sampling():
    buffer = TaskEpisodeBuffer(capacity_episodes=100, steps=4, obs_dim=2, action_dim=1)
    buffer.add_trial(3, *_episodes(2, 5.0), context=np.array([True, False]))
    state = buffer.state_dict()
    assert state["observations"].shape == (2, 5, 2)
    restored = TaskEpisodeBuffer(capacity_episodes=100, steps=4, obs_dim=2, action_dim=1)
    restored.load_state_dict(state)
    for context_only in (False, True):
        expected = buffer.sample(np.array([3]), 10, np.random.default_rng(1), context_only)
        actual = restored.sample(np.array([3]), 10, np.random.default_rng(1), context_only)
        for key in expected:
            np.testing.assert_array_equal(actual[key], expected[key])
    with pytest.raises(ValueError, match="does not fit"):
        TaskEpisodeBuffer(capacity_episodes=1, steps=4, obs_dim=2, action_dim=1).load_state_dict(state)


def test_recent_tasks_are_those_whose_context_was_collected_in_the_last_iterations():
    buffer = TaskEpisodeBuffer(capacity_episodes=20, steps=4, obs_dim=2, action_dim=1)
    for iteration in range(6):
        buffer.add_trial(iteration, *_episodes(2, 0.0), context=np.array([True, False]), iteration=iteration)
    buffer.add_trial(1, *_episodes(1, 1.0), context=np.array([True]), iteration=6)  # task 1 replayed
    assert buffer.recent_tasks(6, window=3).tolist() == [1, 4, 5]
    assert buffer.recent_tasks(6, window=1).tolist() == [1]
    assert buffer.recent_tasks(6, window=0).tolist() == [0, 1, 2, 3, 4, 5]  # no window: every task
    state = buffer.state_dict()
    restored = TaskEpisodeBuffer(capacity_episodes=20, steps=4, obs_dim=2, action_dim=1)
    restored.load_state_dict(state)
    assert restored.recent_tasks(6, window=3).tolist() == [1, 4, 5]
