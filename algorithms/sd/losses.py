"""SD's VAE objective: the subsampled GMVAE ELBO (sd-reference.md section 2, ``compute_loss``).

``L = w_r L_rew + w_s L_state + w_g L_gauss + w_c L_cat + w_o L_occ`` on a batch of whole trials:

1. encode every trial from the prior (``h = 0``) with truncated BPTT: ``L + 1`` hidden states;
2. per trial, ``elbo_steps`` ELBO timesteps drawn from ``0..L`` with replacement (prior included);
   at each, the belief ``(y, mu, sigma^2)``, the encoder's own sample ``z`` for ``L_gauss`` and a
   fresh sample for the decoders;
3. per (ELBO timestep, trial), ``decode_steps`` transitions drawn from the whole trial (past and
   future) are reconstructed by both decoders;
4. every term is a mean over its samples (the reference's ``vae_avg_*_terms = True``).

Only the VAE's modules receive gradients: the batch is raw buffer data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from algorithms.sd.equations import categorical_kl_to_uniform, gaussian_kl_estimate, occupancy_regularizer
from algorithms.sd.networks import ConditionalPrior, RewardDecoder, StateDecoder, SubtaskEncoder


@dataclass(frozen=True)
class ELBOWeights:
    """Coefficients of the five terms (reference ``rew_loss_coeff``, ``state_loss_coeff``, ...)."""

    reward: float
    state: float
    gaussian: float
    categorical: float
    occupancy: float


@dataclass(frozen=True)
class ELBOSampling:
    """How the ELBO is subsampled (reference ``vae_subsample_elbos``, ``..._decodes``, ``tbptt_stepsize``)."""

    elbo_steps: int
    decode_steps: int
    tbptt_steps: int


def elbo_loss(
    encoder: SubtaskEncoder,
    state_decoder: StateDecoder,
    reward_decoder: RewardDecoder,
    prior: ConditionalPrior,
    trials: dict[str, torch.Tensor],
    weights: ELBOWeights,
    sampling: ELBOSampling,
    generator: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted ELBO loss on ``trials`` (``obs``, ``actions``, ``rewards``, ``next_obs``: ``[B, L, ...]``)."""
    obs, actions, rewards, next_obs = (trials[key] for key in ("obs", "actions", "rewards", "next_obs"))
    batch, length = rewards.shape
    device = rewards.device
    hidden = encoder.encode(actions, next_obs, rewards, sampling.tbptt_steps)  # [B, L + 1, H]
    trial_index = torch.arange(batch, device=device)

    elbo_t = torch.randint(0, length + 1, (sampling.elbo_steps, batch), generator=generator).to(device)
    belief = encoder.belief(hidden[trial_index, elbo_t], generator)  # [E, B, ...]
    z = belief.sample(generator)
    prior_mean, prior_var = prior(belief.y)
    gaussian = gaussian_kl_estimate(z, belief.mean, belief.var, prior_mean, prior_var).mean()
    categorical = categorical_kl_to_uniform(belief.logits).mean()
    occupancy = occupancy_regularizer(belief.y).mean()

    decode_t = torch.randint(0, length, (sampling.elbo_steps, sampling.decode_steps, batch),
                             generator=generator).to(device)

    def pick(values: torch.Tensor) -> torch.Tensor:  # [B, L, ...] -> [E, D, B, ...]
        return values[trial_index, decode_t]

    latent = belief.sample(generator).unsqueeze(1).expand(-1, sampling.decode_steps, -1, -1)
    state_error = state_decoder(latent, pick(obs), pick(actions)) - pick(next_obs)
    reward_error = reward_decoder(latent, pick(next_obs), pick(actions), pick(obs)) - pick(rewards)
    state_loss, reward_loss = state_error.pow(2).mean(), reward_error.pow(2).mean()

    loss = (weights.reward * reward_loss + weights.state * state_loss + weights.gaussian * gaussian
            + weights.categorical * categorical + weights.occupancy * occupancy)
    stats = {
        "vae_reward_loss": reward_loss.item(), "vae_state_loss": state_loss.item(),
        "vae_gauss_loss": gaussian.item(), "vae_cat_loss": categorical.item(),
        "vae_occ_loss": occupancy.item(), "vae_loss": loss.item(),
    }
    return loss, stats
