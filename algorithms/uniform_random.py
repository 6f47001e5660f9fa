"""The chance-level reference: uniform random actions from a seeded generator."""

from __future__ import annotations

import numpy as np

from envs.policy import Acting, Transition
from envs.suite import EnvSpec


class UniformRandomPolicy:
    """Samples every action uniformly from the action box; memoryless.

    It ignores ``acting``: evaluation of this policy measures chance level, which needs the random
    actions. Reproducible: the same seed gives the same action sequence. Each pipeline group draws
    from its own stream (its memory), seeded from the policy's seeded stream in group order, so the
    actions do not depend on the process that acts or the number of workers.
    """

    memory_scope = "episode"
    trial_keyed = True  # group streams from training_seed; the actions ignore the trial keys

    def __init__(self, spec: EnvSpec, seed: int) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(seed)

    def training_seed(self) -> int:
        """The seed of one group's action stream."""
        return int(self.rng.integers(2**62))

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None = None,
                       training_seed: int | None = None) -> np.random.Generator:
        return np.random.default_rng(self.training_seed() if training_seed is None else training_seed)

    def for_workers(self) -> UniformRandomPolicy:
        """The policy itself (it holds the action box and its seed stream only)."""
        return self

    def start_episode(self, memory: np.random.Generator, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> np.random.Generator:
        return memory

    def act(self, obs: np.ndarray, memory: np.random.Generator, acting: Acting):
        size = (obs.shape[0], self.spec.action_dim)
        return memory.uniform(self.spec.action_low, self.spec.action_high, size), {}, memory

    def observe(self, memory: np.random.Generator, transition: Transition) -> np.random.Generator:
        return memory
