"""HiMeta's levels: shapes, the tanh-Gaussian density, and no gradient across levels (Figure 2)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from algorithms.common.ppo import clipped_surrogate
from algorithms.himeta.losses import LossWeights, high_level_loss, intermediate_level_loss
from algorithms.himeta.networks import (
    Critic,
    HiMetaNetworkConfig,
    HighLevel,
    IntermediateLevel,
    LowLevel,
    tanh_sample,
)
from envs.ml10 import EGO_STATE_INDICES

OBS, ACT, EGO, B, T = 39, 4, len(EGO_STATE_INDICES), 3, 6
CONFIG = HiMetaNetworkConfig()


@pytest.fixture()
def levels():
    torch.manual_seed(0)
    return {
        "high": HighLevel(OBS, ACT, CONFIG),
        "critic": Critic(OBS, CONFIG),
        "intermediate": IntermediateLevel(OBS, ACT, EGO, CONFIG),
        "low": LowLevel(OBS, ACT, CONFIG),
    }


def _batch():
    torch.manual_seed(1)
    return {
        "obs": torch.randn(B, T, OBS),
        "actions": torch.rand(B, T, ACT) * 2 - 1,
        "rewards": torch.rand(B, T),
        "next_obs": torch.randn(B, T, OBS),
    }


def _touched(module: torch.nn.Module) -> bool:
    return any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def _zero_grads(levels):
    for module in levels.values():
        module.zero_grad(set_to_none=True)


def test_shapes(levels):
    batch = _batch()
    logits, hidden = levels["high"](batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    assert logits.shape == (B, T, CONFIG.categories) and hidden.shape == (B, T, CONFIG.recurrent_size)
    y = levels["high"].sample(logits)
    torch.testing.assert_close(y.sum(-1), torch.ones(B, T))
    dist = levels["intermediate"].distribution(batch["obs"], y)
    z, log_q = tanh_sample(dist, torch.randn_like(dist.mean))
    assert z.shape == (B, T, ACT) and log_q.shape == (B, T) and z.abs().max() < 1
    ego = batch["obs"][..., list(EGO_STATE_INDICES)]
    assert levels["intermediate"].decode(ego, z, y).shape == (B, T, EGO)
    assert levels["low"](batch["obs"], y, z).sample().shape == (B, T, ACT)
    assert levels["critic"](batch["obs"], y).shape == (B, T)


def test_tanh_gaussian_log_density_hand_computed():
    dist = Normal(torch.tensor([0.5]), torch.tensor([2.0]))
    z, log_q = tanh_sample(dist, None)
    expected = -math.log(2.0) - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(0.5) ** 2)
    assert z.item() == pytest.approx(math.tanh(0.5))
    assert log_q.item() == pytest.approx(expected, abs=1e-5)


def test_high_level_loss_reaches_only_the_high_level_and_critic(levels):
    _zero_grads(levels)
    loss, stats, _ = high_level_loss(levels["high"], levels["critic"], _batch(), torch.ones(B, T),
                                     LossWeights(value=10.0, entropy=1.0, occupancy=1.0))
    loss.backward()
    assert _touched(levels["high"]) and _touched(levels["critic"])
    assert not _touched(levels["intermediate"]) and not _touched(levels["low"])
    assert {"hl_value_loss", "hl_entropy_loss", "hl_occupancy_loss"} <= stats.keys()


def test_intermediate_level_loss_reaches_only_the_intermediate_level(levels):
    _zero_grads(levels)
    batch = _batch()
    logits, _ = levels["high"](batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    y = levels["high"].sample(logits)  # carries the HL's graph: the loss must cut it
    ego = batch["obs"][..., list(EGO_STATE_INDICES)]
    goal = batch["next_obs"][..., list(EGO_STATE_INDICES)]
    loss, stats = intermediate_level_loss(levels["intermediate"], levels["low"], batch["obs"], y, ego, goal)
    loss.backward()
    assert _touched(levels["intermediate"])
    assert not _touched(levels["high"]) and not _touched(levels["low"]) and not _touched(levels["critic"])
    assert {"il_reconstruction_loss", "il_kl"} <= stats.keys()


def test_policy_loss_reaches_only_the_low_level(levels):
    _zero_grads(levels)
    batch = _batch()
    logits, _ = levels["high"](batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    y = levels["high"].sample(logits).detach()  # PPO trains on the stored (detached) y and z
    dist = levels["intermediate"].distribution(batch["obs"], y)
    z, _ = tanh_sample(dist, torch.randn_like(dist.mean))
    dist = levels["low"](batch["obs"], y, z.detach())
    log_prob = dist.log_prob(batch["actions"]).sum(-1)
    loss, _ = clipped_surrogate(log_prob, log_prob.detach() - 0.1, torch.randn(B, T), clip=0.2)
    loss.backward()
    assert _touched(levels["low"])
    assert not _touched(levels["high"]) and not _touched(levels["intermediate"]) and not _touched(levels["critic"])
