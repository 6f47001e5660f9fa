"""Evaluation on every class of a suite (ML10: 10 train + 5 test; ML45: 45 + 5; ML1: its train and
test task keys), shared by all methods.

Each class is played on its fixed evaluation variants (:meth:`TaskSchedule.evaluation_variants`),
``episodes_per_variant`` episodes per variant as one trial, with no learning, and with deterministic
or stochastic actions (``actions``; stochastic actions are drawn from per-trial streams, so a score is
reproducible and independent of the worker count and layout). The policy's own memory scope decides
how context accumulates over the trial; ``scored_episodes`` says which episodes of the trial are
scored (all of them, the last one, or the last ``m``: Meta-World+'s "k adaptation episodes, then m
scored ones" is ``episodes_per_variant = k + m, scored_episodes = m``). The result is the
long-format per-task table of the shared protocol plus the per-episode table it was computed from
(every episode, scored or not, with a ``scored`` column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from envs.metrics import METRIC_COLUMNS, episode_table, task_table
from envs.policy import Acting, EvaluationActions, RolloutPolicy
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from envs.suite import all_classes, split_of

EVAL_COLUMNS: tuple[str, ...] = (
    "iteration", "env_steps", "wall_time", "split", "task", *METRIC_COLUMNS, "episodes",
)


@dataclass(frozen=True)
class EvaluationConfig:
    """How much evaluation to run at each evaluation point, and how it acts and scores.

    ``scored_episodes`` chooses which episodes of a trial enter the per-task means: ``"all"`` (every
    episode, the default; what the paper's per-episode metrics average over), ``"last"`` (only the
    final episode, the post-adaptation score for methods that carry context), or an integer ``m``
    (the last ``m`` episodes; the first ``episodes_per_variant - m`` are adaptation episodes).
    ``actions``: ``"deterministic"`` (the distributions' means) or ``"stochastic"`` (sampled from
    per-trial streams). The per-episode table always keeps every episode.
    """

    variants_per_class: int
    episodes_per_variant: int
    scored_episodes: Literal["all", "last"] | int = "all"
    actions: EvaluationActions = "deterministic"

    def __post_init__(self) -> None:
        if self.variants_per_class < 1 or self.episodes_per_variant < 1:
            raise ValueError(
                "evaluation needs at least one variant per class and one episode per variant, got "
                f"{self.variants_per_class} and {self.episodes_per_variant}"
            )
        scored = self.scored_episodes
        if isinstance(scored, bool) or not (scored in ("all", "last") or isinstance(scored, int)):
            raise ValueError(f"scored_episodes must be 'all', 'last' or a number of episodes, got {scored!r}")
        if isinstance(scored, int) and not 1 <= scored <= self.episodes_per_variant:
            raise ValueError(
                f"scored_episodes {scored} must be between 1 and episodes_per_variant "
                f"({self.episodes_per_variant}): the last scored_episodes episodes of each trial are scored"
            )
        Acting.evaluating(self.actions)  # refuses an unknown mode

    @property
    def scored_count(self) -> int:
        """How many episodes (the last ones) of each trial are scored."""
        return {"all": self.episodes_per_variant, "last": 1}.get(self.scored_episodes, self.scored_episodes)

    @property
    def acting(self) -> Acting:
        return Acting.evaluating(self.actions)


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
    rollout = sampler.collect(policy, trials, config.acting)
    episodes = episode_table(rollout)
    episodes["scored"] = episodes["episode"] >= rollout.episodes_per_trial - config.scored_count
    tasks = task_table(episodes[episodes["scored"]])
    tasks["split"] = [split_of(suite, task) for task in tasks["task"]]
    labels = {"iteration": iteration, "env_steps": env_steps, "wall_time": wall_time}
    for column, value in labels.items():
        tasks[column] = value
    episodes.insert(0, "split", [split_of(suite, task) for task in episodes["task"]])
    episodes.insert(0, "iteration", iteration)
    return Evaluation(tasks=tasks[list(EVAL_COLUMNS)], episodes=episodes)
