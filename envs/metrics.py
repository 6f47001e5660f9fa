"""Episode metrics: the one definition used by training logs, evaluation, tables and figures.

For an episode with raw rewards ``r_0..r_{T-1}`` and success flags ``s_0..s_{T-1}``
(``info["success"]`` at each step):

* return         = sum_t r_t                               (gamma = 1; Table 5, Figure 4b)
* success        = max_t s_t                               ("previous" metric: ever successful)
* average success = (1/T) sum_t max_{t' <= t} s_{t'}         (HiMeta's metric, Table 2, Figure 4a:
  1 from the first success on, so it also rewards reaching the goal early)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from envs.rollout import Rollout

METRIC_COLUMNS: tuple[str, ...] = ("avg_success", "success", "return")
METAWORLD_COLUMNS: tuple[str, ...] = ("split", "task", "success", "split_success", "split_return")
"""A run's table from MetaWorld's own evaluation (envs.metaworld_evaluation): per-task success, and the
split's mean success and mean return (``metalearning_evaluation`` returns no per-task return)."""


@dataclass(frozen=True)
class EpisodeMetrics:
    """Per-episode metrics, each with the leading shape of the inputs (all but the time axis)."""

    returns: np.ndarray
    success: np.ndarray
    avg_success: np.ndarray


def episode_metrics(rewards: np.ndarray, successes: np.ndarray) -> EpisodeMetrics:
    """Metrics of episodes stored along the last axis (``[..., T]``)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    successes = np.asarray(successes).astype(bool)
    if rewards.shape != successes.shape or rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(
            f"rewards {rewards.shape} and successes {successes.shape} must have the same "
            "non-empty shape [..., T]"
        )
    ever_succeeded = np.maximum.accumulate(successes, axis=-1)
    return EpisodeMetrics(
        returns=rewards.sum(axis=-1),
        success=ever_succeeded[..., -1].astype(np.float64),
        avg_success=ever_succeeded.mean(axis=-1),
    )


def episode_table(rollout: Rollout) -> pd.DataFrame:
    """One row per played episode: task, variant, episode index in its trial, and the three metrics."""
    metrics = episode_metrics(rollout.rewards, rollout.successes)
    n, episodes = rollout.num_trials, rollout.episodes_per_trial
    return pd.DataFrame(
        {
            "task": np.repeat(rollout.class_names, episodes),
            "variant": np.repeat([t.variant for t in rollout.trials], episodes),
            "episode": np.tile(np.arange(episodes), n),
            "avg_success": metrics.avg_success.reshape(-1),
            "success": metrics.success.reshape(-1),
            "return": metrics.returns.reshape(-1),
        }
    )


def task_table(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per-task means of the episode metrics, with the number of episodes behind each mean."""
    grouped = episodes.groupby("task", sort=False)
    table = grouped[list(METRIC_COLUMNS)].mean()
    table["episodes"] = grouped.size()
    return table.reset_index()
