"""Per-iteration means of gradient-step statistics, read from the learner's device once.

A gradient step's logged values (losses, Q means, KL, ...) are 0-d tensors on the learner's device.
Reading each with ``.item()`` makes the host wait for the device at every step (about ten waits per
SAC step); :class:`StepStatistics` sums them where they are and copies the means to the host in one
transfer when the iteration's update ends.
"""

from __future__ import annotations

import torch


class StepStatistics:
    """Running sums of named 0-d tensors over the gradient steps of one update."""

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._steps = 0

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        """Fold in one gradient step's statistics (detached tensors, no host sync)."""
        for name, value in stats.items():
            self._sums[name] = value.detach() if name not in self._sums else self._sums[name] + value.detach()
        self._steps += 1

    def means(self) -> dict[str, float]:
        """The mean of each statistic over the steps added, with one device-to-host copy (``{}``
        when no step was taken)."""
        if not self._sums:
            return {}
        values = (torch.stack(list(self._sums.values())).float() / self._steps).tolist()
        return dict(zip(self._sums, values, strict=True))
