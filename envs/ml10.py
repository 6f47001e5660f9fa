"""MetaWorld ML10 (metaworld 3.x, ``-v3`` environments, v2 rewards in [0, 10]) as a :class:`TaskSuite`.

ML10 is one of the benchmarks of :mod:`envs.benchmarks`, served by the shared
:class:`~envs.metaworld_suite.MetaWorldSuite` (whose docstring lists the metaworld facts relied on).
This module keeps the ML10 names the rest of the harness imports.
"""

from __future__ import annotations

from envs.benchmarks import ML10_TEST_CLASSES, ML10_TRAIN_CLASSES, parse_benchmark
from envs.metaworld_suite import (
    ACTION_DIM,
    EGO_STATE_INDICES,
    MAX_EPISODE_STEPS,
    METAWORLD_SPEC,
    OBS_DIM,
    VARIANTS_PER_CLASS,
    MetaWorldSuite,
)
from envs.task_cache import task_cache_dir

ML10_SPEC = METAWORLD_SPEC

__all__ = [
    "ACTION_DIM", "EGO_STATE_INDICES", "MAX_EPISODE_STEPS", "ML10_SPEC", "ML10_TEST_CLASSES",
    "ML10_TRAIN_CLASSES", "ML10Suite", "OBS_DIM", "VARIANTS_PER_CLASS", "task_cache_dir",
]


class ML10Suite(MetaWorldSuite):
    """ML10 with its 10 train and 5 test classes and 50 variants each, built from ``metaworld.ML10``.

    The same suite as ``build_suite("ml10", ...)``.

    Args:
        benchmark_seed: seed passed to ``metaworld.ML10``; fixes the 750 variants.
        episode_length: steps per episode (500 in the paper; shorter only for quick smoke runs).
        goal_observable: expose the goal in ``obs[36:39]`` (only for scripted-expert oracle checks;
            never for meta-RL training, where the goal must be inferred).
    """

    def __init__(
        self, benchmark_seed: int, episode_length: int = MAX_EPISODE_STEPS, goal_observable: bool = False
    ) -> None:
        super().__init__(parse_benchmark("ml10"), benchmark_seed, episode_length, goal_observable)
