"""Proximal policy optimisation pieces shared by HiMeta's low level and SD.

* :func:`generalized_advantages`: GAE (Schulman et al. 2016) over fixed-length sequences, with the
  time limit bootstrapped (MetaWorld's truncation is not a terminal state) and true terminations cut.
* :func:`clipped_surrogate`: the clipped objective of PPO (Schulman et al. 2017, eq. 7), the
  ``J(theta, T)`` term of HiMeta's eq. (13).
* :func:`value_loss`: the critic's term, squared error or Huber, optionally clipped around the
  values that acted (the PPO2 / ``pytorch-a2c-ppo-acktr`` form SD's reference uses).
* :func:`ppo_update`: K epochs of shuffled minibatches over a batch, with entropy bonus (HiMeta's
  ``alpha_2 E(theta)``), an optional value loss (SD trains its critic here; HiMeta trains it in the
  high level, eq. (6), so it passes no value) and gradient-norm clipping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyper-parameters; every method's YAML gives the values and their sources."""

    epochs: int
    minibatches: int
    clip: float
    entropy_coef: float
    value_coef: float = 0.0
    max_grad_norm: float | None = None
    normalize_advantages: bool = True
    value_loss: Literal["mse", "huber"] = "mse"
    value_clip: float | None = None


def value_loss(value: torch.Tensor, old_value: torch.Tensor | None, returns: torch.Tensor,
               config: PPOConfig) -> torch.Tensor:
    """``mean(max(l(V - R), l(V_clip - R)))`` with ``V_clip = V_old + clip(V - V_old, +-value_clip)``.

    ``l(e)`` is ``e^2`` (``mse``) or the Huber loss with delta 1 (``huber``: ``e^2 / 2`` for
    ``|e| <= 1``, ``|e| - 1/2`` above). Without ``value_clip`` it is ``mean(l(V - R))``; the clipped
    form needs the values ``V_old`` that were computed when the batch was built.
    """
    def error(prediction: torch.Tensor) -> torch.Tensor:
        if config.value_loss == "huber":
            return torch.nn.functional.huber_loss(prediction, returns, reduction="none", delta=1.0)
        return (prediction - returns).pow(2)

    loss = error(value)
    if config.value_clip is not None:
        if old_value is None:
            raise ValueError("a clipped value loss needs the batch's old values ('old_values')")
        clipped = old_value + (value - old_value).clamp(-config.value_clip, config.value_clip)
        loss = torch.max(loss, error(clipped))
    return loss.mean()


def generalized_advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    bootstrap_values: torch.Tensor,
    gamma: float,
    lam: float,
    terminated: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages and value targets for sequences along the last axis.

    ``rewards``, ``values`` and ``terminated`` are ``[..., T]``; ``bootstrap_values`` is ``[...]``, the
    value of the state after the last step (the time limit is not terminal, so it is bootstrapped).
    ``terminated[..., t]`` cuts bootstrapping after step ``t``.

        delta_t = r_t + gamma * (1 - d_t) * V_{t+1} - V_t
        A_t     = delta_t + gamma * lam * (1 - d_t) * A_{t+1}
        target  = A_t + V_t
    """
    if rewards.shape != values.shape or bootstrap_values.shape != rewards.shape[:-1]:
        raise ValueError(
            f"rewards {tuple(rewards.shape)} and values {tuple(values.shape)} must match and "
            f"bootstrap_values {tuple(bootstrap_values.shape)} must be their shape without the time axis"
        )
    continues = torch.ones_like(rewards) if terminated is None else 1.0 - terminated.to(rewards.dtype)
    next_values = torch.cat([values[..., 1:], bootstrap_values.unsqueeze(-1)], dim=-1)
    deltas = rewards + gamma * continues * next_values - values
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(bootstrap_values)
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * continues[..., t] * running
        advantages[..., t] = running
    return advantages, advantages + values


def clipped_surrogate(
    log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """``-mean(min(rho * A, clip(rho, 1 - eps, 1 + eps) * A))`` with ``rho = pi / pi_old``."""
    ratio = torch.exp(log_prob - old_log_prob)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages
    loss = -torch.min(unclipped, clipped).mean()
    with torch.no_grad():
        stats = {
            "clip_fraction": ((ratio - 1.0).abs() > clip).float().mean().item(),
            "approx_kl": ((ratio - 1.0) - (log_prob - old_log_prob)).mean().item(),
        }
    return loss, stats


PolicyEvaluation = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]
"""(log-prob of the stored actions, entropy, value prediction or None) for a minibatch."""


def ppo_update(
    evaluate: Callable[[dict[str, torch.Tensor]], PolicyEvaluation],
    parameters: Iterable[nn.Parameter],
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    config: PPOConfig,
    generator: torch.Generator,
) -> dict[str, float]:
    """Run ``config.epochs`` passes of shuffled minibatches; returns the last epoch's mean losses.

    ``batch`` holds flat ``[N, ...]`` tensors with at least ``old_log_prob`` and ``advantages``
    (and ``returns`` when a value loss is used, ``old_values`` when it is clipped); ``evaluate``
    recomputes the policy on a minibatch.
    """
    parameters = list(parameters)
    size = batch["advantages"].shape[0]
    advantages = batch["advantages"]
    if config.normalize_advantages:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    sums: dict[str, float] = {}
    for _ in range(config.epochs):
        sums = {}
        order = torch.randperm(size, generator=generator, device=generator.device).to(advantages.device)
        chunks = order.chunk(config.minibatches)
        for indices in chunks:
            minibatch = {key: value[indices] for key, value in batch.items()}
            log_prob, entropy, value = evaluate(minibatch)
            policy_loss, stats = clipped_surrogate(
                log_prob, minibatch["old_log_prob"], advantages[indices], config.clip
            )
            loss = policy_loss - config.entropy_coef * entropy.mean()
            stats = {**stats, "policy_loss": policy_loss.item(), "entropy": entropy.mean().item()}
            if value is not None:
                critic_loss = value_loss(value, minibatch.get("old_values"), minibatch["returns"], config)
                loss = loss + config.value_coef * critic_loss
                stats["value_loss"] = critic_loss.item()
            optimizer.zero_grad()
            loss.backward()
            if config.max_grad_norm is not None:
                stats["grad_norm"] = nn.utils.clip_grad_norm_(parameters, config.max_grad_norm).item()
            optimizer.step()
            for key, number in stats.items():
                sums[key] = sums.get(key, 0.0) + number / len(chunks)
    return sums
