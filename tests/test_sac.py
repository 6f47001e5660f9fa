"""SAC pieces shared by PEARL (and PEACH): densities, targets, losses, soft update, one full step."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.distributions import Normal, TanhTransform, TransformedDistribution

from algorithms.common.sac import (
    PolicySample,
    SACConfig,
    SoftActorCritic,
    TanhGaussianPolicy,
    bellman_target,
    policy_loss,
    soft_update,
    tanh_log_prob,
    temperature_loss,
    twin_q_loss,
    value_loss,
)

CONFIG = SACConfig(hidden_sizes=(16, 16), discount=0.9, reward_scale=5.0, target_tau=0.1, policy_lr=1e-3,
                   q_lr=1e-3, v_lr=1e-3, policy_mean_reg=1e-3, policy_std_reg=1e-3,
                   policy_pre_activation_reg=0.0)


def test_tanh_log_prob_matches_the_change_of_variables_density():
    torch.manual_seed(0)
    mean, log_std = torch.randn(6, 3), torch.randn(6, 3) * 0.5
    pre_tanh = mean + log_std.exp() * torch.randn(6, 3)
    reference = TransformedDistribution(Normal(mean, log_std.exp()), TanhTransform())
    torch.testing.assert_close(tanh_log_prob(pre_tanh, mean, log_std),
                               reference.log_prob(torch.tanh(pre_tanh)).sum(-1), rtol=1e-4, atol=1e-4)
    assert torch.isfinite(tanh_log_prob(torch.tensor([[30.0]]), torch.zeros(1, 1), torch.zeros(1, 1))).all()


def test_bellman_target_bootstraps_through_truncation_and_cuts_only_at_termination():
    rewards, next_values = torch.tensor([1.0, 2.0]), torch.tensor([10.0, 20.0])
    # y = 5 r + 0.9 V': a time-limited (truncated) step keeps the bootstrap term
    torch.testing.assert_close(bellman_target(rewards, next_values, 0.9, 5.0), torch.tensor([14.0, 28.0]))
    terminated = torch.tensor([False, True])
    torch.testing.assert_close(bellman_target(rewards, next_values, 0.9, 5.0, terminated),
                               torch.tensor([14.0, 10.0]))


def test_losses_against_hand_computed_values():
    target = torch.tensor([1.0, 1.0])
    # mean((1-1)^2, (2-1)^2) + mean((0-1)^2, (0-1)^2) = 0.5 + 1
    assert twin_q_loss(torch.tensor([1.0, 2.0]), torch.zeros(2), target).item() == pytest.approx(1.5)
    # V target = min Q - log pi = [3 - 1, 0 + 1] = [2, 1]; V = [1, 1] -> mean(1, 0) = 0.5
    assert value_loss(torch.ones(2), torch.tensor([3.0, 0.0]), torch.tensor([1.0, -1.0])).item() == 0.5
    sample = PolicySample(action=torch.zeros(2, 1), log_prob=torch.tensor([1.0, -1.0]),
                          mean=torch.tensor([[2.0], [0.0]]), log_std=torch.tensor([[1.0], [1.0]]),
                          pre_tanh=torch.tensor([[1.0], [3.0]]))
    config = SACConfig(**{**CONFIG.__dict__, "policy_pre_activation_reg": 0.5})
    # mean(log pi - Q) = mean(1 - 3, -1 - 0) = -1.5; + 1e-3 * mean(4, 0) + 1e-3 * 1 + 0.5 * mean(1, 9)
    expected = -1.5 + 1e-3 * 2.0 + 1e-3 * 1.0 + 0.5 * 5.0
    assert policy_loss(sample, torch.tensor([3.0, 0.0]), config).item() == pytest.approx(expected)


def test_soft_update_is_polyak_averaging():
    source, target = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    torch.nn.init.constant_(source.weight, 1.0)
    torch.nn.init.constant_(target.weight, 0.0)
    soft_update(target, source, tau=0.1)
    torch.testing.assert_close(target.weight, torch.full((1, 2), 0.1))


def test_acting_is_tanh_of_the_mean_plus_scaled_noise():
    policy = TanhGaussianPolicy(3, 2, CONFIG)
    x, noise = torch.randn(4, 3), torch.randn(4, 2)
    mean, log_std = policy(x)
    torch.testing.assert_close(policy.act(x, None), torch.tanh(mean))
    torch.testing.assert_close(policy.act(x, noise), torch.tanh(mean + log_std.exp() * noise))
    torch.testing.assert_close(policy.mean_and_sample(x, noise), (torch.tanh(mean), policy.act(x, noise)))


def test_one_step_routes_each_loss_to_its_own_networks():
    """Q and the extra (encoder) parameters learn from the critic loss, V from the V loss only, the
    policy from its loss only; the target V moves by tau towards V."""
    torch.manual_seed(0)
    sac = SoftActorCritic(input_dim=3, action_dim=2, config=CONFIG, device=torch.device("cpu"))
    encoder = torch.nn.Linear(3, 3)
    encoder_optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
    before = {name: copy.deepcopy(getattr(sac, name).state_dict()) for name in ("q1", "v", "v_target", "policy")}
    encoder_before = copy.deepcopy(encoder.state_dict())
    obs = torch.randn(8, 3)
    critic_inputs = encoder(obs)
    actor_inputs, next_inputs = critic_inputs.detach(), torch.randn(8, 3)
    stats = sac.update(critic_inputs, actor_inputs, next_inputs, torch.rand(8, 2) * 2 - 1, torch.rand(8),
                       torch.Generator().manual_seed(1), extra_critic_loss=critic_inputs.pow(2).sum() * 0,
                       extra_optimizers=(encoder_optimizer,))
    for name in ("q1", "v", "policy"):
        assert not torch.equal(before[name]["net.0.weight"], getattr(sac, name).state_dict()["net.0.weight"])
    v_after, target_after = sac.v.state_dict(), sac.v_target.state_dict()
    for key, old in before["v_target"].items():
        torch.testing.assert_close(target_after[key], 0.9 * old + 0.1 * v_after[key])
    assert not torch.equal(encoder_before["weight"], encoder.weight)  # the Q loss reached the encoder
    assert {"q_loss", "v_loss", "policy_loss", "q_mean", "v_mean", "log_pi"} <= set(stats)


def test_entropy_terms_are_weighed_by_the_temperature():
    """SAC v2: V target ``min Q - alpha log pi``, policy loss ``alpha log pi - min Q`` (alpha = 0.5 here),
    and the temperature's loss ``-log alpha (log pi + H_target)`` (eq. 18)."""
    # V target = [3 - 0.5, 0 + 0.5] = [2.5, 0.5]; V = [1, 1] -> mean(2.25, 0.25) = 1.25
    assert value_loss(torch.ones(2), torch.tensor([3.0, 0.0]), torch.tensor([1.0, -1.0]), 0.5).item() == 1.25
    sample = PolicySample(action=torch.zeros(2, 1), log_prob=torch.tensor([1.0, -1.0]), mean=torch.zeros(2, 1),
                          log_std=torch.zeros(2, 1), pre_tanh=torch.zeros(2, 1))
    # mean(0.5 - 3, -0.5 - 0) = -1.5
    assert policy_loss(sample, torch.tensor([3.0, 0.0]), CONFIG, 0.5).item() == pytest.approx(-1.5)
    log_alpha = torch.tensor(-1.0, requires_grad=True)
    loss = temperature_loss(log_alpha, torch.tensor([1.0, 3.0]), target_entropy=-4.0)
    assert loss.item() == pytest.approx(-(-1.0) * (2.0 - 4.0))  # -log alpha * mean(log pi + H) = -2
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(2.0)  # = H(pi) - H_target = -2 + 4: alpha falls


