"""Which variants are played when: the seeded task schedule shared by every method.

Training iteration ``i`` of a run with seed ``s`` plays, for every train class ``c``, one *trial* of
``episodes_per_task`` episodes on one variant drawn from a generator seeded by ``(s, i, c)``. Because
the draw depends only on those three numbers, every method sees the same variants in the same order,
whatever its memory semantics, worker count or batch layout. A method chooses only whether its memory
is reset per episode or carried across the episodes of the trial.

Evaluation plays a fixed set of ``variants_per_class`` variants per class (train and test classes),
drawn once per run seed, so every evaluation point of every method measures the same variants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.suite import TaskSuite, all_classes

_TRAIN_STREAM = 0
_EVAL_STREAM = 1


@dataclass(frozen=True)
class Trial:
    """``episodes`` consecutive episodes on one variant of one class (the unit of meta-RL adaptation)."""

    class_name: str
    variant: int
    episodes: int

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"a trial needs at least one episode, got {self.episodes}")
        if self.variant < 0:
            raise ValueError(f"variant index must be >= 0, got {self.variant}")


class TaskSchedule:
    """Seeded assignment of variants to training iterations and to evaluation.

    Args:
        suite: the benchmark (provides class lists and variant counts).
        run_seed: the run's seed (the same seed gives the same schedule for every method).
        episodes_per_task: episodes per train class per iteration (paper: 5).
    """

    def __init__(self, suite: TaskSuite, run_seed: int, episodes_per_task: int) -> None:
        if episodes_per_task < 1:
            raise ValueError(f"episodes_per_task must be >= 1, got {episodes_per_task}")
        if run_seed < 0:
            raise ValueError(f"run_seed must be a non-negative integer, got {run_seed}")
        self.suite = suite
        self.run_seed = int(run_seed)
        self.episodes_per_task = episodes_per_task
        self._class_index = {name: k for k, name in enumerate(all_classes(suite))}

    def _rng(self, stream: int, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.run_seed, spawn_key=(stream, *key)))

    def training_variant(self, iteration: int, class_name: str) -> int:
        """The variant of ``class_name`` played in training iteration ``iteration``."""
        rng = self._rng(_TRAIN_STREAM, iteration, self._class_index[class_name])
        return int(rng.integers(self.suite.variants_per_class))

    def training_trials(self, iteration: int) -> list[Trial]:
        """One trial per train class, in the suite's class order."""
        if iteration < 0:
            raise ValueError(f"iteration must be >= 0, got {iteration}")
        return [
            Trial(name, self.training_variant(iteration, name), self.episodes_per_task)
            for name in self.suite.train_classes
        ]

    def evaluation_variants(self, class_name: str, variants_per_class: int) -> list[int]:
        """The fixed evaluation variants of a class (distinct, sorted), the same at every eval point."""
        n = self.suite.variants_per_class
        if not 1 <= variants_per_class <= n:
            raise ValueError(f"eval variants per class must be in [1, {n}], got {variants_per_class}")
        rng = self._rng(_EVAL_STREAM, self._class_index[class_name])
        return sorted(int(v) for v in rng.choice(n, size=variants_per_class, replace=False))

    def evaluation_trials(
        self, classes: tuple[str, ...], variants_per_class: int, episodes_per_variant: int
    ) -> list[Trial]:
        """Trials for evaluating ``classes``: each evaluation variant played for ``episodes_per_variant``."""
        return [
            Trial(name, variant, episodes_per_variant)
            for name in classes
            for variant in self.evaluation_variants(name, variants_per_class)
        ]
