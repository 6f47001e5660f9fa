"""Benchmarks (ML10, a point-robot sanity suite), the seeded task schedule, the parallel sampler,
episode metrics and evaluation: the protocol shared by every method of the harness."""

from envs.evaluation import EVAL_COLUMNS, Evaluation, EvaluationConfig, evaluate
from envs.metrics import EpisodeMetrics, episode_metrics, episode_table, task_table
from envs.policy import RolloutPolicy, Transition
from envs.rollout import Rollout
from envs.sampler import ParallelSampler, SamplerError, available_cores
from envs.schedule import TaskSchedule, Trial
from envs.suite import EnvSpec, TaskSuite, all_classes, split_of

__all__ = [
    "EVAL_COLUMNS", "EnvSpec", "EpisodeMetrics", "Evaluation", "EvaluationConfig", "ParallelSampler",
    "Rollout", "RolloutPolicy", "SamplerError", "TaskSchedule", "TaskSuite", "Transition", "Trial",
    "all_classes", "available_cores", "episode_metrics", "episode_table", "evaluate", "split_of",
    "task_table",
]
