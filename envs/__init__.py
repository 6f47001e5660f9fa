"""Benchmarks (MetaWorld ML10, ML45 and ML1 via :func:`build_suite`, a point-robot sanity suite), the
seeded task schedule, the parallel sampler, episode metrics and evaluation: the protocol shared by
every method of the harness."""

from envs.benchmarks import benchmark_tasks, build_suite, parse_benchmark
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
    "all_classes", "available_cores", "benchmark_tasks", "build_suite", "episode_metrics",
    "episode_table", "evaluate", "parse_benchmark", "split_of", "task_table",
]
