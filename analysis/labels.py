"""Display names and orders: methods, ML10 tasks (the paper's row order), splits and metrics."""

from __future__ import annotations

from envs.ml10 import ML10_TEST_CLASSES, ML10_TRAIN_CLASSES

SPLITS: tuple[str, ...] = ("train", "test")
TASKS_BY_SPLIT: dict[str, tuple[str, ...]] = {"train": ML10_TRAIN_CLASSES, "test": ML10_TEST_CLASSES}
"""ML10 classes per split, in the row order of the paper's Tables 2 and 5."""

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
    "pearl": "PEARL",
    "peach": "PEACH",
    "random": "Random",
}

# The paper's row labels; "Button-press" is ML10's button-press-topdown-v3.
_PAPER_TASK_LABELS: dict[str, str] = {"button-press-topdown-v3": "Button-press"}


def method_label(method: str) -> str:
    """The paper's name of a method; an unknown method (a new baseline) keeps its config name."""
    return _METHOD_LABELS.get(method, method)


def task_label(task: str) -> str:
    """The paper's row label of an ML10 class, e.g. ``pick-place-v3`` -> ``Pick-place``."""
    if task in _PAPER_TASK_LABELS:
        return _PAPER_TASK_LABELS[task]
    name = task.removesuffix("-v3")
    return name[:1].upper() + name[1:]


def split_of(task: str) -> str:
    """``"train"`` or ``"test"`` for an ML10 class; ``KeyError`` naming the task otherwise."""
    for split, tasks in TASKS_BY_SPLIT.items():
        if task in tasks:
            return split
    raise KeyError(f"{task!r} is not an ML10 class")


def is_himeta(method: str) -> bool:
    """HiMeta variants are the methods named ``himeta*``; every other method is a baseline."""
    return method.startswith("himeta")
