"""On-disk cache of built MetaWorld task lists (one pickle per benchmark, seed and metaworld version).

Building a MetaWorld benchmark resets every class 50 times per split (ML10 ~8 s, ML45 ~30 s) and every
training job of a study is a new process, so the tasks are pickled once. The cache holds exactly what
metaworld returned, as ``{"train": [Task, ...], "test": [Task, ...]}``; a file that cannot be read or
does not have that shape is rebuilt, never trusted.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

SPLITS: tuple[str, ...] = ("train", "test")
TaskLists = dict[str, list]
"""``{"train": [...], "test": [...]}``: the ``metaworld.Task`` lists of one benchmark."""


def task_cache_dir() -> Path:
    """Where built task lists are kept: ``$ML10_HARNESS_CACHE`` or ``~/.cache/ml10-harness``."""
    return Path(os.environ.get("ML10_HARNESS_CACHE", Path.home() / ".cache" / "ml10-harness"))


def cache_path(slug: str, benchmark_seed: int) -> Path:
    """The cache file of one benchmark (``slug``: ``ml10``, ``ml45``, ``ml1-reach-v3``) and seed.

    ``_splits`` marks the train/test dict format (older ``ml10_seed*`` files held one flat list and
    are left alone for processes still running the old code).
    """
    return task_cache_dir() / f"{slug}_splits_seed{benchmark_seed}_metaworld{version('metaworld')}.pkl"


def _well_formed(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(SPLITS)
        and all(isinstance(value[split], list) for split in SPLITS)
    )


def cached_tasks(slug: str, benchmark_seed: int, build: Callable[[], TaskLists]) -> TaskLists:
    """The task lists of ``slug`` at ``benchmark_seed``: from the cache file, else ``build()`` (then stored).

    A read-only or missing cache directory only costs the rebuild next time.
    """
    from envs.io import write_atomic

    path = cache_path(slug, benchmark_seed)
    try:
        tasks = pickle.loads(path.read_bytes())
        if _well_formed(tasks):
            return tasks
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError):
        pass
    tasks = build()
    if not _well_formed(tasks):
        raise TypeError(f"the task builder of {slug} returned {type(tasks).__name__}, not train/test lists")
    try:
        write_atomic(path, lambda stream: pickle.dump(tasks, stream), binary=True)
    except OSError:
        pass
    return tasks
