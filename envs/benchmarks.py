"""The MetaWorld benchmarks a study can name (``ml10``, ``ml45``, ``ml1:<class>``) and the suite factory.

:func:`parse_benchmark` and :func:`benchmark_tasks` only read class lists (ML10's are written here,
ML45's and the ML1 classes come from ``metaworld.env_dict``), so a workflow can validate a config at
parse time; :func:`build_suite` builds the variants (``metaworld.ML10/ML45/ML1``, cached on disk by
:mod:`envs.task_cache`).

Task keys: ML10 and ML45 keys are the MetaWorld class names. ML1 plays one class in both splits, and
the sampler, schedule, evaluation and per-task tables key everything by task name, so its keys are
``<class>/train`` (the 50 ``ML1.train_tasks``) and ``<class>/test`` (the 50 ``ML1.test_tasks``).
ML1 is built from ``metaworld.ML1`` directly: in metaworld 3.1.1 ``gym.make_vec("Meta-World/ML1-train")``
returns the *test* split (a late-binding lambda, upstream PR #573).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from envs.metaworld_suite import MAX_EPISODE_STEPS, MetaWorldSuite
from envs.task_cache import TaskLists

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
ML1_PREFIX = "ml1:"
BENCHMARK_NAMES = ("ml10", "ml45", f"{ML1_PREFIX}<class>")


@dataclass(frozen=True)
class Benchmark:
    """A MetaWorld meta-RL benchmark: its task keys per split and how metaworld builds its variants.

    Attributes:
        name: the config name (``ml10``, ``ml45``, ``ml1:reach-v3``).
        title: the display name, used as the suite's ``name`` (``ML10``, ``ML45``, ``ML1 reach-v3``).
        train_tasks: train task keys, in metaworld's order.
        test_tasks: test task keys, in metaworld's order.
        ml1_class: the MetaWorld class of an ML1 benchmark, ``None`` otherwise.
    """

    name: str
    title: str
    train_tasks: tuple[str, ...]
    test_tasks: tuple[str, ...]
    ml1_class: str | None = None

    @property
    def slug(self) -> str:
        """File-name form of :attr:`name` (``ml1-reach-v3``), used for the task cache."""
        return self.name.replace(":", "-")

    def task_key(self, split: str, class_name: str) -> str:
        """The task key of a metaworld task of ``class_name`` in ``split``."""
        return f"{class_name}/{split}" if self.ml1_class is not None else class_name

    def env_class_name(self, task_key: str) -> str:
        """The MetaWorld class behind a task key (``reach-v3/train`` -> ``reach-v3``)."""
        return self.ml1_class if self.ml1_class is not None else task_key

    def build_tasks(self, benchmark_seed: int) -> TaskLists:
        """Build the benchmark with metaworld (seconds; use :func:`build_suite`, which caches it)."""
        import metaworld

        if self.ml1_class is not None:
            built = metaworld.ML1(self.ml1_class, seed=benchmark_seed)
        else:
            built = getattr(metaworld, self.title)(seed=benchmark_seed)
        return {"train": list(built.train_tasks), "test": list(built.test_tasks)}


@functools.lru_cache(maxsize=1)
def metaworld_classes() -> tuple[str, ...]:
    """Every MetaWorld ``-v3`` class (the classes ``ml1:<class>`` accepts), from ``metaworld.env_dict``."""
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    return tuple(ALL_V3_ENVIRONMENTS)


@functools.lru_cache(maxsize=None)
def parse_benchmark(name: str) -> Benchmark:
    """The benchmark a config names; builds no env.

    Raises:
        ValueError: for an unknown benchmark (naming the accepted forms) or an unknown ML1 class
            (listing the known classes).
    """
    if name == "ml10":
        return Benchmark("ml10", "ML10", ML10_TRAIN_CLASSES, ML10_TEST_CLASSES)
    if name == "ml45":
        from metaworld.env_dict import ML45_V3

        return Benchmark("ml45", "ML45", tuple(ML45_V3["train"]), tuple(ML45_V3["test"]))
    if name.startswith(ML1_PREFIX):
        cls = name[len(ML1_PREFIX):]
        if cls not in metaworld_classes():
            raise ValueError(
                f"unknown MetaWorld class {cls!r} in benchmark {name!r}; write ml1:<class> with one of: "
                f"{', '.join(metaworld_classes())}"
            )
        return Benchmark(name, f"ML1 {cls}", (f"{cls}/train",), (f"{cls}/test",), ml1_class=cls)
    raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(BENCHMARK_NAMES)}")


def benchmark_tasks(name: str) -> dict[str, tuple[str, ...]]:
    """``{"train": (...), "test": (...)}``: the task keys of the benchmark ``name`` (builds no env)."""
    benchmark = parse_benchmark(name)
    return {"train": benchmark.train_tasks, "test": benchmark.test_tasks}


def build_suite(
    benchmark: str,
    benchmark_seed: int,
    episode_length: int = MAX_EPISODE_STEPS,
    goal_observable: bool = False,
) -> MetaWorldSuite:
    """The :class:`~envs.suite.TaskSuite` of ``benchmark`` (``ml10``, ``ml45``, ``ml1:<class>``).

    Args:
        benchmark: the config name of the benchmark.
        benchmark_seed: seed passed to metaworld; fixes every variant.
        episode_length: steps per episode (at most 500).
        goal_observable: expose the goal (scripted-expert oracle checks only).
    """
    return MetaWorldSuite(parse_benchmark(benchmark), benchmark_seed, episode_length, goal_observable)
