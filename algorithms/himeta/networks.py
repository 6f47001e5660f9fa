"""HiMeta's three levels as separate modules (paper Section 3, Figure 2).

* :class:`HighLevel` (phi): embeds ``MDP_t = (s_t, a_t, r_t, s_{t+1})``, runs a GRU and a categorical
  head, eq. (5): ``h_t = phi_h(MDP_t, h_{t-1})``, ``y_t = Cat(phi_y(h_t))`` (Gumbel-softmax sample).
* :class:`Critic` (theta_V): ``V(s_t, y_t)``, trained with the HL objective (eq. 6), not by PPO.
* :class:`IntermediateLevel` (psi): encoder ``z_t ~ tanh(N(mu(y_t, s_t), sigma(y_t, s_t)))``
  (eq. 10) and decoder ``s^ego_goal = psi_s(y_t, z_t, s^ego_t)`` (eq. 12; the reference code's
  decoder drops ``y_t``: ``decoder_condition_y: false``).
* :class:`LowLevel` (theta_pi): Gaussian policy ``a_t ~ pi(y_t, z_t, s_t)`` (eq. 14).

Every Gaussian standard deviation (IL and LL) is kept in ``(std_min, std_max)`` by a smooth bound
on its log (:func:`~algorithms.common.networks.soft_clip`), so a log-std at the edge still gets a
gradient (a hard clamp stops it there for good). Embeddings and the categorical head start at
Xavier scale, so the HL sees its inputs from the first update; value, decoder and policy heads start
near zero.

No module reads another's parameters; the losses in ``losses.py`` decide where gradients stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Normal

from algorithms.common.gumbel import gumbel_softmax
from algorithms.common.networks import mlp, soft_clip


@dataclass(frozen=True)
class HiMetaNetworkConfig:
    """Sizes of the networks; defaults and their sources are in config/methods/himeta-*.yaml."""

    categories: int = 5
    recurrent_size: int = 256
    state_embed: tuple[int, ...] = (64,)
    action_embed: tuple[int, ...] = (32,)
    reward_embed: tuple[int, ...] = (16,)
    categorical_hidden: tuple[int, ...] = (512, 512)
    categorical_dropout: float = 0.7
    encoder_hidden: tuple[int, ...] = (128, 128, 64, 32)
    decoder_hidden: tuple[int, ...] = (32, 64, 128, 128)
    decoder_dropout: float = 0.7
    policy_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (256, 256)
    std_min: float = 0.5
    std_max: float = 1.5
    z_mean_limit: float = 7.0
    decoder_condition_y: bool = True

    def bounded_std(self, raw_log_std: torch.Tensor) -> torch.Tensor:
        """A network's raw log-std output as a standard deviation in ``(std_min, std_max)``."""
        return soft_clip(raw_log_std, math.log(self.std_min), math.log(self.std_max)).exp()


def _embed(width: int, hidden: tuple[int, ...]) -> nn.Sequential:
    return mlp(width, hidden, width, activation=nn.Tanh, output_activation=nn.Tanh, output_init="xavier")


