"""SD's networks (sd-reference.md section 2), each a module with one job.

* :class:`SubtaskEncoder`: embeds ``(a_t, s_{t+1}, r_t)``, runs a GRU carried across the episodes
  of a trial, and reads the belief from its hidden state ``h``: the sub-task posterior
  ``q(y | h) = softmax(logits)`` with a Gumbel-softmax sample ``y``, then the Gaussian
  ``q(z | h, y) = N(mu, sigma^2)``. The prior belief is the same heads on ``h = 0``.
* :class:`StateDecoder`, :class:`RewardDecoder`: ``s_{t+1}`` from ``(z, s_t, a_t)`` and ``r_t`` from
  ``(z, s_{t+1}, a_t, s_t)``, with dropout on their embedded inputs (never on ``z``).
* :class:`ConditionalPrior`: ``p(z | y) = N(mu_y(y), sigma_y^2(y))``.
* :class:`PolicyNetwork`: actor and critic on ``(s, [mu, log sigma^2], q(y | h))``, each input
  embedded by ``Linear + tanh``; a state-independent log-std soft-clipped into ``[log s_min, log s_max]``.

No module reads another's parameters; the policy gets the belief as (detached) data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

from algorithms.common.gumbel import gumbel_softmax
from algorithms.common.networks import mlp, soft_clip


@dataclass(frozen=True)
class SDNetworkConfig:
    """Sizes of SD's networks; values and their sources are in config/methods/sd.yaml."""

    subtasks: int
    latent_dim: int
    recurrent_size: int
    state_embed: int
    action_embed: int
    reward_embed: int
    categorical_hidden: tuple[int, ...]
    gaussian_hidden: tuple[int, ...]
    gumbel_temperature: float
    state_decoder_hidden: tuple[int, ...]
    reward_decoder_hidden: tuple[int, ...]
    decoder_dropout: float
    policy_embed: int
    policy_hidden: tuple[int, ...]
    critic_hidden: tuple[int, ...]
    policy_min_std: float
    policy_max_std: float


def embedding(input_dim: int, output_dim: int, activation: type[nn.Module]) -> nn.Sequential:
    """One ``Linear`` (PyTorch's default init, as the reference's feature extractors) + activation."""
    return nn.Sequential(nn.Linear(input_dim, output_dim), activation())


@dataclass
class Belief:
    """The encoder's read-out of hidden states ``[..., H]``.

    ``y`` is the Gumbel-softmax sample (or ``prob`` itself when read without a generator);
    ``var`` is ``softplus(.)`` of the Gaussian head, ``logvar = log(var + 1e-20)`` (reference).
    """

    logits: torch.Tensor
    prob: torch.Tensor
    y: torch.Tensor
    mean: torch.Tensor
    var: torch.Tensor

    @property
    def logvar(self) -> torch.Tensor:
        return torch.log(self.var + 1e-20)

    @property
    def policy_latent(self) -> torch.Tensor:
        """``[mu, log sigma^2]``: what the policy sees (no sample, ``sample_embeddings=False``)."""
        return torch.cat([self.mean, self.logvar], dim=-1)

    def sample(self, generator: torch.Generator) -> torch.Tensor:
        """``z = mu + sqrt(var + 1e-10) * eps`` (the reference's reparameterisation)."""
        noise = torch.randn(self.mean.shape, generator=generator, device=generator.device).to(self.mean.device)
        return self.mean + torch.sqrt(self.var + 1e-10) * noise


