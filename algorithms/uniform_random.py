"""The chance-level reference: uniform random actions from a seeded generator."""

from __future__ import annotations

import numpy as np

from envs.policy import Acting, Transition
from envs.suite import EnvSpec


class UniformRandomPolicy:
    """Samples every action uniformly from the action box; memoryless.

    It ignores ``acting``: evaluation of this policy measures chance level, which needs the random
    actions. Reproducible: the same seed gives the same action sequence.
    """

    memory_scope = "episode"

    def __init__(self, spec: EnvSpec, seed: int) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(seed)

    def initial_memory(self, batch_size: int) -> None:
        return None

    def start_episode(self, memory: None, first_in_trial: bool, rows: np.ndarray | None = None) -> None:
        return None

    def act(self, obs: np.ndarray, memory: None, acting: Acting):
        size = (obs.shape[0], self.spec.action_dim)
        return self.rng.uniform(self.spec.action_low, self.spec.action_high, size), {}, None

    def observe(self, memory: None, transition: Transition) -> None:
        return None
