"""Soft actor-critic as PEARL uses it (Haarnoja et al. 2018, "SAC v1": twin Q, state value V with a
Polyak-averaged target, tanh-Gaussian policy, fixed temperature 1 with the entropy weight set
through ``reward_scale``), generic over what the networks' "observation" input holds. A learned
temperature (Haarnoja et al. 2018b, "SAC v2", eq. 18) is a switch (``temperature: learned``).

Every network reads an input vector ``x``: the raw observation for plain SAC, ``[obs, z]`` for PEARL,
``[obs, goal, z]`` for a goal-conditioned level. The caller builds three versions of it per batch,
which is where gradient isolation is decided (PEARL: only the Q loss may reach the encoder):

* ``critic_inputs``: read by Q1, Q2 for the Bellman loss (may carry gradients to an encoder);
* ``actor_inputs``: read by the policy, V and the Q's at the policy's actions (detached);
* ``next_inputs``: read by the target V (no gradient at all).

One gradient step (:meth:`SoftActorCritic.update`) follows PEARL's order (garage ``pearl.py``
``_optimize_policy``, oyster ``sac.py`` ``_take_step``):

    y      = reward_scale * r + gamma * (1 - terminated) * V_bar(x')          (Bellman target)
    L_Q    = mean (Q1(x, a) - y)^2 + mean (Q2(x, a) - y)^2 [+ extra loss]       step Q [+ extras]
    a~, log pi(a~|x)   (reparameterised, after the Q step)
    L_V    = mean (V(x) - [min_i Q_i(x, a~) - alpha log pi(a~|x)])^2            step V, V_bar <- Polyak
    L_pi   = mean (alpha log pi(a~|x) - min_i Q_i(x, a~)) + mean/std/pre-tanh regularisers  step policy
    L_alpha = -mean log alpha (log pi(a~|x) + H_target)        step log alpha (``temperature: learned``)

``alpha`` is 1 with ``temperature: fixed`` (PEARL: the reward scale sets the entropy's weight). With
``temperature: learned`` it starts at 1 and follows SAC v2's dual step towards the entropy target
``H_target = target_entropy_per_dim x action_dim`` (v2's heuristic: -1 per action dimension).

The time limit is not a terminal state: ``terminated`` defaults to all-false and a truncated step
bootstraps from ``V_bar`` of its true final observation.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from algorithms.common.networks import mlp


@dataclass(frozen=True)
class SACConfig:
    """SAC hyper-parameters; the method YAML gives values and sources."""

    hidden_sizes: tuple[int, ...]
    discount: float
    reward_scale: float
    target_tau: float
    policy_lr: float
    q_lr: float
    v_lr: float
    policy_mean_reg: float
    policy_std_reg: float
    policy_pre_activation_reg: float
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    temperature: Literal["fixed", "learned"] = "fixed"  # fixed: alpha = 1 (SAC v1, PEARL)
    target_entropy_per_dim: float = -1.0  # SAC v2's heuristic H_target = -|A| (learned temperature)
    temperature_lr: float = 3.0e-4  # SAC v2's Adam step size for log alpha


@dataclass(frozen=True)
class PolicySample:
    """A reparameterised tanh-Gaussian sample with what the policy loss needs."""

    action: torch.Tensor  # tanh(u)
    log_prob: torch.Tensor  # log pi(action | x), summed over action dimensions
    mean: torch.Tensor  # mean of u
    log_std: torch.Tensor  # log std of u (clamped)
    pre_tanh: torch.Tensor  # u


def tanh_log_prob(pre_tanh: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """``log N(u; mean, std) - sum_d log(1 - tanh(u_d)^2)``, the density of ``a = tanh(u)``.

    ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))`` is used instead of the references'
    ``log(1 - tanh(u)^2 + 1e-6)``: exact and finite for saturated actions.
    """
    gaussian = -0.5 * ((pre_tanh - mean) / log_std.exp()).pow(2) - log_std - 0.5 * math.log(2 * math.pi)
    correction = 2.0 * (math.log(2.0) - pre_tanh - nn.functional.softplus(-2.0 * pre_tanh))
    return (gaussian - correction).sum(-1)


class TanhGaussianPolicy(nn.Module):
    """``a = tanh(u)``, ``u ~ N(mean(x), std(x))``: one ReLU trunk with a mean and a log-std head
    (garage ``TanhGaussianMLPPolicy``, oyster ``TanhGaussianPolicy``), log std clamped to
    ``[log_std_min, log_std_max]`` (both references: [-20, 2])."""

    def __init__(self, input_dim: int, action_dim: int, config: SACConfig) -> None:
        super().__init__()
        self.net = mlp(input_dim, config.hidden_sizes, 2 * action_dim, activation=nn.ReLU, output_init="small")
        self.action_dim = action_dim
        self.log_std_min, self.log_std_max = config.log_std_min, config.log_std_max

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.net(x).chunk(2, dim=-1)
        return mean, log_std.clamp(self.log_std_min, self.log_std_max)

    def rsample(self, x: torch.Tensor, generator: torch.Generator) -> PolicySample:
        """Reparameterised sample; the noise is drawn on ``generator``'s device."""
        mean, log_std = self(x)
        noise = torch.randn(mean.shape, generator=generator, device=generator.device).to(mean.device)
        pre_tanh = mean + log_std.exp() * noise
        return PolicySample(torch.tanh(pre_tanh), tanh_log_prob(pre_tanh, mean, log_std), mean, log_std,
                            pre_tanh)

    def act(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """``tanh(mean + std * noise)``, or ``tanh(mean)`` for ``noise=None`` (acting draws its noise
        itself: :func:`algorithms.common.keyed_noise.action_noise`)."""
        mean, log_std = self(x)
        return torch.tanh(mean if noise is None else mean + log_std.exp() * noise)

    def mean_and_sample(self, x: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tanh(mean), tanh(mean + std * noise))`` from one forward pass."""
        mean, log_std = self(x)
        return torch.tanh(mean), torch.tanh(mean + log_std.exp() * noise)


class QFunction(nn.Module):
    """``Q(x, a)``: a ReLU MLP on the concatenation."""

    def __init__(self, input_dim: int, action_dim: int, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.net = mlp(input_dim + action_dim, hidden_sizes, 1, activation=nn.ReLU, output_init="small")

    def forward(self, x: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, action], dim=-1)).squeeze(-1)


class ValueFunction(nn.Module):
    """``V(x)``: a ReLU MLP."""

    def __init__(self, input_dim: int, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.net = mlp(input_dim, hidden_sizes, 1, activation=nn.ReLU, output_init="small")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def bellman_target(
    rewards: torch.Tensor,
    next_values: torch.Tensor,
    discount: float,
    reward_scale: float,
    terminated: torch.Tensor | None = None,
) -> torch.Tensor:
    """``reward_scale * r + gamma * (1 - terminated) * V_bar(x')``.

    Truncation by a time limit is not termination: such steps keep the bootstrap term (garage uses
    only ``StepType.TERMINAL`` for ``d``; MetaWorld never terminates).
    """
    continues = 1.0 if terminated is None else 1.0 - terminated.to(rewards.dtype)
    return reward_scale * rewards + discount * continues * next_values


def twin_q_loss(q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``mean (Q1 - y)^2 + mean (Q2 - y)^2`` with the target held fixed."""
    target = target.detach()
    return (q1 - target).pow(2).mean() + (q2 - target).pow(2).mean()


def value_loss(v: torch.Tensor, min_q_new: torch.Tensor, log_prob: torch.Tensor,
               alpha: float | torch.Tensor = 1.0) -> torch.Tensor:
    """``mean (V(x) - [min Q(x, a~) - alpha log pi(a~|x)])^2``, the target held fixed."""
    return (v - (min_q_new - alpha * log_prob).detach()).pow(2).mean()


def policy_loss(sample: PolicySample, min_q_new: torch.Tensor, config: SACConfig,
                alpha: float | torch.Tensor = 1.0) -> torch.Tensor:
    """``mean (alpha log pi - min Q) + c_mean mean(mean^2) + c_std mean(log_std^2) + c_pre mean(sum u^2)``."""
    loss = (alpha * sample.log_prob - min_q_new).mean()
    loss = loss + config.policy_mean_reg * sample.mean.pow(2).mean()
    loss = loss + config.policy_std_reg * sample.log_std.pow(2).mean()
    return loss + config.policy_pre_activation_reg * sample.pre_tanh.pow(2).sum(-1).mean()


def temperature_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """SAC v2's dual objective (Haarnoja et al. 2018b, eq. 18): ``-mean log alpha (log pi + H_target)``.

    Its gradient in ``log alpha`` is ``H(pi) - H_target`` (entropy estimated by ``-log pi``): a policy
    more random than the target lowers alpha, a less random one raises it.
    """
    return -(log_alpha * (log_prob.detach() + target_entropy)).mean()


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging ``theta_bar <- (1 - tau) theta_bar + tau theta``."""
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.mul_(1.0 - tau).add_(param, alpha=tau)


class SoftActorCritic:
    """Networks, optimisers (Adam) and one gradient step; see the module docstring for the order."""

    def __init__(self, input_dim: int, action_dim: int, config: SACConfig, device: torch.device) -> None:
        self.config = config
        hidden = config.hidden_sizes
        self.q1 = QFunction(input_dim, action_dim, hidden).to(device)
        self.q2 = QFunction(input_dim, action_dim, hidden).to(device)
        self.v = ValueFunction(input_dim, hidden).to(device)
        self.v_target = copy.deepcopy(self.v)
        self.policy = TanhGaussianPolicy(input_dim, action_dim, config).to(device)
        self.q_optimizer = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()], lr=config.q_lr)
        self.v_optimizer = torch.optim.Adam(self.v.parameters(), lr=config.v_lr)
        self.policy_optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.policy_lr)
        learns_temperature = config.temperature == "learned"
        self.target_entropy = config.target_entropy_per_dim * action_dim
        self.log_alpha = torch.zeros((), device=device, requires_grad=learns_temperature)
        self.temperature_optimizer = (torch.optim.Adam([self.log_alpha], lr=config.temperature_lr)
                                      if learns_temperature else None)

    @property
    def alpha(self) -> torch.Tensor:
        """The entropy weight in force (1 with ``temperature: fixed``), detached."""
        return self.log_alpha.detach().exp()

    def min_q(self, x: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return torch.min(self.q1(x, action), self.q2(x, action))

    def update(
        self,
        critic_inputs: torch.Tensor,
        actor_inputs: torch.Tensor,
        next_inputs: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        generator: torch.Generator,
        terminated: torch.Tensor | None = None,
        extra_critic_loss: torch.Tensor | None = None,
        extra_optimizers: tuple[torch.optim.Optimizer, ...] = (),
        target_bounds: tuple[float, float] | None = None,
    ) -> dict[str, torch.Tensor]:
        """One SAC step on flat ``[N, ...]`` batches; returns its statistics as detached 0-d tensors
        on the learner's device (no host sync: :class:`~algorithms.common.step_statistics.StepStatistics`).

        ``extra_critic_loss`` (PEARL: ``kl_lambda * KL``) is back-propagated together with the Q
        loss, and ``extra_optimizers`` (PEARL: the encoder's) step with the Q optimiser.
        ``target_bounds`` clamps the Q target into ``[low, high]`` (HAC's bounded critics).
        """
        config = self.config
        with torch.no_grad():
            target = bellman_target(rewards, self.v_target(next_inputs), config.discount,
                                    config.reward_scale, terminated)
            if target_bounds is not None:
                target = target.clamp(*target_bounds)
        q1, q2 = self.q1(critic_inputs, actions), self.q2(critic_inputs, actions)
        q_loss = twin_q_loss(q1, q2, target)
        critic_loss = q_loss if extra_critic_loss is None else q_loss + extra_critic_loss
        for optimizer in (self.q_optimizer, *extra_optimizers):
            optimizer.zero_grad()
        critic_loss.backward()
        for optimizer in (self.q_optimizer, *extra_optimizers):
            optimizer.step()

        alpha = self.alpha
        sample = self.policy.rsample(actor_inputs, generator)
        min_q_new = self.min_q(actor_inputs, sample.action)
        v = self.v(actor_inputs)
        v_loss = value_loss(v, min_q_new, sample.log_prob, alpha)
        self.v_optimizer.zero_grad()
        v_loss.backward(inputs=list(self.v.parameters()))
        self.v_optimizer.step()
        soft_update(self.v_target, self.v, config.target_tau)

        pi_loss = policy_loss(sample, min_q_new, config, alpha)
        self.policy_optimizer.zero_grad()
        pi_loss.backward(inputs=list(self.policy.parameters()))
        self.policy_optimizer.step()
        stats = {
            "q_loss": q_loss, "v_loss": v_loss, "policy_loss": pi_loss, "q_mean": q1.mean(),
            "v_mean": v.mean(), "q_target_mean": target.mean(), "log_pi": sample.log_prob.mean(),
            "policy_std": sample.log_std.exp().mean(),
        }
        if self.temperature_optimizer is not None:
            alpha_loss = temperature_loss(self.log_alpha, sample.log_prob, self.target_entropy)
            self.temperature_optimizer.zero_grad()
            alpha_loss.backward()
            self.temperature_optimizer.step()
            stats |= {"temperature": alpha, "temperature_loss": alpha_loss}
        return {name: value.detach() for name, value in stats.items()}

    def state_dict(self) -> dict:
        state = {name: getattr(self, name).state_dict() for name in self._STATE}
        if self.temperature_optimizer is not None:
            state["temperature"] = {"log_alpha": self.log_alpha.detach().clone(),
                                    "optimizer": self.temperature_optimizer.state_dict()}
        return state

    def load_state_dict(self, state: dict) -> None:
        for name in self._STATE:
            getattr(self, name).load_state_dict(state[name])
        if self.temperature_optimizer is not None:
            if "temperature" not in state:
                raise ValueError("this SAC learns its temperature (temperature: learned) but the checkpoint "
                                 "holds none: it was written with temperature: fixed; resume with that setting "
                                 "or start a new run")
            with torch.no_grad():
                self.log_alpha.copy_(state["temperature"]["log_alpha"])
            self.temperature_optimizer.load_state_dict(state["temperature"]["optimizer"])

    _STATE = ("q1", "q2", "v", "v_target", "policy", "q_optimizer", "v_optimizer", "policy_optimizer")
