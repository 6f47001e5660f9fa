"""SD's ELBO pieces, reward scaling and encoder mechanics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms.common.networks import soft_clip
from algorithms.registry import load_method
from algorithms.sd.equations import categorical_kl_to_uniform, gaussian_kl_estimate, occupancy_regularizer
from algorithms.sd.losses import elbo_loss
from algorithms.sd.networks import (
    ConditionalPrior,
    RewardDecoder,
    StateDecoder,
    SubtaskEncoder,
)
from algorithms.sd.reward_scaling import ReturnScaler

K = 10  # SD's number of sub-tasks on ML10
LOG_K = 2.302585092994046  # ln 10


def test_occupancy_regularizer_matches_hand_computed_values():
    """c_k = ln K * e^{k-K}, k = 1..K: e_K costs ln K, e_1 costs ln K * e^{-9}."""
    eye = torch.eye(K)
    values = occupancy_regularizer(eye)
    assert values[-1].item() == pytest.approx(LOG_K, rel=1e-6)
    assert values[0].item() == pytest.approx(2.302585093 * 1.2340980e-4, rel=1e-5)
    assert values[-2].item() == pytest.approx(2.302585093 * 0.3678794412, rel=1e-6)
    mixed = torch.zeros(K)
    mixed[-2:] = 0.5  # 0.5 * ln 10 * (e^-1 + 1) = 1.574833
    assert occupancy_regularizer(mixed).item() == pytest.approx(1.574833, rel=1e-5)
    assert torch.all(values[1:] > values[:-1])  # later sub-tasks always cost more


def test_categorical_term_is_kl_to_uniform():
    """sum q log q + ln K: q = (1/2, 1/4, 1/4) gives -0.346574 - 0.693147 + 1.098612 = 0.058892."""
    logits = torch.log(torch.tensor([0.5, 0.25, 0.25]))
    assert categorical_kl_to_uniform(logits).item() == pytest.approx(0.058892, abs=1e-6)
    assert categorical_kl_to_uniform(torch.zeros(K)).item() == pytest.approx(0.0, abs=1e-6)
    peaked = torch.tensor([50.0] + [0.0] * (K - 1))
    assert categorical_kl_to_uniform(peaked).item() == pytest.approx(LOG_K, abs=1e-5)


def test_gaussian_term_is_the_single_sample_log_ratio():
    """z = 1: log N(1; 0, 1) - log N(1; 1, 4) = -1/2 + (1/2) ln 4 = 0.193147 (per dim, summed)."""
    ones, zeros = torch.ones(1, 2), torch.zeros(1, 2)
    value = gaussian_kl_estimate(ones, zeros, ones, ones, 4 * ones)
    assert value.item() == pytest.approx(2 * 0.193147, abs=1e-5)
    assert gaussian_kl_estimate(ones, zeros, ones, zeros, ones).item() == pytest.approx(0.0, abs=1e-6)


def test_reward_scaling_follows_the_running_return_variance():
    """gamma = 0.5, rewards [[1, 2], [3, 0]] (two trials side by side).

    t=0: returns (1, 3), Var = 1 -> (1, 3). t=1: returns (2.5, 1.5); merged over all four returns
    Var = (1 * 2 + 0.25 * 2) / 4 = 0.625 -> (2 / sqrt(0.625), 0) = (2.529822, 0).
    """
    scaler = ReturnScaler(gamma=0.5, clip=10.0)
    scaled = scaler(np.array([[1.0, 2.0], [3.0, 0.0]]))
    np.testing.assert_allclose(scaled, [[1.0, 2.529822], [3.0, 0.0]], rtol=1e-6)
    clipped = ReturnScaler(gamma=0.5, clip=2.0)(np.array([[1.0, 2.0], [3.0, 0.0]]))
    np.testing.assert_allclose(clipped, [[1.0, 2.0], [2.0, 0.0]], rtol=1e-6)


def test_log_std_soft_clip():
    """Into (ln 0.5, ln 1.5) around c = ln(0.75) / 2: x = 0 -> tanh(0.261861) * 0.549306 - 0.143841."""
    low, high = math.log(0.5), math.log(1.5)
    values = soft_clip(torch.tensor([0.0, 30.0, -30.0]), low, high)
    assert values[0].item() == pytest.approx(-0.0032000, abs=1e-6)
    assert values[1].item() == pytest.approx(high, abs=1e-6)
    assert values[2].item() == pytest.approx(low, abs=1e-6)


@pytest.fixture()
def encoder():
    torch.manual_seed(0)
    return SubtaskEncoder(6, 2, load_method("sd").config.networks)


def _sequence(batch=3, length=7):
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(batch, length, 2, generator=generator),
            torch.randn(batch, length, 6, generator=generator),
            torch.rand(batch, length, generator=generator))


def test_stepwise_encoding_equals_sequence_encoding(encoder):
    """Acting (one GRU step per transition) and training (whole trials) see the same hidden states."""
    actions, next_obs, rewards = _sequence()
    sequence = encoder.encode(actions, next_obs, rewards, tbptt_steps=3)
    hidden = torch.zeros(3, encoder.config.recurrent_size)
    assert torch.equal(sequence[:, 0], hidden)  # index 0 is the prior (h = 0)
    for t in range(actions.shape[1]):
        hidden = encoder.step(hidden, actions[:, t], next_obs[:, t], rewards[:, t])
        torch.testing.assert_close(sequence[:, t + 1], hidden, rtol=1e-5, atol=1e-6)


def test_truncated_bptt_cuts_gradients_at_chunk_boundaries(encoder):
    actions, next_obs, rewards = _sequence()
    actions.requires_grad_(True)
    encoder.encode(actions, next_obs, rewards, tbptt_steps=3)[:, -1].sum().backward()
    assert actions.grad[:, :6].abs().sum() == 0  # chunks [0, 3) and [3, 6) are cut off from step 7
    assert actions.grad[:, 6].abs().sum() > 0
    actions.grad = None
    encoder.encode(actions, next_obs, rewards, tbptt_steps=None)[:, -1].sum().backward()
    assert actions.grad[:, 0].abs().sum() > 0


def test_elbo_combines_its_terms_with_the_configured_weights(encoder):
    config = load_method("sd").config
    nets = config.networks
    torch.manual_seed(2)
    modules = (StateDecoder(6, 2, nets), RewardDecoder(6, 2, nets), ConditionalPrior(nets))
    actions, next_obs, rewards = _sequence(length=9)
    trials = {"obs": torch.randn(3, 9, 6), "actions": actions, "rewards": rewards, "next_obs": next_obs}
    loss, stats = elbo_loss(encoder, *modules, trials, config.elbo_weights, config.elbo_sampling,
                            torch.Generator().manual_seed(3))
    w = config.elbo_weights
    expected = (w.reward * stats["vae_reward_loss"] + w.state * stats["vae_state_loss"]
                + w.gaussian * stats["vae_gauss_loss"] + w.categorical * stats["vae_cat_loss"]
                + w.occupancy * stats["vae_occ_loss"])
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert 0 <= stats["vae_cat_loss"] <= LOG_K and 0 < stats["vae_occ_loss"] <= LOG_K
    loss.backward()
    for module in (encoder, *modules):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
