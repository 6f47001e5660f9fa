"""PEARL's meta-batches drawn on the learner's device (Rakelly et al. 2019, Algorithm 1's inner loop).

One gradient step needs, for ``M`` tasks drawn with replacement from the eligible ones, ``B`` RL
transitions uniformly from each task's replay episodes and ``N`` context transitions from its
context episodes. Drawn with numpy, every step copies both batches to the device. Here the episode
FIFO's filled part is put on the device once per iteration (on a CPU learner the tensors share the
buffer's memory, so nothing is copied), each eligible task's episode slots are indexed once, and
every draw of every step happens on the device from one torch generator: a step neither waits for
the host nor copies to or from it.

The draw is the buffer's own (:meth:`TaskEpisodeBuffer.sample`): a task row uniformly, then per
transition an episode uniformly among the task's episodes and a step uniformly within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algorithms.common.context import TaskEpisodeBuffer


@dataclass(frozen=True)
class EpisodeIndex:
    """Each eligible task's episode slots, left-aligned and padded to one width, and their count."""

    slots: torch.Tensor  # [T, width] int64
    counts: torch.Tensor  # [T] int64

    @classmethod
    def of(cls, buffer: TaskEpisodeBuffer, tasks: np.ndarray, context_only: bool,
           device: torch.device) -> EpisodeIndex:
        lists = [buffer.episodes_of(int(task), context_only) for task in tasks]
        if any(len(slots) == 0 for slots in lists):
            raise ValueError("every task of a meta-batch needs at least one stored episode")
        slots = np.zeros((len(lists), max(len(s) for s in lists)), np.int64)
        for row, task_slots in enumerate(lists):
            slots[row, : len(task_slots)] = task_slots
        return cls(torch.as_tensor(slots, device=device),
                   torch.as_tensor(np.array([len(s) for s in lists], np.int64), device=device))


class DeviceMetaBatches:
    """Draws PEARL meta-batches of an episode buffer on ``generator``'s device.

    :meth:`index` must be called whenever the buffer or the eligible tasks change (once per
    iteration); :meth:`draw` then runs entirely on the device.
    """

    def __init__(self, buffer: TaskEpisodeBuffer, generator: torch.Generator) -> None:
        self.buffer, self.generator, self.device = buffer, generator, generator.device
        self.tasks: np.ndarray | None = None

    def index(self, tasks: np.ndarray) -> None:
        """Put the buffer's filled episodes and the slots of ``tasks`` (eligible task ids) on the device."""
        if len(tasks) == 0:
            raise ValueError("no task has context to draw a meta-batch from: store a trial first")
        buffer, device, filled = self.buffer, self.device, self.buffer.size
        self.observations = torch.as_tensor(buffer.observations[:filled], device=device)
        self.actions = torch.as_tensor(buffer.actions[:filled], device=device)
        self.rewards = torch.as_tensor(buffer.rewards[:filled], device=device)
        self.replay = EpisodeIndex.of(buffer, tasks, context_only=False, device=device)
        self.context = EpisodeIndex.of(buffer, tasks, context_only=True, device=device)
        self.tasks = tasks

    def draw(self, meta_batch_size: int, batch_size: int,
             context_size: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``meta_batch_size`` task rows with replacement; for each, ``batch_size`` replay transitions
        and ``context_size`` context transitions (each ``obs, actions, rewards, next_obs`` shaped
        ``[M, count, ...]``)."""
        if self.tasks is None:
            raise RuntimeError("DeviceMetaBatches.index must run before the first draw")
        rows = torch.randint(len(self.tasks), (meta_batch_size,), generator=self.generator,
                             device=self.device)
        return (self._transitions(self.replay, rows, batch_size),
                self._transitions(self.context, rows, context_size))

    def _transitions(self, index: EpisodeIndex, rows: torch.Tensor, count: int) -> dict[str, torch.Tensor]:
        counts = index.counts[rows][:, None]
        uniform = torch.rand((len(rows), count), generator=self.generator, device=self.device)
        picks = torch.minimum((uniform * counts).long(), counts - 1)
        episodes = index.slots[rows[:, None], picks]
        steps = torch.randint(self.buffer.steps, episodes.shape, generator=self.generator, device=self.device)
        return {"obs": self.observations[episodes, steps], "actions": self.actions[episodes, steps],
                "rewards": self.rewards[episodes, steps], "next_obs": self.observations[episodes, steps + 1]}
