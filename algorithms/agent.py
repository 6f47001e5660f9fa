"""What the trainer needs from a method: a policy to act with, an update rule and its full state."""

from __future__ import annotations

from typing import Any, Protocol

from envs.policy import RolloutPolicy
from envs.rollout import Rollout


class Agent(Protocol):
    """A meta-RL method. ``policy`` acts through the shared sampler; ``update`` learns from a rollout.

    ``state_dict`` must capture everything that influences later numbers (networks, optimisers,
    normalisers, buffers, random generators), so that a run resumed from a checkpoint continues
    exactly as an uninterrupted run would.
    """

    policy: RolloutPolicy

    def update(self, rollout: Rollout, iteration: int) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