class SubtaskEncoder(nn.Module):
    """Recurrent GMVAE encoder: ``h_t = GRU([e_a(a_t), e_s(s_{t+1}), e_r(r_t)], h_{t-1})`` + heads."""

    def __init__(self, obs_dim: int, action_dim: int, config: SDNetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.action_embed = embedding(action_dim, config.action_embed, nn.ReLU)
        self.state_embed = embedding(obs_dim, config.state_embed, nn.ReLU)
        self.reward_embed = embedding(1, config.reward_embed, nn.ReLU)
        width = config.action_embed + config.state_embed + config.reward_embed
        self.gru = nn.GRU(width, config.recurrent_size, batch_first=True)
        for name, parameter in self.gru.named_parameters():  # reference: orthogonal weights, zero bias
            if name.startswith("weight"):
                nn.init.orthogonal_(parameter)
            else:
                nn.init.zeros_(parameter)
        self.categorical = mlp(config.recurrent_size, config.categorical_hidden, config.subtasks,
                               activation=nn.ReLU, output_init="small")
        self.gaussian = mlp(config.recurrent_size + config.subtasks, config.gaussian_hidden,
                            2 * config.latent_dim, activation=nn.ReLU, output_init="small")

    def embed(self, action: torch.Tensor, next_obs: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        """``[e_a(a_t), e_s(s_{t+1}), e_r(r_t)]``; ``reward`` has the shape of ``action`` minus its last axis."""
        return torch.cat([self.action_embed(action), self.state_embed(next_obs),
                          self.reward_embed(reward.unsqueeze(-1))], dim=-1)

    def step(self, hidden: torch.Tensor, action, next_obs, reward) -> torch.Tensor:
        """One transition for a batch: ``h_t`` ``[B, H]`` from ``h_{t-1}`` ``[B, H]``."""
        _, hidden = self.gru(self.embed(action, next_obs, reward).unsqueeze(1), hidden.unsqueeze(0))
        return hidden.squeeze(0)

    def encode(self, actions, next_obs, rewards, tbptt_steps: int | None = None) -> torch.Tensor:
        """Hidden states ``[B, L + 1, H]`` of whole trials ``[B, L, ...]`` from ``h = 0`` (index 0: prior).

        With ``tbptt_steps`` the hidden state is detached every ``tbptt_steps`` transitions
        (truncated back-propagation through time, reference ``tbptt_stepsize``).
        """
        features = self.embed(actions, next_obs, rewards)
        hidden = features.new_zeros(1, features.shape[0], self.config.recurrent_size)
        chunk = tbptt_steps or features.shape[1]
        outputs = [hidden.transpose(0, 1)]
        for start in range(0, features.shape[1], chunk):
            if start > 0:
                hidden = hidden.detach()
            states, hidden = self.gru(features[:, start:start + chunk], hidden)
            outputs.append(states)
        return torch.cat(outputs, dim=1)

    def belief(self, hidden: torch.Tensor, generator: torch.Generator | None,
               uniform: torch.Tensor | None = None) -> Belief:
        """Read the belief from ``hidden [..., H]``. ``y`` is a Gumbel-softmax sample on ``uniform``
        noise when given (per-trial streams), else drawn from ``generator``; with neither,
        ``y = q(y | h)`` (draws nothing)."""
        logits = self.categorical(hidden)
        prob = torch.softmax(logits, dim=-1)
        if uniform is None and generator is None:
            y = prob
        else:
            y = gumbel_softmax(logits, self.config.gumbel_temperature, generator, uniform)
        mean, pre_var = self.gaussian(torch.cat([hidden, y], dim=-1)).chunk(2, dim=-1)
        return Belief(logits, prob, y, mean, F.softplus(pre_var))


class StateDecoder(nn.Module):
    """``s_{t+1} ~ p(. | z, s_t, a_t)`` (deterministic prediction, MSE)."""

    def __init__(self, obs_dim: int, action_dim: int, config: SDNetworkConfig) -> None:
        super().__init__()
        self.state_embed = embedding(obs_dim, config.state_embed, nn.ReLU)
        self.action_embed = embedding(action_dim, config.action_embed, nn.ReLU)
        self.dropout = nn.Dropout(config.decoder_dropout)
        self.net = mlp(config.latent_dim + config.state_embed + config.action_embed,
                       config.state_decoder_hidden, obs_dim, activation=nn.ReLU, output_init="small")

    def forward(self, z: torch.Tensor, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        inputs = [z, self.dropout(self.state_embed(obs)), self.dropout(self.action_embed(action))]
        return self.net(torch.cat(inputs, dim=-1))


class RewardDecoder(nn.Module):
    """``r_t ~ p(. | z, s_{t+1}, a_t, s_t)``; one state embedding serves ``s_{t+1}`` and ``s_t``."""

    def __init__(self, obs_dim: int, action_dim: int, config: SDNetworkConfig) -> None:
        super().__init__()
        self.state_embed = embedding(obs_dim, config.state_embed, nn.ReLU)
        self.action_embed = embedding(action_dim, config.action_embed, nn.ReLU)
        self.dropout = nn.Dropout(config.decoder_dropout)
        self.net = mlp(config.latent_dim + 2 * config.state_embed + config.action_embed,
                       config.reward_decoder_hidden, 1, activation=nn.ReLU, output_init="small")

    def forward(self, z, next_obs, action, obs) -> torch.Tensor:
        inputs = [z, self.dropout(self.state_embed(next_obs)), self.dropout(self.action_embed(action)),
                  self.dropout(self.state_embed(obs))]
        return self.net(torch.cat(inputs, dim=-1)).squeeze(-1)


class ConditionalPrior(nn.Module):
    """``p(z | y) = N(W_mu y + b_mu, softplus(W_v y + b_v))`` (the reference keeps it in the reward decoder)."""

    def __init__(self, config: SDNetworkConfig) -> None:
        super().__init__()
        self.mean = nn.Linear(config.subtasks, config.latent_dim)
        self.var = nn.Linear(config.subtasks, config.latent_dim)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(y), F.softplus(self.var(y))


class PolicyNetwork(nn.Module):
    """Gaussian actor and critic on ``(s, latent, prob)`` with shared input embeddings (reference ``Policy``)."""

    def __init__(self, obs_dim: int, action_dim: int, config: SDNetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.state_embed = embedding(obs_dim, config.policy_embed, nn.Tanh)
        self.latent_embed = embedding(2 * config.latent_dim, config.policy_embed, nn.Tanh)
        self.prob_embed = embedding(config.subtasks, config.policy_embed, nn.Tanh)
        self.actor = mlp(3 * config.policy_embed, config.policy_hidden, action_dim, output_init="small")
        self.critic = mlp(3 * config.policy_embed, config.critic_hidden, 1, output_init="small")
        self.log_std = nn.Parameter(torch.zeros(action_dim))

    def features(self, obs, latent, prob) -> torch.Tensor:
        """The embedded inputs both heads read, for normalised inputs ``[..., dim]``."""
        return torch.cat([self.state_embed(obs), self.latent_embed(latent), self.prob_embed(prob)], -1)

    def action_distribution(self, features: torch.Tensor) -> Normal:
        """``pi(. | features)``: a Gaussian with a state-independent, softly bounded std."""
        log_std = soft_clip(self.log_std, math.log(self.config.policy_min_std),
                            math.log(self.config.policy_max_std))
        std = log_std.exp().expand(features.shape[:-1] + log_std.shape)
        return Normal(self.actor(features), std, validate_args=False)

    def act(self, obs, latent, prob) -> Normal:
        """The action distribution alone (acting needs no value)."""
        return self.action_distribution(self.features(obs, latent, prob))

    def forward(self, obs, latent, prob) -> tuple[Normal, torch.Tensor]:
        """(action distribution, value) for normalised inputs ``[..., dim]``."""
        features = self.features(obs, latent, prob)
        return self.action_distribution(features), self.critic(features).squeeze(-1)
