"""The VAE's trajectory buffer: a FIFO ring of the most recent whole trials, stored raw.

Capacity is given in episodes (the paper's buffer size B, "same as HiMeta", whose unit is an
episode) and turned into trials when the first rollout shows the trial length:
``capacity_trials = max(1, buffer_episodes // episodes_per_trial)``. A trial is stored as one
sequence of ``L = episodes * T`` transitions ``(s_t, a_t, r_t, s_{t+1})``; ``s_{t+1}`` is kept
apart from the next ``s_t`` because the first state of an episode is the env's reset state, not the
last state of the previous episode (no "teleport" transition, docs/sd.md).
"""

from __future__ import annotations

import numpy as np
import torch

FIELDS = ("obs", "actions", "rewards", "next_obs")


class TrialBuffer:
    """Most recent trials, each ``[L, ...]``; allocated on the first :meth:`push`."""

    def __init__(self, capacity_episodes: int) -> None:
        if capacity_episodes < 1:
            raise ValueError(f"buffer_episodes must be >= 1, got {capacity_episodes}")
        self.capacity_episodes = capacity_episodes
        self.data: dict[str, np.ndarray] | None = None
        self.size = 0
        self.cursor = 0

    def push(self, trials: dict[str, np.ndarray], episodes_per_trial: int) -> None:
        """Append trials ``{field: [N, L, ...]}`` (raw rewards), overwriting the oldest when full."""
        if self.data is None:
            capacity = max(1, self.capacity_episodes // episodes_per_trial)
            self.data = {key: np.zeros((capacity,) + value.shape[1:], np.float32)
                         for key, value in trials.items()}
        for key, value in trials.items():
            if value.shape[1:] != self.data[key].shape[1:]:
                raise ValueError(
                    f"buffer holds trials of shape {self.data[key].shape[1:]} for {key!r} but got "
                    f"{value.shape[1:]}; keep episodes_per_task and the episode length fixed in a run"
                )
        for i in range(len(trials["rewards"])):
            for key, value in trials.items():
                self.data[key][self.cursor] = value[i]
            self.cursor = (self.cursor + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    @property
    def capacity(self) -> int:
        return 0 if self.data is None else len(self.data["rewards"])

    def batch(self, indices: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
        """Trials ``indices`` as tensors ``[B, L, ...]`` on ``device``."""
        return {key: torch.as_tensor(value[indices]).to(device) for key, value in self.data.items()}

    def state_dict(self) -> dict:
        """The arrays themselves (like ``nn.Module.state_dict``, no copy); loading copies them."""
        return {"capacity_episodes": self.capacity_episodes, "data": self.data, "size": self.size,
                "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.capacity_episodes, self.size, self.cursor = state["capacity_episodes"], state["size"], state["cursor"]
        self.data = None if state["data"] is None else {k: v.copy() for k, v in state["data"].items()}
