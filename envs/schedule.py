"""Which variants are played when: the seeded task schedule shared by every method.

Training iteration ``i`` of a run with seed ``s`` plays, for every train class ``c``,
``trials_per_class`` *trials* (default 1, ML10's paper protocol) of ``episodes_per_task`` episodes,
each on a distinct variant drawn without replacement from a generator seeded by ``(s, i, c)``. Because
the draw depends only on those three numbers, every method sees the same variants in the same order,
whatever its memory semantics, worker count or batch layout. A method chooses only whether its memory
is reset per episode or carried across the episodes of the trial.

The draw is sequential (the ``j``-th trial takes ``integers(n - j)`` as an index into the variants not
yet drawn, in increasing order), so the first ``k`` trials are the same whatever ``trials_per_class``
is, and one trial per class plays exactly the variant ``integers(n)`` that the schedule always drew.

Evaluation plays a fixed set of ``variants_per_class`` variants per class (train and test classes),
drawn once per run seed, so every evaluation point of every method measures the same variants.

``task_sampling`` chooses between the two protocols:

* ``per_iteration`` (default; ML10's meta-RL protocol): training draws a variant per (seed,
  iteration, class) from all of the class's variants, as above;
* ``fixed_per_run`` (the HiMeta reference code's protocol: it builds every class's env on one
  random variant and never changes it): one variant per (run seed, class), drawn once and the same
  for every method, is played at every training iteration and is the one evaluation variant of
  its class. It allows one trial per class and one evaluation variant per class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from envs.suite import TaskSuite, all_classes

_TRAIN_STREAM = 0
_EVAL_STREAM = 1
_FIXED_STREAM = 2

TaskSampling = Literal["per_iteration", "fixed_per_run"]
TASK_SAMPLINGS: tuple[str, ...] = ("per_iteration", "fixed_per_run")


def check_task_sampling(task_sampling: str, trials_per_class: int, variants_per_class: int | None = None) -> None:
    """Refuse a protocol the schedule cannot play; the message names the setting to change."""
    if task_sampling not in TASK_SAMPLINGS:
        raise ValueError(f"task_sampling must be one of {TASK_SAMPLINGS}, got {task_sampling!r}")
    if task_sampling == "fixed_per_run":
        if trials_per_class != 1:
            raise ValueError(f"task_sampling fixed_per_run plays one variant per class: training."
                             f"trials_per_class must be 1, got {trials_per_class}")
        if variants_per_class not in (None, 1):
            raise ValueError(f"task_sampling fixed_per_run evaluates each class on its one fixed variant: "
                             f"evaluation.variants_per_class must be 1, got {variants_per_class}")


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
        episodes_per_task: episodes per trial (paper: 5).
        trials_per_class: trials per train class per iteration, each on a distinct variant
            (paper: 1).
        task_sampling: ``per_iteration`` or ``fixed_per_run`` (see the module docstring).
    """

    def __init__(
        self, suite: TaskSuite, run_seed: int, episodes_per_task: int, trials_per_class: int = 1,
        task_sampling: TaskSampling = "per_iteration",
    ) -> None:
        if episodes_per_task < 1:
            raise ValueError(f"episodes_per_task must be >= 1, got {episodes_per_task}")
        if run_seed < 0:
            raise ValueError(f"run_seed must be a non-negative integer, got {run_seed}")
        if not 1 <= trials_per_class <= suite.variants_per_class:
            raise ValueError(
                f"trials_per_class must be in [1, {suite.variants_per_class}] (the variants per class "
                f"of {suite.name}; trials of one class play distinct variants), got {trials_per_class}"
            )
        check_task_sampling(task_sampling, trials_per_class)
        self.suite = suite
        self.task_sampling = task_sampling
        self.run_seed = int(run_seed)
        self.episodes_per_task = episodes_per_task
        self.trials_per_class = trials_per_class
        self._class_index = {name: k for k, name in enumerate(all_classes(suite))}

    def _rng(self, stream: int, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.run_seed, spawn_key=(stream, *key)))

    def fixed_variant(self, class_name: str) -> int:
        """The one variant of ``class_name`` that a ``fixed_per_run`` schedule plays (per run seed)."""
        rng = self._rng(_FIXED_STREAM, self._class_index[class_name])
        return int(rng.integers(self.suite.variants_per_class))

    def training_variants(self, iteration: int, class_name: str) -> list[int]:
        """The ``trials_per_class`` distinct variants of ``class_name`` in iteration ``iteration``."""
        if self.task_sampling == "fixed_per_run":
            return [self.fixed_variant(class_name)]
        rng = self._rng(_TRAIN_STREAM, iteration, self._class_index[class_name])
        remaining = list(range(self.suite.variants_per_class))
        return [remaining.pop(int(rng.integers(len(remaining)))) for _ in range(self.trials_per_class)]

    def training_trials(self, iteration: int) -> list[Trial]:
        """``trials_per_class`` trials per train class, class-major in the suite's class order."""
        if iteration < 0:
            raise ValueError(f"iteration must be >= 0, got {iteration}")
        return [
            Trial(name, variant, self.episodes_per_task)
            for name in self.suite.train_classes
            for variant in self.training_variants(iteration, name)
        ]

    def evaluation_variants(self, class_name: str, variants_per_class: int) -> list[int]:
        """The fixed evaluation variants of a class (distinct, sorted), the same at every eval point."""
        n = self.suite.variants_per_class
        if not 1 <= variants_per_class <= n:
            raise ValueError(f"eval variants per class must be in [1, {n}], got {variants_per_class}")
        if self.task_sampling == "fixed_per_run":
            check_task_sampling(self.task_sampling, self.trials_per_class, variants_per_class)
            return [self.fixed_variant(class_name)]
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
