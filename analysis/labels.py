"""Display names and orders: methods, the study's suite and its tasks (the paper's row order for ML10),
splits and metrics.

A study's suite is ``"ml10"``, ``"ml45"`` or ``"ml1:<class>"`` (e.g. ``"ml1:reach-v3"``); its tasks are the
``task`` keys of the runs' eval.csv rows: class names for ML10 and ML45, ``"<class>/train"`` and
``"<class>/test"`` (the class's train and test variants) for ML1.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.errors import ReportInputError
from envs.ml10 import ML10_TEST_CLASSES, ML10_TRAIN_CLASSES

SPLITS: tuple[str, ...] = ("train", "test")
SUITES_HELP = '"ml10", "ml45" or "ml1:<class>" (e.g. "ml1:reach-v3")'

METRICS: tuple[str, ...] = ("avg_success", "success", "return")
METRIC_LABELS: dict[str, str] = {
    "avg_success": "Average success",
    "success": "Success",
    "return": "Return",
}
METRIC_AXIS_LABELS: dict[str, str] = {
    "avg_success": "Average success (fraction, 0-1)",
    "success": "Success rate (fraction, 0-1)",
    "return": "Episode return (sum of rewards)",
}

_METHOD_LABELS: dict[str, str] = {
    "himeta-cd": "HiMeta-CD",
    "himeta-cm": "HiMeta-CM",
    "himeta-st": "HiMeta-ST",
    "sd": "SD",
    "sd-table4": "SD (Table 4 LRs)",
    "pearl": "PEARL",
    "peach": "PEACH",
    "random": "Random",
}
PAPER_METHODS: tuple[str, ...] = ("himeta-cd", "himeta-cm", "himeta-st", "sd", "pearl")
"""The methods the paper reports numbers for (config names)."""

# The paper's ML10 row labels; "Button-press" is ML10's button-press-topdown-v3.
_PAPER_TASK_LABELS: dict[str, str] = {"button-press-topdown-v3": "Button-press"}


def method_label(method: str) -> str:
    """The paper's name of a method; an unknown method (a new baseline) keeps its config name."""
    return _METHOD_LABELS.get(method, method)


def class_label(name: str) -> str:
    """A generic label from a MetaWorld class name, e.g. ``pick-place-wall-v3`` -> ``Pick-place-wall``."""
    name = name.removesuffix("-v3")
    return name[:1].upper() + name[1:]


def is_himeta(method: str) -> bool:
    """HiMeta variants are the methods named ``himeta*``; every other method is a baseline."""
    return method.startswith("himeta")


def _ml45_tasks() -> dict[str, tuple[str, ...]]:
    from metaworld.env_dict import ML45_V3  # lazily: importing metaworld takes a while

    return {split: tuple(ML45_V3[split]) for split in SPLITS}


def suite_tasks(suite: str) -> dict[str, tuple[str, ...]]:
    """The task keys of each split of ``suite``, in table row order.

    Raises:
        ReportInputError: ``suite`` is not one of :data:`SUITES_HELP`.
    """
    if suite == "ml10":
        return {"train": ML10_TRAIN_CLASSES, "test": ML10_TEST_CLASSES}
    if suite == "ml45":
        return _ml45_tasks()
    name = suite.removeprefix("ml1:")
    if suite.startswith("ml1:") and name:
        return {split: (f"{name}/{split}",) for split in SPLITS}
    raise ReportInputError(f"unknown suite {suite!r}; expected {SUITES_HELP}")


@dataclass(frozen=True)
class Suite:
    """The benchmark of a study: its name, title and tasks per split.

    ``name``: ``"ml10"``, ``"ml45"`` or ``"ml1:<class>"``; ``tasks``: split -> task keys in row order.
    """

    name: str
    tasks: dict[str, tuple[str, ...]]

    @classmethod
    def named(cls, name: str) -> Suite:
        """The suite ``name`` (:func:`suite_tasks` raises on an unknown one)."""
        return cls(name, suite_tasks(name))

    @property
    def is_ml1(self) -> bool:
        """ML1: one class, whose train and test variants are the two tasks."""
        return self.name.startswith("ml1:")

    @property
    def title(self) -> str:
        """``ML10``, ``ML45`` or ``ML1 (reach-v3)``, for figure titles and table captions."""
        if self.is_ml1:
            return f"ML1 ({self.name.removeprefix('ml1:')})"
        return self.name.upper()

    @property
    def has_paper_values(self) -> bool:
        """Only ML10 has the paper's reference values (reports/paper/)."""
        return self.name == "ml10"

    def all_tasks(self) -> list[str]:
        """Every task, train then test."""
        return [task for split in SPLITS for task in self.tasks[split]]

    def split_of(self, task: str) -> str:
        """``"train"`` or ``"test"``; ``KeyError`` naming the task when it is not in the suite."""
        for split, tasks in self.tasks.items():
            if task in tasks:
                return split
        raise KeyError(f"{task!r} is not a task of {self.title}")

    def split_title(self, split: str) -> str:
        """A panel title, e.g. ``train tasks (10 ML10 classes)`` or ``test tasks (reach-v3, test variants)``."""
        if self.is_ml1:
            return f"{split} tasks ({self.name.removeprefix('ml1:')}, {split} variants)"
        count = len(self.tasks[split])
        return f"{split} tasks ({count} {self.title} class{'es' if count != 1 else ''})"

    def task_label(self, task: str) -> str:
        """A table row label: the paper's for ML10 (``Button-press``), ``Reach (train variants)`` for
        ML1, else :func:`class_label`."""
        if self.is_ml1:
            name, _, split = task.rpartition("/")
            return f"{class_label(name)} ({split} variants)"
        if self.name == "ml10" and task in _PAPER_TASK_LABELS:
            return _PAPER_TASK_LABELS[task]
        return class_label(task)


ML10 = Suite.named("ml10")
"""The suite of the paper's study."""
