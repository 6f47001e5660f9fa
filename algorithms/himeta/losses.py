"""HiMeta's level objectives, with the stop-gradients of Figure 2 ("gradients do not overflow between
hierarchical layers"). Each function returns a scalar loss and a dict of its logged terms.

* :func:`high_level_loss`, eq. (9): ``alpha_V L_V (6) + alpha_e L_ent (7) + alpha_o L_occ (8)``;
  trains the HL and the critic only.
* :func:`intermediate_level_loss`, eq. (11)-(12): goal-state reconstruction plus the KL from the
  macro-action encoder to the low-level policy's action distribution; trains the IL only: ``y`` and
  ``s`` enter detached, and the policy is evaluated with detached parameters.
* The LL's PPO loss (eq. 13, without a value term) lives in ``algorithms.common.ppo`` and sees
  stored, detached ``(s, y, z)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call

from algorithms.himeta.equations import categorical_entropy_regularizer, occupancy_loss
from algorithms.himeta.networks import Critic, HighLevel, IntermediateLevel, LowLevel, tanh_sample


@dataclass(frozen=True)
class LossWeights:
    """``alpha_V, alpha_e, alpha_o`` of eq. (9) and the occupancy sign (docs/himeta.md)."""

    value: float
    entropy: float
    occupancy: float
    occupancy_sign: float = 1.0


def high_level_loss(
    high: HighLevel,
    critic: Critic,
    batch: dict[str, torch.Tensor],
    value_targets: torch.Tensor,
    weights: LossWeights,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """Eq. (9) on trajectories ``[B, T, ...]``; also returns the sampled ``y`` ``[B, T, K]``.

    ``value_targets`` are the value estimates of eq. (6)'s ``V(s_t)`` (Monte-Carlo returns in the
    paper), detached.
    """
    logits, _ = high(batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    y = high.sample(logits, generator)
    value_loss = (critic(batch["obs"], y) - value_targets.detach()).pow(2).mean()
    entropy_term = categorical_entropy_regularizer(logits).mean()
    occupancy_term = occupancy_loss(y, weights.occupancy_sign).mean()
    loss = weights.value * value_loss + weights.entropy * entropy_term + weights.occupancy * occupancy_term
    stats = {"hl_value_loss": value_loss.item(), "hl_entropy_loss": entropy_term.item(),
             "hl_occupancy_loss": occupancy_term.item(), "hl_loss": loss.item()}
    return loss, stats, y


def intermediate_level_loss(
    intermediate: IntermediateLevel,
    low: LowLevel,
    obs: torch.Tensor,
    y: torch.Tensor,
    ego: torch.Tensor,
    goal_ego: torch.Tensor,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. (11)-(12): ``||psi_s(y, z, s^ego_t) - s^ego_goal||^2 + KL(psi_z(.|y, s) || pi(.|y, z, s))``.

    The KL has no closed form between the tanh-Gaussian ``psi_z`` and the Gaussian policy; it is the
    reparameterised single-sample estimate ``log psi_z(z) - log pi(z | y, z, s)``. The policy acts as
    a prior only: it is evaluated with detached parameters and detached inputs ``(y, s)``.
    """
    obs, y, goal_ego = obs.detach(), y.detach(), goal_ego.detach()
    distribution = intermediate.distribution(obs, y)
    noise = torch.randn(distribution.mean.shape, generator=generator, device=distribution.mean.device)
    z, log_q = tanh_sample(distribution, noise)
    reconstruction = (intermediate.decode(ego.detach(), z, y) - goal_ego).pow(2).mean()
    frozen = {name: p.detach() for name, p in low.named_parameters()}
    prior = functional_call(low, frozen, (obs, y, z.detach()))
    kl = (log_q - prior.log_prob(z).sum(-1)).mean()
    loss = reconstruction + kl
    return loss, {"il_reconstruction_loss": reconstruction.item(), "il_kl": kl.item(), "il_loss": loss.item()}