def test_a_learned_temperature_falls_while_the_policy_is_more_random_than_its_target():
    """``temperature: learned`` starts at alpha = 1; a fresh policy (std ~1, entropy far above -|A|)
    drives it down by about the step size per step, the fixed temperature stays 1, and the
    temperature and its optimiser survive a checkpoint round trip."""
    torch.manual_seed(0)
    config = SACConfig(**{**CONFIG.__dict__, "temperature": "learned", "temperature_lr": 1e-2})
    learned = SoftActorCritic(input_dim=3, action_dim=2, config=config, device=torch.device("cpu"))
    fixed = SoftActorCritic(input_dim=3, action_dim=2, config=CONFIG, device=torch.device("cpu"))
    assert learned.target_entropy == -2.0 and learned.alpha.item() == 1.0
    batch = (torch.randn(64, 3), torch.randn(64, 3), torch.randn(64, 3), torch.rand(64, 2) * 2 - 1, torch.rand(64))
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        stats = learned.update(batch[0], batch[1], *batch[2:], generator)
        fixed.update(batch[0], batch[1], *batch[2:], generator)
    assert learned.alpha.item() < 0.9  # log alpha moved ~ -0.2 in 20 Adam steps of 1e-2
    assert fixed.alpha.item() == 1.0 and "temperature" not in fixed.state_dict()
    assert {"temperature", "temperature_loss"} <= set(stats)
    restored = SoftActorCritic(input_dim=3, action_dim=2, config=config, device=torch.device("cpu"))
    restored.load_state_dict(learned.state_dict())
    assert restored.alpha.item() == learned.alpha.item()
    with pytest.raises(ValueError, match="temperature: fixed"):
        restored.load_state_dict(fixed.state_dict())


def test_a_learned_temperature_stalls_at_step_size_over_1000():
    """The learning-health check of the temperature: at temperature_lr / 1000 alpha stays at 1."""
    torch.manual_seed(0)
    config = SACConfig(**{**CONFIG.__dict__, "temperature": "learned", "temperature_lr": 1e-5})
    sac = SoftActorCritic(input_dim=3, action_dim=2, config=config, device=torch.device("cpu"))
    batch = (torch.randn(64, 3), torch.randn(64, 3), torch.randn(64, 3), torch.rand(64, 2) * 2 - 1, torch.rand(64))
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        sac.update(batch[0], batch[1], *batch[2:], generator)
    assert sac.alpha.item() > 0.999
