"""Noise that belongs to a trial: one random stream per env slot, seeded by (run seed, trial key).

The sampler gives every ``trial_keyed`` policy a stable key per slot (:func:`envs.policy.trial_key`
of the slot's trial and first episode). Streams seeded from it make a trial's draws independent of
where the trial is played (slot, pipeline group, chunk, worker count), of the other trials in the
collection and of earlier collections: what evaluation noise must be to make a score a function
of the weights alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from envs.policy import Acting, episode_rows, slot_keys

EVALUATION_STREAM = 3
"""Stream id of every evaluation draw of a slot (HiMeta's and SD's ``y``, sampled actions)."""

TRAINING_SEED_BOUND = 2**62
"""Training-stream seeds are drawn from ``[0, TRAINING_SEED_BOUND)``."""


def draw_training_seed(acting_generator: torch.Generator) -> int:
    """The seed of one pipeline group's training stream for one collection, drawn from the agent's
    acting generator (which is checkpointed, so a resumed run draws the same seeds).

    The sampler draws one per group, in group order, in the main process; the group's memory then
    carries its own stream (:func:`training_stream`). Training noise therefore depends on the group
    and never on which process acts for it or how many workers there are.
    """
    drawn = torch.randint(TRAINING_SEED_BOUND, (1,), generator=acting_generator, device=acting_generator.device)
    return int(drawn.item())


def training_stream(seed: int, device: torch.device) -> torch.Generator:
    """The training stream of one group: a generator on the acting device, seeded with ``seed``."""
    return torch.Generator(device).manual_seed(int(seed))


def trial_streams(seed: int, trial_keys: np.ndarray, stream: int) -> list[torch.Generator]:
    """One CPU generator per slot, seeded from (``seed``, ``stream``, the slot's trial key)."""
    generators = []
    for key in np.asarray(trial_keys, dtype=np.int64):
        state = np.random.SeedSequence(seed, spawn_key=(stream, int(key))).generate_state(1)[0]
        generators.append(torch.Generator().manual_seed(int(state)))
    return generators


@dataclass(frozen=True)
class RecurrentMemory:
    """Per slot: a recurrent state ``[B, H]`` and the slot's evaluation stream (HiMeta's HL GRU and
    SD's encoder GRU, each with its evaluation stream); per group: the training stream."""

    hidden: torch.Tensor
    eval_streams: list[torch.Generator]
    train_stream: torch.Generator

    @classmethod
    def zeros(cls, batch_size: int, width: int, device: torch.device, seed: int,
              trial_keys: np.ndarray | None, training_seed: int) -> RecurrentMemory:
        """Zero states, one :data:`EVALUATION_STREAM` stream per slot (keyed by row without keys) and
        the group's training stream."""
        keys = slot_keys(batch_size, trial_keys)
        return cls(torch.zeros(batch_size, width, device=device), trial_streams(seed, keys, EVALUATION_STREAM),
                   training_stream(training_seed, device))

    def zero_rows(self, rows: np.ndarray | None) -> RecurrentMemory:
        """The memory with the recurrent state of ``rows`` (a mask; ``None``: all) set to zero."""
        mask = torch.as_tensor(episode_rows(len(self.hidden), rows), device=self.hidden.device)
        return dataclasses.replace(self, hidden=torch.where(mask[:, None], 0.0, self.hidden))


def keyed_uniform(generators: list[torch.Generator], width: int, device: torch.device) -> torch.Tensor:
    """``U(0, 1)`` noise ``[B, width]``: row ``b`` is the next ``width`` draws of ``generators[b]``."""
    rows = [torch.rand(width, generator=generator) for generator in generators]
    return torch.stack(rows).to(device)


def keyed_normal(generators: list[torch.Generator], width: int, device: torch.device) -> torch.Tensor:
    """``N(0, 1)`` noise ``[B, width]``: row ``b`` is the next ``width`` draws of ``generators[b]``."""
    rows = [torch.randn(width, generator=generator) for generator in generators]
    return torch.stack(rows).to(device)


def action_noise(acting: Acting, shape: tuple[int, int], training: torch.Generator,
                 streams: list[torch.Generator], device: torch.device) -> torch.Tensor | None:
    """Standard normal noise ``shape = (B, width)`` for one batched reparameterised draw: ``None`` when
    acting deterministically (nothing is drawn), the slots' trial streams in evaluation (the training
    stream never moves), the ``training`` generator (on its own device) otherwise."""
    if acting.deterministic:
        return None
    if acting.evaluation:
        return keyed_normal(streams, shape[1], device)
    return torch.randn(shape, generator=training, device=training.device).to(device)
