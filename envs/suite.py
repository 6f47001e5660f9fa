"""The interface every meta-RL benchmark ("task suite") offers to the sampler.

A suite is a set of task *classes* (e.g. ``reach-v3``), each with a fixed number of parametric
*variants* (e.g. 50 goal/object placements). A class name is the *task key* everything is indexed by
(schedule, sampler, evaluation rows, per-task replay), so it names exactly one split: ML1, which
plays one MetaWorld class in both splits, uses ``reach-v3/train`` and ``reach-v3/test``. The
sampler's worker processes receive a pickled suite and build environments from it; nothing in the
sampler knows about MetaWorld specifically, so the same sampling, metric and evaluation code also
drives the small sanity suites used in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class EnvSpec:
    """Observation/action description shared by all classes of a suite."""

    obs_dim: int
    action_dim: int
    action_low: float
    action_high: float
    episode_length: int
    ego_indices: tuple[int, ...]
    """Indices of the observation that describe only the agent's own body (HiMeta Definition 2)."""

    def clip_action(self, action: np.ndarray) -> np.ndarray:
        """Clip a batch of actions into the action box (the learner keeps the unclipped sample)."""
        return np.clip(action, self.action_low, self.action_high)


@runtime_checkable
class StepEnv(Protocol):
    """The subset of the gymnasium API the sampler's workers use."""

    def reset(self) -> tuple[np.ndarray, dict[str, Any]]: ...

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]: ...


class TaskSuite(Protocol):
    """A meta-RL benchmark: train/test classes, variants per class, and an env factory.

    Implementations must be picklable (they are sent to spawned worker processes).
    """

    name: str
    spec: EnvSpec
    train_classes: tuple[str, ...]
    test_classes: tuple[str, ...]
    variants_per_class: int

    def make_env(self, class_name: str) -> StepEnv:
        """Build a fresh environment of ``class_name`` (no variant set yet)."""
        ...

    def set_variant(self, env: StepEnv, class_name: str, variant: int) -> None:
        """Put ``env`` (built by :meth:`make_env` for ``class_name``) on parametric variant ``variant``."""
        ...


def all_classes(suite: TaskSuite) -> tuple[str, ...]:
    """Train classes followed by test classes, the order used for seeding and for tables."""
    return suite.train_classes + suite.test_classes


def split_of(suite: TaskSuite, class_name: str) -> str:
    """``"train"`` or ``"test"`` for a class of ``suite``; raises for an unknown class."""
    if class_name in suite.train_classes:
        return "train"
    if class_name in suite.test_classes:
        return "test"
    raise KeyError(
        f"unknown task class {class_name!r} for suite {suite.name!r}; "
        f"known classes: {', '.join(all_classes(suite))}"
    )
