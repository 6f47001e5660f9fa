"""The shared PPO pieces against hand-computed values, and one small learning check."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from algorithms.common.networks import mlp
from algorithms.common.ppo import PPOConfig, clipped_surrogate, generalized_advantages, ppo_update, value_loss
from algorithms.registry import METHODS_DIR, read_method_file
from algorithms.sd.config import sd_config


def test_gae_hand_computed():
    rewards = torch.tensor([[1.0, 2.0, 3.0]])
    values = torch.tensor([[1.0, 1.0, 1.0]])
    advantages, targets = generalized_advantages(rewards, values, torch.tensor([2.0]), gamma=0.5, lam=0.5)
    # delta = [1 + .5 - 1, 2 + .5 - 1, 3 + .5 * 2 - 1] = [0.5, 1.5, 3]; A_t = delta_t + .25 A_{t+1}
    torch.testing.assert_close(advantages, torch.tensor([[1.0625, 2.25, 3.0]]))
    torch.testing.assert_close(targets, advantages + values)


def test_gae_termination_cuts_bootstrap_and_truncation_does_not():
    rewards = torch.tensor([[1.0, 1.0]])
    values = torch.tensor([[0.0, 0.0]])
    bootstrap = torch.tensor([10.0])
    truncated_end, _ = generalized_advantages(rewards, values, bootstrap, gamma=1.0, lam=1.0)
    assert truncated_end.tolist() == [[12.0, 11.0]]  # the time limit is bootstrapped with V = 10
    terminated = torch.tensor([[0.0, 1.0]])
    cut, _ = generalized_advantages(rewards, values, bootstrap, 1.0, 1.0, terminated=terminated)
    assert cut.tolist() == [[2.0, 1.0]]


def test_gae_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="bootstrap_values"):
        generalized_advantages(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3), 0.99, 0.95)


def test_clipped_surrogate_hand_computed():
    old = torch.zeros(2)
    new = torch.tensor([math.log(1.5), math.log(0.5)])
    advantages = torch.tensor([1.0, -1.0])
    loss, stats = clipped_surrogate(new, old, advantages, clip=0.2)
    # A = +1, rho = 1.5 -> min(1.5, 1.2) = 1.2;  A = -1, rho = 0.5 -> min(-0.5, -0.8) = -0.8
    assert loss.item() == pytest.approx(-(1.2 - 0.8) / 2)
    assert stats["clip_fraction"] == 1.0


def test_mlp_shapes_dropout_and_the_output_init_each_caller_chooses():
    net = mlp(5, (16, 8), 3, activation=nn.ReLU, dropout=0.5, output_init="small")
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert net(torch.zeros(4, 5)).shape == (4, 3)
    assert net[-1].weight.abs().max() <= 3e-3
    torch.manual_seed(0)
    embedding = mlp(64, (64,), 64, output_init="xavier")
    assert embedding[-1].weight.abs().max() > 0.1 and not embedding[-1].bias.any()
    with pytest.raises(TypeError, match="output_init"):
        mlp(5, (16,), 3)  # no silent default: every use says which init it wants
    with pytest.raises(ValueError, match="output_init must be"):
        mlp(5, (16,), 3, output_init="zeros")


def test_value_loss_hand_computed_mse_huber_and_clipped():
    value, old, returns = torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0]), torch.tensor([0.0, 0.0])
    mse = PPOConfig(epochs=1, minibatches=1, clip=0.2, entropy_coef=0.0)
    assert value_loss(value, None, returns, mse).item() == pytest.approx((0.25 + 9.0) / 2)
    huber = dataclasses.replace(mse, value_loss="huber")
    # Huber (delta 1): 0.5 e^2 = 0.125 for e = 0.5; |e| - 0.5 = 2.5 for e = 3
    assert value_loss(value, None, returns, huber).item() == pytest.approx((0.125 + 2.5) / 2)
    clipped = dataclasses.replace(huber, value_clip=0.1)
    # V_clip = clip(V, -0.1, 0.1) = [0.1, 0.1] -> Huber 0.005 each; max with the unclipped terms
    assert value_loss(value, old, returns, clipped).item() == pytest.approx((0.125 + 2.5) / 2)
    towards = torch.tensor([-0.5, 0.05])  # the clipped term wins where clipping moves away from R
    old_far = torch.tensor([-2.0, 1.0])  # V_clip = [-1.9, 0.9]: Huber 1.4, 0.405
    assert value_loss(towards, old_far, returns, clipped).item() == pytest.approx((1.4 + 0.405) / 2)
    with pytest.raises(ValueError, match="old values"):
        value_loss(value, None, returns, clipped)


def test_sd_value_term_has_the_reference_weight():
    """The reference: total += 0.5 x [0.5 x max(Huber, clipped Huber)] = 0.125 e^2 for small errors
    (sd-reference.md, PPO update); 0.5 x MSE (this harness before) was 4x that."""
    ppo = sd_config(read_method_file(METHODS_DIR / "sd.yaml")).ppo
    error = torch.tensor([0.3, -0.2, 0.05])
    term = ppo.value_coef * value_loss(error, torch.zeros(3), torch.zeros(3), ppo)
    assert term.item() == pytest.approx(0.125 * error.pow(2).mean().item(), rel=1e-6)


def test_ppo_update_moves_the_policy_towards_positive_advantages():
    torch.manual_seed(0)
    mean = nn.Parameter(torch.zeros(1))
    value = nn.Parameter(torch.zeros(1))
    actions = torch.randn(512, 1)
    dist = torch.distributions.Normal(mean.detach(), 1.0)
    batch = {
        "actions": actions,
        "old_log_prob": dist.log_prob(actions).sum(-1),
        "advantages": actions.squeeze(-1),  # better the larger the action
        "returns": torch.full((512,), 3.0),
    }

    def evaluate(minibatch):
        d = torch.distributions.Normal(mean, 1.0)
        return d.log_prob(minibatch["actions"]).sum(-1), d.entropy().sum(-1).expand(len(minibatch["actions"])), \
            value.expand(len(minibatch["actions"]))

    optimizer = torch.optim.Adam([mean, value], lr=0.05)
    config = PPOConfig(epochs=4, minibatches=4, clip=0.2, entropy_coef=0.0, value_coef=0.5, max_grad_norm=10.0)
    stats = ppo_update(evaluate, [mean, value], optimizer, batch, config, torch.Generator().manual_seed(0))
    assert mean.item() > 0.1  # probability mass moved towards the better actions
    assert 0.5 < value.item() < 3.0  # the value head moved towards the returns
    assert {"policy_loss", "entropy", "value_loss", "grad_norm", "clip_fraction", "approx_kl"} <= stats.keys()


def test_running_normalizer_matches_the_statistics_of_all_batches():
    import numpy as np

    from algorithms.common.normalization import RunningNormalizer

    rng = np.random.default_rng(0)
    first, second = rng.normal(3.0, 2.0, (100, 2)), rng.normal(-1.0, 0.5, (50, 2))
    norm = RunningNormalizer(2, clip=100.0)
    norm.update(first)
    norm.update(second)
    everything = np.concatenate([first, second])
    np.testing.assert_allclose(norm.mean, everything.mean(0))
    np.testing.assert_allclose(norm.var, everything.var(0))
    normalized = norm(everything).numpy()
    np.testing.assert_allclose(normalized.mean(0), 0.0, atol=1e-5)
    assert RunningNormalizer(1, clip=5.0)(np.array([1e6])).item() == 5.0
