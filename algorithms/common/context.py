"""PEARL's probabilistic context (Rakelly et al. 2019, section 4) and per-task storage of episodes.

* :class:`ContextEncoder`: an MLP maps each context transition ``c_n = (s, a, r[, s'])`` to a Gaussian
  factor ``Psi(z | c_n) = N(mu_n, sigma_n^2)`` with ``sigma_n^2 = softplus(.)`` (clamped >= 1e-7).
* :func:`product_of_gaussians`: ``q(z | c_1..N) ∝ prod_n N(mu_n, sigma_n^2)`` (paper eq. 3 /
  garage ``product_of_gaussians``): ``sigma^2 = 1 / sum_n sigma_n^-2``, ``mu = sigma^2 sum_n mu_n
  sigma_n^-2``. The prior is not multiplied in (both references).
* :class:`GaussianBelief`: the same posterior kept as running sums (``sum sigma_n^-2``,
  ``sum mu_n sigma_n^-2``), so an acting agent folds in one transition at a time in O(1) memory and
  obtains exactly the batch posterior of everything it has seen.
* :func:`kl_to_standard_normal`: ``KL(N(mu, sigma^2) || N(0, I))``, the information bottleneck.
* :class:`TaskEpisodeBuffer`: whole episodes labelled with their task, in one FIFO of fixed capacity.
  A task's replay buffer is its episodes in the FIFO; its encoder (context) buffer is the subset
  flagged as context, replaced whenever the task gets a new trial (garage clears a task's encoder
  buffer before collecting new prior data for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from algorithms.common.networks import mlp

MIN_VARIANCE = 1e-7
"""Lower clamp of each factor's variance (garage and oyster)."""


def context_features(obs, actions, rewards, next_obs=None):
    """``[s, a, r]`` (or ``[s, a, r, s']``) along the last axis; numpy or torch alike."""
    parts = [obs, actions, rewards[..., None]] + ([] if next_obs is None else [next_obs])
    if isinstance(obs, torch.Tensor):
        return torch.cat([torch.as_tensor(p, dtype=obs.dtype, device=obs.device) for p in parts], -1)
    return np.concatenate([np.asarray(p, np.float32) for p in parts], -1)


def context_dim(obs_dim: int, action_dim: int, use_next_obs: bool) -> int:
    return obs_dim + action_dim + 1 + (obs_dim if use_next_obs else 0)