class HighLevel(nn.Module):
    """Task/sub-task inference: GRU over embedded transitions and a categorical head (eq. 5)."""

    def __init__(self, obs_dim: int, action_dim: int, config: HiMetaNetworkConfig) -> None:
        super().__init__()
        self.categories = config.categories
        self.state_embed = _embed(obs_dim, config.state_embed)
        self.action_embed = _embed(action_dim, config.action_embed)
        self.reward_embed = _embed(1, config.reward_embed)
        self.gru = nn.GRU(2 * obs_dim + action_dim + 1, config.recurrent_size, batch_first=True)
        self.head = mlp(config.recurrent_size, config.categorical_hidden, config.categories,
                        activation=nn.ReLU, dropout=config.categorical_dropout, output_init="xavier")

    def embed(self, obs, action, reward, next_obs) -> torch.Tensor:
        """The embedded ``MDP_t``; ``reward`` has the shape of ``obs`` without its last axis."""
        return torch.cat(
            [self.state_embed(obs), self.action_embed(action),
             self.reward_embed(reward.unsqueeze(-1)), self.state_embed(next_obs)], dim=-1,
        )

    def forward(self, obs, action, reward, next_obs) -> tuple[torch.Tensor, torch.Tensor]:
        """Episodes ``[B, T, ...]`` -> (acting logits ``[B, T, K]``, h_t ``[B, T, H]``).

        The acting logits of step ``t`` come from ``h_{t-1}`` (``h_{-1} = 0``): the context the agent
        had when it chose ``a_t``, exactly as during sampling (the reference code's rollout used a
        state one step behind its update; here both use ``(s_t, h_{t-1})``).
        """
        states, _ = self.gru(self.embed(obs, action, reward, next_obs))
        before = torch.cat([torch.zeros_like(states[:, :1]), states[:, :-1]], dim=1)
        return self.head(before), states

    def step(self, hidden: torch.Tensor, obs, action, reward, next_obs) -> torch.Tensor:
        """One GRU step on a batch of transitions: ``h_t`` from ``h_{t-1}`` ``[B, H]``."""
        features = self.embed(obs, action, reward, next_obs).unsqueeze(1)
        _, hidden = self.gru(features, hidden.unsqueeze(0))
        return hidden.squeeze(0)

    @staticmethod
    def sample(logits: torch.Tensor, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        """A relaxed one-hot ``y_t`` (Gumbel-softmax, the paper's ``Cat`` activation), seeded."""
        return gumbel_softmax(logits, temperature, generator)


class Critic(nn.Module):
    """``V(s_t, y_t)`` (eq. 6); its loss also trains the HL through ``y_t``."""

    def __init__(self, obs_dim: int, config: HiMetaNetworkConfig) -> None:
        super().__init__()
        self.net = mlp(obs_dim + config.categories, config.critic_hidden, 1, output_init="small")

    def forward(self, obs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, y], dim=-1)).squeeze(-1)


class IntermediateLevel(nn.Module):
    """Macro-action encoder ``q(z | y, s)`` (eq. 10) and goal-state decoder (eq. 11-12)."""

    def __init__(self, obs_dim: int, action_dim: int, ego_dim: int, config: HiMetaNetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = mlp(obs_dim + config.categories, config.encoder_hidden, 2 * action_dim,
                           activation=nn.LeakyReLU, output_init="small")
        decoder_input = ego_dim + action_dim + (config.categories if config.decoder_condition_y else 0)
        self.decoder = mlp(decoder_input, config.decoder_hidden, ego_dim,
                           activation=nn.LeakyReLU, dropout=config.decoder_dropout, output_init="small")

    def distribution(self, obs: torch.Tensor, y: torch.Tensor) -> Normal:
        """The Gaussian before the tanh of eq. (10)."""
        mean, log_std = self.encoder(torch.cat([obs, y], dim=-1)).chunk(2, dim=-1)
        limit = self.config.z_mean_limit
        return Normal(mean.clamp(-limit, limit), self.config.bounded_std(log_std), validate_args=False)

    def decode(self, ego: torch.Tensor, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Eq. (12): the ego-state at the goal time from ``(y_t, z_t, s^ego_t)``; ``y`` is ignored when
        ``decoder_condition_y`` is off (the reference code's decoder)."""
        inputs = [ego, z, y] if self.config.decoder_condition_y else [ego, z]
        return self.decoder(torch.cat(inputs, dim=-1))


def tanh_sample(distribution: Normal, noise: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``z = tanh(u)``, ``u = mean + std * noise`` (reparameterised ``u ~ distribution``), with
    ``log q(z)`` summed over dims; ``noise=None`` gives ``tanh(mean)``.

    ``log q(z) = log N(u) - sum log(1 - tanh(u)^2)`` (change of variables).
    """
    pre = distribution.mean if noise is None else distribution.mean + distribution.stddev * noise
    z = torch.tanh(pre)
    log_q = distribution.log_prob(pre).sum(-1) - torch.log1p(-z.pow(2) + 1e-6).sum(-1)
    return z, log_q


class LowLevel(nn.Module):
    """Primitive policy ``pi(a | y, z, s)`` (eq. 14): a diagonal Gaussian with state-dependent std."""

    def __init__(self, obs_dim: int, action_dim: int, config: HiMetaNetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.net = mlp(obs_dim + config.categories + action_dim, config.policy_hidden, 2 * action_dim,
                       output_init="small")

    def forward(self, obs: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> Normal:
        mean, log_std = self.net(torch.cat([obs, y, z], dim=-1)).chunk(2, dim=-1)
        return Normal(torch.tanh(mean), self.config.bounded_std(log_std), validate_args=False)
