"""One :class:`TaskSuite` implementation for every MetaWorld meta-RL benchmark (ML10, ML45, ML1).

Facts this module relies on (metaworld 3.1.1, checked in ``tests/test_ml10.py`` and
``tests/test_metaworld_suites.py``):

* ``metaworld.ML10(seed=s)``, ``metaworld.ML45(seed=s)`` and ``metaworld.ML1(cls, seed=s)`` generate 50
  parametric variants per class and split from a seeded global RNG and restore the RNG afterwards, so
  the same ``s`` always gives the same variants. ML1 draws its test split with seed ``s + 1``: the same
  class, other placements.
* ``env.set_task(task)`` freezes the variant: every ``reset()`` of that env starts from the same object
  and goal placement. Variation exists only across variants.
* ML tasks are partially observable: ``obs[36:39]`` (the goal) is zero. The scripted experts in
  ``metaworld.policies`` read the goal from there, so the oracle tests build goal-observable tasks
  (``goal_observable=True``), re-encoding the task data *before* ``set_task``; flipping the flag on an
  env afterwards only affects the reset observation.
* The raw env truncates at ``max_path_length`` (500) and never terminates; it is never cut short on
  success here.
* Every ``-v3`` class has the same 39-dim observation and 4-dim action, so one :class:`EnvSpec` serves
  all benchmarks.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from envs.suite import EnvSpec, StepEnv
from envs.task_cache import cached_tasks, task_cache_dir

if TYPE_CHECKING:
    from envs.benchmarks import Benchmark

VARIANTS_PER_CLASS = 50
OBS_DIM = 39
ACTION_DIM = 4
MAX_EPISODE_STEPS = 500

EGO_STATE_INDICES: tuple[int, ...] = (0, 1, 2, 3, 18, 19, 20, 21)
"""The ego-state slice of the 39-dim observation (HiMeta, Definition 2).

``obs[0:3]`` is the end-effector xyz, ``obs[3]`` the gripper opening, and ``obs[18:22]`` the same four
values from the previous frame (MetaWorld stacks the previous 18-dim frame at ``obs[18:36]``). Objects
(``obs[4:18]``, ``obs[22:36]``) and the goal (``obs[36:39]``, zero under ML partial observability)
are task-specific and excluded.
"""

METAWORLD_SPEC = EnvSpec(
    obs_dim=OBS_DIM,
    action_dim=ACTION_DIM,
    action_low=-1.0,
    action_high=1.0,
    episode_length=MAX_EPISODE_STEPS,
    ego_indices=EGO_STATE_INDICES,
)


def _env_class(class_name: str) -> type:
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    return ALL_V3_ENVIRONMENTS[class_name]


def _observable(task):
    """``task`` re-encoded with the goal in the observation (for scripted-expert oracle checks)."""
    from metaworld.types import Task

    data = pickle.loads(task.data)
    data["partially_observable"] = False
    return Task(env_name=task.env_name, data=pickle.dumps(data))


@functools.lru_cache(maxsize=8)
def _suite_tasks(benchmark: Benchmark, benchmark_seed: int, goal_observable: bool) -> dict[str, tuple]:
    """The tasks of ``benchmark`` at ``benchmark_seed`` per task key (cached in the process and on disk)."""
    lists = cached_tasks(benchmark.slug, benchmark_seed, lambda: benchmark.build_tasks(benchmark_seed))
    tasks: dict[str, list] = {key: [] for key in benchmark.train_tasks + benchmark.test_tasks}
    for split, split_tasks in lists.items():
        for task in split_tasks:
            key = benchmark.task_key(split, task.env_name)
            if key not in tasks:
                raise RuntimeError(
                    f"metaworld built a task of {task.env_name} ({split}) that {benchmark.title} does "
                    f"not list; is metaworld 3.1.1 installed? (cache: {task_cache_dir()})"
                )
            tasks[key].append(_observable(task) if goal_observable else task)
    for key, variants in tasks.items():
        if len(variants) != VARIANTS_PER_CLASS:
            raise RuntimeError(
                f"metaworld gave {len(variants)} variants for {key} of {benchmark.title}, expected "
                f"{VARIANTS_PER_CLASS}; is metaworld 3.1.1 installed? (cache: {task_cache_dir()})"
            )
    return {key: tuple(variants) for key, variants in tasks.items()}


@dataclass
class MetaWorldSuite:
    """A MetaWorld benchmark with its train and test tasks and 50 variants each.

    Task keys are the MetaWorld class names (``reach-v3``) for ML10 and ML45; ML1, whose two splits
    are the same class, uses ``reach-v3/train`` and ``reach-v3/test`` so that every key names one
    split. Build one with :func:`envs.benchmarks.build_suite`.

    Args:
        benchmark: which benchmark (from :func:`envs.benchmarks.parse_benchmark`).
        benchmark_seed: seed passed to the metaworld benchmark; fixes every variant.
        episode_length: steps per episode (500 in the paper; shorter only for quick smoke runs).
        goal_observable: expose the goal in ``obs[36:39]`` (only for scripted-expert oracle checks;
            never for meta-RL training, where the goal must be inferred).
    """

    benchmark: Benchmark
    benchmark_seed: int
    episode_length: int = MAX_EPISODE_STEPS
    goal_observable: bool = False
    name: str = field(init=False)
    train_classes: tuple[str, ...] = field(init=False)
    test_classes: tuple[str, ...] = field(init=False)
    variants_per_class: int = field(init=False, default=VARIANTS_PER_CLASS)
    spec: EnvSpec = field(init=False)
    _tasks: dict[str, tuple] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.episode_length <= MAX_EPISODE_STEPS:
            raise ValueError(
                f"episode_length={self.episode_length} is outside [1, {MAX_EPISODE_STEPS}] "
                "(MetaWorld truncates at 500 steps)"
            )
        self.name = self.benchmark.title
        self.train_classes = self.benchmark.train_tasks
        self.test_classes = self.benchmark.test_tasks
        self._tasks = _suite_tasks(self.benchmark, self.benchmark_seed, self.goal_observable)
        self.spec = EnvSpec(**{**METAWORLD_SPEC.__dict__, "episode_length": self.episode_length})

    def task(self, class_name: str, variant: int):
        """The ``metaworld.Task`` of one variant of a task key."""
        variants = self._tasks.get(class_name)
        if variants is None:
            raise KeyError(
                f"{class_name!r} is not an {self.name} class; known: {', '.join(self._tasks)}"
            )
        if not 0 <= variant < len(variants):
            raise IndexError(f"variant {variant} of {class_name} is outside [0, {len(variants)})")
        return variants[variant]

    def make_env(self, class_name: str) -> StepEnv:
        """A fresh env of the MetaWorld class behind task key ``class_name``."""
        self.task(class_name, 0)  # an unknown key fails here with the list of known ones
        env = _env_class(self.benchmark.env_class_name(class_name))()
        env.seed(0)  # the env's own RNG is unused once a variant is frozen; seeded for safety
        env.max_path_length = self.episode_length
        return env

    def set_variant(self, env: StepEnv, class_name: str, variant: int) -> None:
        env.set_task(self.task(class_name, variant))

    def rand_vec(self, class_name: str, variant: int) -> np.ndarray:
        """The object/goal placement vector that defines a variant (for logging and tests)."""
        return pickle.loads(self.task(class_name, variant).data)["rand_vec"]