def product_of_gaussians(means: torch.Tensor, variances: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine factors ``[..., N, L]`` over ``N`` into one Gaussian ``[..., L]`` (mean, variance)."""
    precision = 1.0 / variances.clamp(min=MIN_VARIANCE)
    variance = 1.0 / precision.sum(-2)
    return variance * (means * precision).sum(-2), variance


def kl_to_standard_normal(mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, diag variance) || N(0, I)) = 0.5 sum_l (var + mean^2 - 1 - log var)`` per row."""
    return 0.5 * (variance + mean.pow(2) - 1.0 - variance.log()).sum(-1)


def sample_gaussian(mean: torch.Tensor, variance: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Reparameterised ``z = mean + sqrt(var) * eps``, ``eps`` drawn on ``generator``'s device."""
    noise = torch.randn(mean.shape, generator=generator, device=generator.device).to(mean.device)
    return mean + variance.sqrt() * noise


class ContextEncoder(nn.Module):
    """Per-transition Gaussian factors: ReLU MLP -> ``(mu_n, softplus -> sigma_n^2)``."""

    def __init__(self, input_dim: int, hidden_sizes: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(input_dim, tuple(hidden_sizes), 2 * latent_dim, activation=nn.ReLU, output_init="small")

    def forward(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Factors ``(mu_n, sigma_n^2)``, each ``[..., latent_dim]``, for transitions ``[..., input]``."""
        mean, pre_variance = self.net(context).chunk(2, dim=-1)
        return mean, nn.functional.softplus(pre_variance).clamp(min=MIN_VARIANCE)

    def posterior(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``q(z | c)`` for context sets ``[..., N, input]`` -> mean and variance ``[..., latent]``."""
        return product_of_gaussians(*self(context))


@dataclass(frozen=True)
class GaussianBelief:
    """A batch of posteriors as running sums; no factor yet means the prior ``N(0, I)``."""

    precision_sum: torch.Tensor  # [B, L]: sum_n sigma_n^-2
    weighted_mean_sum: torch.Tensor  # [B, L]: sum_n mu_n sigma_n^-2
    count: np.ndarray  # [B]: transitions folded into each row

    @classmethod
    def prior(cls, batch_size: int, latent_dim: int, device: torch.device) -> GaussianBelief:
        zeros = torch.zeros(batch_size, latent_dim, device=device)
        return cls(zeros, zeros.clone(), np.zeros(batch_size, np.int64))

    def add(self, means: torch.Tensor, variances: torch.Tensor) -> GaussianBelief:
        """Fold in one factor per row (``[B, L]`` each)."""
        precision = 1.0 / variances.clamp(min=MIN_VARIANCE)
        return GaussianBelief(self.precision_sum + precision, self.weighted_mean_sum + means * precision,
                              self.count + 1)

    def where(self, rows: np.ndarray, other: GaussianBelief) -> GaussianBelief:
        """This belief in ``rows`` (a boolean mask), ``other`` elsewhere."""
        mask = torch.as_tensor(rows, device=self.precision_sum.device)[:, None]
        return GaussianBelief(torch.where(mask, self.precision_sum, other.precision_sum),
                              torch.where(mask, self.weighted_mean_sum, other.weighted_mean_sum),
                              np.where(rows, self.count, other.count))

    def distribution(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of the posterior of each row (the prior in rows with ``count == 0``)."""
        empty = self.count == 0
        if empty.all():
            return torch.zeros_like(self.precision_sum), torch.ones_like(self.precision_sum)
        variance = 1.0 / self.precision_sum
        mean, variance = variance * self.weighted_mean_sum, variance
        if empty.any():
            mask = torch.as_tensor(empty, device=mean.device)[:, None]
            mean, variance = torch.where(mask, 0.0, mean), torch.where(mask, 1.0, variance)
        return mean, variance


class TaskEpisodeBuffer:
    """Fixed-length episodes of many tasks in one FIFO ring (the oldest episode is overwritten).

    Observations are stored once per episode (``T + 1`` of them), so the next observation of the
    last step is the true final observation of the time-limited episode, never a reset.
    """

    _ARRAYS = ("observations", "actions", "rewards", "task", "context", "collected")

    def __init__(self, capacity_episodes: int, steps: int, obs_dim: int, action_dim: int) -> None:
        if capacity_episodes < 1:
            raise ValueError(f"the replay buffer must hold at least one episode, got {capacity_episodes}")
        self.capacity, self.steps = capacity_episodes, steps
        self.observations = np.zeros((capacity_episodes, steps + 1, obs_dim), np.float32)
        self.actions = np.zeros((capacity_episodes, steps, action_dim), np.float32)
        self.rewards = np.zeros((capacity_episodes, steps), np.float32)
        self.task = np.full(capacity_episodes, -1, np.int64)
        self.context = np.zeros(capacity_episodes, bool)
        self.collected = np.zeros(capacity_episodes, np.int64)  # the training iteration of each episode
        self.size = 0
        self.cursor = 0
        self.version = 0  # bumped at every change, so a device copy knows when it is stale
        self._index: dict[tuple[int, bool], np.ndarray] = {}

    def add_trial(self, task: int, observations: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                  context: np.ndarray, iteration: int = 0) -> None:
        """Store a trial's episodes ``[E, ...]`` of ``task``, collected in training iteration
        ``iteration``; ``context[e]`` marks encoder episodes.

        The task's earlier context episodes stay in the replay FIFO but leave its context set.
        """
        self.context[self.task == task] = False
        for e in range(len(observations)):
            slot = self.cursor
            self.observations[slot], self.actions[slot], self.rewards[slot] = observations[e], actions[e], rewards[e]
            self.task[slot], self.context[slot], self.collected[slot] = task, bool(context[e]), iteration
            self.cursor = (self.cursor + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)
        self._index = {}
        self.version += 1

    def episodes_of(self, task: int, context_only: bool) -> np.ndarray:
        """Slots holding ``task``'s episodes (only its context episodes if ``context_only``)."""
        key = (task, context_only)
        if key not in self._index:
            mask = self.task == task
            self._index[key] = np.flatnonzero(mask & self.context if context_only else mask)
        return self._index[key]

    def tasks_with_context(self, since: int | None = None) -> np.ndarray:
        """Tasks that can be trained on: at least one context episode stored (collected in iteration
        ``since`` or later, when given), sorted ids."""
        fresh = self.context if since is None else self.context & (self.collected >= since)
        return np.unique(self.task[fresh])

    def recent_tasks(self, iteration: int, window: int) -> np.ndarray:
        """The tasks a meta-batch draws from in ``iteration``: those whose context was collected in
        the last ``window`` iterations (``window = 0``: every task with context). A task with context
        older than the window keeps its episodes in the FIFO but is not drawn until it is replayed."""
        return self.tasks_with_context(None if window == 0 else iteration - window + 1)

    def sample(self, tasks: np.ndarray, batch_size: int, rng: np.random.Generator,
               context_only: bool) -> dict[str, np.ndarray]:
        """``batch_size`` transitions per task, uniformly over the task's stored transitions.

        Returns ``obs``, ``actions``, ``rewards``, ``next_obs`` shaped ``[len(tasks), batch_size, ...]``.
        """
        episodes = np.stack([
            slots[rng.integers(len(slots), size=batch_size)]
            for slots in (self.episodes_of(int(task), context_only) for task in tasks)
        ])
        steps = rng.integers(self.steps, size=episodes.shape)
        return {
            "obs": self.observations[episodes, steps],
            "actions": self.actions[episodes, steps],
            "rewards": self.rewards[episodes, steps],
            "next_obs": self.observations[episodes, steps + 1],
        }

    def state_dict(self) -> dict:
        """The filled part only (slots ``0..size``), so an early checkpoint is small."""
        return {**{name: getattr(self, name)[: self.size].copy() for name in self._ARRAYS},
                "size": self.size, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        size = state["size"]
        if size > self.capacity or state["observations"].shape[1:] != self.observations.shape[1:]:
            raise ValueError(
                f"checkpointed replay buffer ({size} episodes of shape {state['observations'].shape[1:]}) "
                f"does not fit this buffer ({self.capacity} of {self.observations.shape[1:]})"
            )
        for name in self._ARRAYS:
            getattr(self, name)[:size] = state[name]
            getattr(self, name)[size:] = -1 if name == "task" else 0
        self.size, self.cursor = size, state["cursor"]
        self._index = {}
        self.version += 1


def require_posterior_episode(prior_episodes: int, episodes_per_task: int, where: str) -> None:
    """A training trial must hold at least one episode collected with the posterior z (PEARL's
    protocol: ``prior_episodes`` with z ~ prior, then the posterior); refuse a study where it holds none."""
    if prior_episodes >= episodes_per_task:
        raise ValueError(
            f"{where}: prior_episodes ({prior_episodes}) must be smaller than the study's "
            f"training.episodes_per_task ({episodes_per_task}), or no training episode is collected with "
            f"the posterior; set prior_episodes to at most {episodes_per_task - 1} in the study's overrides"
        )
