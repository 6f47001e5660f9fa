"""Running observation normalisation (mean/variance over everything seen, clipped), checkpointable."""

from __future__ import annotations

import numpy as np
import torch


class RunningNormalizer:
    """``clip((x - mean) / sqrt(var + eps), -clip, clip)`` with statistics merged batch by batch."""

    def __init__(self, dim: int, clip: float = 5.0, eps: float = 1e-8,
                 device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.mean = np.zeros(dim)
        self.var = np.ones(dim)
        self.count = 0.0
        self.clip = clip
        self.eps = eps
        self._refresh()

    def _refresh(self) -> None:
        """Tensor copies of the statistics, so normalising a batch builds no new tensors."""
        self._mean = torch.as_tensor(self.mean, dtype=torch.float32, device=self.device)
        self._std = torch.as_tensor(np.sqrt(self.var + self.eps), dtype=torch.float32, device=self.device)

    def update(self, values: np.ndarray) -> None:
        """Merge the statistics of ``values [..., dim]`` (parallel-variance formula)."""
        values = values.reshape(-1, self.mean.shape[0]).astype(np.float64)
        batch_mean, batch_var, n = values.mean(0), values.var(0), values.shape[0]
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total
        self._refresh()

    def __call__(self, values: np.ndarray | torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(values, dtype=torch.float32, device=self.device)
        return ((values - self._mean) / self._std).clamp(-self.clip, self.clip)

    def on_device(self, device: torch.device | str) -> RunningNormalizer:
        """A copy with the same statistics that normalises on ``device``."""
        moved = RunningNormalizer(len(self.mean), self.clip, self.eps, device)
        moved.load_state_dict(self.state_dict())
        return moved

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.var, self.count = state["mean"].copy(), state["var"].copy(), state["count"]
        self._refresh()
