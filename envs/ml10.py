"""MetaWorld ML10 (metaworld 3.x, ``-v3`` environments, v2 rewards in [0, 10]) as a :class:`TaskSuite`.

Facts this module relies on (metaworld 3.1.1, checked in ``tests/test_ml10.py``):

* ``metaworld.ML10(seed=s)`` generates 50 parametric variants per class from a seeded global RNG and
  restores the RNG afterwards, so the same ``s`` always gives the same variants.
* ``env.set_task(task)`` freezes the variant: every ``reset()`` of that env starts from the same object
  and goal placement. Variation exists only across variants.
* ML tasks are partially observable: ``obs[36:39]`` (the goal) is zero. The scripted experts in
  ``metaworld.policies`` read the goal from there, so the oracle tests build goal-observable tasks
  (``goal_observable=True``), re-encoding the task data *before* ``set_task``; flipping the flag on an
  env afterwards only affects the reset observation.
* The raw env truncates at ``max_path_length`` (500) and never terminates; it is never cut short on
  success here.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np

from envs.suite import EnvSpec, StepEnv

ML10_TRAIN_CLASSES: tuple[str, ...] = (
    "reach-v3",
    "push-v3",
    "pick-place-v3",
    "door-open-v3",
    "drawer-close-v3",
    "button-press-topdown-v3",
    "peg-insert-side-v3",
    "window-open-v3",
    "sweep-v3",
    "basketball-v3",
)
ML10_TEST_CLASSES: tuple[str, ...] = (
    "drawer-open-v3",
    "door-close-v3",
    "shelf-place-v3",
    "sweep-into-v3",
    "lever-pull-v3",
)
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

ML10_SPEC = EnvSpec(
    obs_dim=OBS_DIM,
    action_dim=ACTION_DIM,
    action_low=-1.0,
    action_high=1.0,
    episode_length=MAX_EPISODE_STEPS,
    ego_indices=EGO_STATE_INDICES,
)


def _env_classes() -> dict[str, type]:
    from metaworld.env_dict import ML10_V3

    return {**ML10_V3["train"], **ML10_V3["test"]}


def task_cache_dir() -> Path:
    """Where built task lists are kept: ``$ML10_HARNESS_CACHE`` or ``~/.cache/ml10-harness``."""
    return Path(os.environ.get("ML10_HARNESS_CACHE", Path.home() / ".cache" / "ml10-harness"))


def _benchmark_tasks(benchmark_seed: int) -> list:
    """``metaworld.ML10(seed)``'s train + test tasks, from the on-disk cache when present.

    Building the benchmark takes ~8 s and every training job of a study is a new process, so the
    task list is pickled once per (benchmark seed, metaworld version). The cache holds exactly what
    ``metaworld.ML10`` returned; a file that cannot be read is rebuilt, never trusted.
    """
    from envs.io import write_atomic

    path = task_cache_dir() / f"ml10_seed{benchmark_seed}_metaworld{version('metaworld')}.pkl"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    import metaworld

    benchmark = metaworld.ML10(seed=benchmark_seed)
    tasks = list(benchmark.train_tasks) + list(benchmark.test_tasks)
    try:
        write_atomic(path, lambda stream: pickle.dump(tasks, stream), binary=True)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return tasks


@functools.lru_cache(maxsize=4)
def _ml10_tasks(benchmark_seed: int, goal_observable: bool) -> dict[str, tuple]:
    """The tasks of ``metaworld.ML10(seed)`` per class (cached in the process and on disk)."""
    from metaworld.types import Task

    tasks: dict[str, list] = {name: [] for name in ML10_TRAIN_CLASSES + ML10_TEST_CLASSES}
    for task in _benchmark_tasks(benchmark_seed):
        if goal_observable:
            data = pickle.loads(task.data)
            data["partially_observable"] = False
            task = Task(env_name=task.env_name, data=pickle.dumps(data))
        tasks[task.env_name].append(task)
    for name, variants in tasks.items():
        if len(variants) != VARIANTS_PER_CLASS:
            raise RuntimeError(
                f"metaworld.ML10 gave {len(variants)} variants for {name}, expected "
                f"{VARIANTS_PER_CLASS}; is metaworld 3.1.1 installed? (cache: {task_cache_dir()})"
            )
    return {name: tuple(variants) for name, variants in tasks.items()}


@dataclass
class ML10Suite:
    """ML10 with its 10 train and 5 test classes and 50 variants each, built from ``metaworld.ML10``.

    Args:
        benchmark_seed: seed passed to ``metaworld.ML10``; fixes the 750 variants.
        episode_length: steps per episode (500 in the paper; shorter only for quick smoke runs).
        goal_observable: expose the goal in ``obs[36:39]`` (only for scripted-expert oracle checks;
            never for meta-RL training, where the goal must be inferred).
    """

    benchmark_seed: int
    episode_length: int = MAX_EPISODE_STEPS
    goal_observable: bool = False
    name: str = "ML10"
    train_classes: tuple[str, ...] = ML10_TRAIN_CLASSES
    test_classes: tuple[str, ...] = ML10_TEST_CLASSES
    variants_per_class: int = VARIANTS_PER_CLASS
    spec: EnvSpec = field(init=False)
    _tasks: dict[str, tuple] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.episode_length <= MAX_EPISODE_STEPS:
            raise ValueError(
                f"episode_length={self.episode_length} is outside [1, {MAX_EPISODE_STEPS}] "
                "(MetaWorld truncates at 500 steps)"
            )
        self._tasks = _ml10_tasks(self.benchmark_seed, self.goal_observable)
        self.spec = EnvSpec(**{**ML10_SPEC.__dict__, "episode_length": self.episode_length})

    def task(self, class_name: str, variant: int):
        """The ``metaworld.Task`` of one variant."""
        variants = self._tasks.get(class_name)
        if variants is None:
            raise KeyError(f"{class_name!r} is not an ML10 class; known: {', '.join(self._tasks)}")
        if not 0 <= variant < len(variants):
            raise IndexError(f"variant {variant} of {class_name} is outside [0, {len(variants)})")
        return variants[variant]

    def make_env(self, class_name: str) -> StepEnv:
        env = _env_classes()[class_name]()
        env.seed(0)  # the env's own RNG is unused once a variant is frozen; seeded for safety
        env.max_path_length = self.episode_length
        return env

    def set_variant(self, env: StepEnv, class_name: str, variant: int) -> None:
        env.set_task(self.task(class_name, variant))

    def rand_vec(self, class_name: str, variant: int) -> np.ndarray:
        """The object/goal placement vector that defines a variant (for logging and tests)."""
        return pickle.loads(self.task(class_name, variant).data)["rand_vec"]
