"""Evaluation on every class of a suite (ML10: 10 train + 5 test; ML45: 45 + 5; ML1: its train and
test task keys), shared by all methods.

Each class is played on its fixed evaluation variants (:meth:`TaskSchedule.evaluation_variants`),
``episodes_per_variant`` episodes per variant as one trial, with deterministic actions and no learning.
The policy's own memory scope decides how context accumulates over the trial. The result is the
long-format per-task table of the shared protocol plus the per-episode table it was computed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from envs.metrics import METRIC_COLUMNS, episode_table, task_table
from envs.policy import RolloutPolicy
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from envs.suite import all_classes, split_of

EVAL_COLUMNS: tuple[str, ...] = (
    "iteration", "env_steps", "wall_time", "split", "task", *METRIC_COLUMNS, "episodes",
)


@dataclass(frozen=True)
class EvaluationConfig:
    """How much evaluation to run at each evaluation point.

    ``scored_episodes`` chooses which episodes of a trial enter the per-task means: ``"all"`` (every
    episode, the default; what the paper's per-episode metrics average over) or ``"last"`` (only the
    final episode of each trial, i.e. the post-adaptation score for methods that carry context).
    The per-episode table always keeps every episode.
    """

    variants_per_class: int
    episodes_per_variant: int
    scored_episodes: Literal["all", "last"] = "all"

    def __post_init__(self) -> None:
        if self.variants_per_class < 1 or self.episodes_per_variant < 1:
            raise ValueError(
                "evaluation needs at least one variant per class and one episode per variant, got "
                f"{self.variants_per_class} and {self.episodes_per_variant}"
            )
        if self.scored_episodes not in ("all", "last"):
            raise ValueError(f"scored_episodes must be 'all' or 'last', got {self.scored_episodes!r}")


@dataclass(frozen=True)
class Evaluation:
    """``tasks``: one row per (split, task) with EVAL_COLUMNS; ``episodes``: one row per episode."""

    tasks: pd.DataFrame
    episodes: pd.DataFrame


def evaluate(
    policy: RolloutPolicy,
    sampler: ParallelSampler,
    schedule: TaskSchedule,
    config: EvaluationConfig,
    *,
    iteration: int,
    env_steps: int,
    wall_time: float,
) -> Evaluation:
    """Evaluate ``policy`` on every class of the sampler's suite; labels rows with the given counters."""
    suite = sampler.suite
    trials = schedule.evaluation_trials(
        all_classes(suite), config.variants_per_class, config.episodes_per_variant
    )
    rollout = sampler.collect(policy, trials, deterministic=True)
    episodes = episode_table(rollout)
    scored = episodes
    if config.scored_episodes == "last":
        scored = episodes[episodes["episode"] == rollout.episodes_per_trial - 1]
    tasks = task_table(scored)
    tasks["split"] = [split_of(suite, task) for task in tasks["task"]]
    labels = {"iteration": iteration, "env_steps": env_steps, "wall_time": wall_time}
    for column, value in labels.items():
        tasks[column] = value
    episodes.insert(0, "split", [split_of(suite, task) for task in episodes["task"]])
    episodes.insert(0, "iteration", iteration)
    return Evaluation(tasks=tasks[list(EVAL_COLUMNS)], episodes=episodes)
