"""The policy's reward normalisation (reference ``VecNormalize``, reward only; the VAE sees raw rewards).

Per env a discounted return ``R_t = gamma R_{t-1} + r_t`` runs through the trial (reset at the trial's
start); after each step the running variance of ``R`` is updated with the batch of all envs' returns
and the reward is scaled as ``r~_t = clip(r_t / sqrt(Var[R] + 1e-8), -c, c)`` (no mean subtraction).
The reference does this while stepping; the scaled rewards depend only on the raw reward sequence,
so here the same recursion runs over the recorded trial at update time.
"""

from __future__ import annotations

import numpy as np

from algorithms.common.normalization import RunningNormalizer

EPS = 1e-8


class ReturnScaler:
    """Running variance of per-trial discounted returns; scales rewards step by step."""

    def __init__(self, gamma: float, clip: float) -> None:
        self.gamma, self.clip = gamma, clip
        self.returns = RunningNormalizer(1)  # only its running variance is used

    def __call__(self, rewards: np.ndarray) -> np.ndarray:
        """Scale ``rewards [N, L]`` (N trials stepped side by side, L steps each) and update the statistics."""
        scaled = np.zeros_like(rewards, dtype=np.float64)
        running = np.zeros(rewards.shape[0])
        for t in range(rewards.shape[1]):
            running = self.gamma * running + rewards[:, t]
            self.returns.update(running[:, None])
            scaled[:, t] = rewards[:, t] / np.sqrt(self.returns.var[0] + EPS)
        return np.clip(scaled, -self.clip, self.clip)

    def state_dict(self) -> dict:
        return self.returns.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.returns.load_state_dict(state)
