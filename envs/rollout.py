"""The data a collection returns: dense per-step arrays indexed ``[trial, episode, step, ...]``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.schedule import Trial


@dataclass
class Rollout:
    """Everything recorded while playing ``trials`` (all with the same number of episodes).

    Episode boundaries are the array structure itself: episode ``e`` of trial ``i`` is
    ``[i, e, 0:T]``, and every episode runs the full ``T`` steps (never cut short on success).
    ``observations[i, e, t + 1]`` is the next observation of step ``t``; ``truncated[i, e, T - 1]`` is
    the time limit (bootstrap through it; MetaWorld never terminates).
    """

    trials: list[Trial]
    observations: np.ndarray  # [N, E, T + 1, obs_dim] float32
    actions: np.ndarray  # [N, E, T, action_dim] float32, as returned by the policy (unclipped)
    rewards: np.ndarray  # [N, E, T] float64, raw env reward
    successes: np.ndarray  # [N, E, T] bool, info["success"] at each step
    truncated: np.ndarray  # [N, E, T] bool
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # [N, E, T, ...] per agent output

    @classmethod
    def allocate(cls, trials: list[Trial], steps: int, obs_dim: int, action_dim: int) -> Rollout:
        n, episodes = len(trials), trials[0].episodes
        return cls(
            trials=list(trials),
            observations=np.zeros((n, episodes, steps + 1, obs_dim), np.float32),
            actions=np.zeros((n, episodes, steps, action_dim), np.float32),
            rewards=np.zeros((n, episodes, steps), np.float64),
            successes=np.zeros((n, episodes, steps), bool),
            truncated=np.zeros((n, episodes, steps), bool),
        )

    @classmethod
    def for_slots(cls, slots: int, steps: int, obs_dim: int, action_dim: int) -> Rollout:
        """One episode of ``slots`` env slots, indexed ``[slot, 0, step]``: what a sampler worker records
        for one pipeline group while it acts (:meth:`place` puts it into the collection's rollout)."""
        return cls.allocate([Trial("slot", 0, 1)] * slots, steps, obs_dim, action_dim)

    def place(self, trial_index: np.ndarray, episode_index: np.ndarray, part: Rollout) -> None:
        """Copy ``part``'s single episode per slot to ``[trial_index[k], episode_index[k]]``."""
        if part.episodes_per_trial != 1 or part.num_trials != len(trial_index):
            raise ValueError(f"place() takes one episode per slot for {len(trial_index)} slots, got "
                             f"{part.num_trials} slots x {part.episodes_per_trial} episodes")
        for name in ("observations", "actions", "rewards", "successes", "truncated"):
            getattr(self, name)[trial_index, episode_index] = getattr(part, name)[:, 0]
        if not self.extras:
            self.extras = {key: np.zeros(self.rewards.shape + value.shape[3:], value.dtype)
                           for key, value in part.extras.items()}
        if part.extras.keys() != self.extras.keys():
            raise ValueError(f"the policy returned extras {sorted(part.extras)} in one group and "
                             f"{sorted(self.extras)} in another; return the same keys everywhere")
        for key, value in part.extras.items():
            self.extras[key][trial_index, episode_index] = value[:, 0]

    @property
    def num_trials(self) -> int:
        return self.rewards.shape[0]

    @property
    def episodes_per_trial(self) -> int:
        return self.rewards.shape[1]

    @property
    def episode_length(self) -> int:
        return self.rewards.shape[2]

    @property
    def env_steps(self) -> int:
        return int(self.rewards.size)

    @property
    def next_observations(self) -> np.ndarray:
        return self.observations[:, :, 1:]

    @property
    def class_names(self) -> list[str]:
        return [trial.class_name for trial in self.trials]

    def record_extras(self, trial_index, episode_index, step: int, extras: dict[str, np.ndarray]) -> None:
        """Store one batch of agent outputs at ``[trial_index, episode_index, step]``."""
        if step == 0 and not self.extras:
            for key, value in extras.items():
                self.extras[key] = np.zeros(self.rewards.shape + value.shape[1:], value.dtype)
        if extras.keys() != self.extras.keys():
            raise ValueError(
                f"the policy returned extras {sorted(extras)} but earlier steps returned "
                f"{sorted(self.extras)}; return the same keys at every step"
            )
        for key, value in extras.items():
            self.extras[key][trial_index, episode_index, step] = value
