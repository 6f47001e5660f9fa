"""PEARL's trial-scoped belief over the context variable ``z``, for every method that acts with one.

PEARL (Rakelly et al. 2019) and PEACH both condition their (top-level) policy on ``z`` and share
this protocol; each composes it, so neither depends on the other's code:

* memory per env slot: the :class:`GaussianBelief` of the current trial (reset at every new trial),
  the episode index in the trial, and the episode's ``z`` once drawn (:class:`BeliefMemory`);
* the episode's ``z`` is drawn when its first action is taken: in training from the prior
  ``N(0, I)`` for the first ``prior_episodes`` episodes, then from the posterior of every transition
  of the trial so far; in evaluation (deterministic or stochastic actions alike) from the prior for
  episode 0, then the posterior (PEARL's Algorithm 2), with noise keyed by (seed, trial, episode)
  (:func:`evaluation_z_noise`): every trial draws its own z, wherever the sampler plays it, and
  evaluation never moves the training streams;
* each slot also holds its trial's evaluation stream, from which a stochastic evaluation draws its
  actions (:func:`~algorithms.common.keyed_noise.action_noise`);
* after each step the transition's context features are folded into the belief.

Also here: the stable task ids both agents key their replay by, and the SAC inputs ``[obs, z]`` in
which only the critic's ``z`` carries the encoder's gradient.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from algorithms.common.context import ContextEncoder, GaussianBelief, context_features, sample_gaussian
from algorithms.common.keyed_noise import EVALUATION_STREAM, action_noise, training_stream, trial_streams
from envs.policy import Acting, Transition, episode_rows, slot_keys


@dataclass(frozen=True)
class BeliefMemory:
    """Per slot: the belief of the current trial, the episode index in the trial, the trial key
    (:func:`envs.policy.trial_key`) and evaluation stream, the episode's z, and whether that z is
    still to be drawn (at the episode's first action); per group, the training stream."""

    belief: GaussianBelief
    episode: np.ndarray  # [B] int
    trial_keys: np.ndarray
    eval_streams: list[torch.Generator]
    z: torch.Tensor  # [B, L]
    z_due: np.ndarray  # [B] bool
    train_stream: torch.Generator  # the group's training stream (one per group and collection)


def evaluation_z_noise(seed: int, trial_keys: np.ndarray, episodes: np.ndarray, dim: int) -> torch.Tensor:
    """Standard normal noise ``[B, dim]`` for evaluation z draws: row ``b`` is a fixed function of
    (seed, ``trial_keys[b]``, ``episodes[b]``) alone, so a trial's z does not depend on the slot,
    group, chunk or worker count it is played with, nor on other trials or earlier evaluations."""
    rows = []
    for key, episode in zip(trial_keys, np.broadcast_to(episodes, np.shape(trial_keys))):
        state = np.random.SeedSequence(seed, spawn_key=(1, int(key), int(episode))).generate_state(1)[0]
        rows.append(torch.randn(dim, generator=torch.Generator().manual_seed(int(state))))
    return torch.stack(rows)


class TrialBelief:
    """The acting side of the protocol, batched over env slots (see the module docstring)."""

    def __init__(self, encoder: ContextEncoder, latent_dim: int, prior_episodes: int,
                 use_next_obs: bool, seed: int, device: torch.device) -> None:
        self.encoder, self.latent_dim, self.prior_episodes = encoder, latent_dim, prior_episodes
        self.use_next_obs, self.seed, self.device = use_next_obs, seed, device

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None, training_seed: int) -> BeliefMemory:
        """The prior belief for ``batch_size`` slots and the group's training stream; without
        ``trial_keys`` (a call outside the sampler) the slots are keyed by their row number."""
        keys = slot_keys(batch_size, trial_keys)
        return BeliefMemory(GaussianBelief.prior(batch_size, self.latent_dim, self.device),
                            np.full(batch_size, -1), keys, trial_streams(self.seed, keys, EVALUATION_STREAM),
                            torch.zeros(batch_size, self.latent_dim, device=self.device),
                            np.ones(batch_size, bool), training_stream(training_seed, self.device))

    def start_episode(self, memory: BeliefMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> BeliefMemory:
        """The next episode in ``rows`` (a mask; ``None``: every row): its z is drawn at its first
        action; ``first_in_trial`` also resets those rows' belief and evaluation stream."""
        mask = episode_rows(len(memory.trial_keys), rows)
        if first_in_trial:
            belief = GaussianBelief.prior(len(mask), self.latent_dim, self.device).where(mask, memory.belief)
            fresh = trial_streams(self.seed, memory.trial_keys, EVALUATION_STREAM)
            streams = [new if row else old for new, old, row in zip(fresh, memory.eval_streams, mask)]
            episode = np.where(mask, 0, memory.episode)
        else:
            belief, streams, episode = memory.belief, memory.eval_streams, np.where(mask, memory.episode + 1,
                                                                                    memory.episode)
        return BeliefMemory(belief, episode, memory.trial_keys, streams, memory.z, memory.z_due | mask,
                            memory.train_stream)

    def uses_prior(self, episode: np.ndarray, acting: Acting) -> np.ndarray:
        """Per row: whether its episode acts with the prior rather than the trial's posterior."""
        return episode == 0 if acting.evaluation else episode < self.prior_episodes

    def with_z(self, memory: BeliefMemory, acting: Acting) -> BeliefMemory:
        """``memory`` with every row's episode z, drawn now in the rows that have none yet."""
        due = np.flatnonzero(memory.z_due)
        if due.size == 0:
            return memory
        prior = self.uses_prior(memory.episode[due], acting)
        if prior.all():
            mean, variance = GaussianBelief.prior(due.size, self.latent_dim, self.device).distribution()
        else:
            mean, variance = memory.belief.distribution()
            mean, variance = mean[due], variance[due]
            if prior.any():
                mask = torch.as_tensor(prior, device=mean.device)[:, None]
                mean, variance = torch.where(mask, 0.0, mean), torch.where(mask, 1.0, variance)
        if acting.evaluation:
            noise = evaluation_z_noise(self.seed, memory.trial_keys[due], memory.episode[due], self.latent_dim)
            drawn = mean + variance.sqrt() * noise.to(mean.device)
        else:
            drawn = sample_gaussian(mean, variance, memory.train_stream)
        z = memory.z.clone()
        z[torch.as_tensor(due, device=z.device)] = drawn
        return dataclasses.replace(memory, z=z, z_due=np.zeros_like(memory.z_due))

    def action_noise(self, memory: BeliefMemory, acting: Acting, width: int,
                     rows: np.ndarray | None = None) -> torch.Tensor | None:
        """Noise of one batched action draw in ``rows`` (indices; ``None``: every row): from the
        group's training stream in training, the rows' trial streams in a stochastic evaluation, none
        when acting deterministically."""
        rows = np.arange(len(memory.trial_keys)) if rows is None else rows
        streams = [memory.eval_streams[row] for row in rows]
        return action_noise(acting, (len(rows), width), memory.train_stream, streams, self.device)

    def observe(self, memory: BeliefMemory, transition: Transition) -> BeliefMemory:
        """Fold the transition's context ``(s, a, r[, s'])`` into the trial's belief."""
        next_obs = transition.next_obs if self.use_next_obs else None
        features = torch.as_tensor(
            context_features(transition.obs, transition.action, transition.reward, next_obs), device=self.device
        )
        return dataclasses.replace(memory, belief=memory.belief.add(*self.encoder(features)))


def task_id(ids: dict[str, int], class_name: str, variant: int) -> int:
    """A stable integer per (class, variant) in ``ids``, assigned in order of first appearance."""
    return ids.setdefault(f"{class_name}/{variant}", len(ids))


def latent_sac_inputs(batch: dict[str, torch.Tensor], z: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(critic, actor, next)`` inputs ``[M*B, obs+latent]`` for an RL batch ``[M, B, ...]`` and one z
    per task ``[M, latent]``: only the critic's z keeps its gradient (the encoder learns from the Q
    loss and the KL alone, PEARL's cut)."""
    tasks, size = batch["obs"].shape[:2]
    z = z[:, None, :].expand(tasks, size, z.shape[-1])

    def flat(obs: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        return torch.cat([obs, latent], -1).reshape(tasks * size, -1)

    return flat(batch["obs"], z), flat(batch["obs"], z.detach()), flat(batch["next_obs"], z.detach())
