"""The shared evaluation routine on real ML10: all 15 classes, long-format rows, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from algorithms.probe import ProbePolicy
from envs.evaluation import EVAL_COLUMNS, EvaluationConfig, evaluate
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule


@pytest.fixture(scope="module")
def sampler(ml10_short):
    with ParallelSampler(ml10_short, num_workers=2) as sampler:
        yield sampler


def test_rows_cover_all_classes_in_long_format(ml10_short, sampler):
    schedule = TaskSchedule(ml10_short, run_seed=0, episodes_per_task=5)
    config = EvaluationConfig(variants_per_class=2, episodes_per_variant=2)
    policy = ProbePolicy(ml10_short.spec, seed=0, memory_scope="trial")
    result = evaluate(policy, sampler, schedule, config, iteration=7, env_steps=1234, wall_time=5.0)
    tasks = result.tasks
    assert list(tasks.columns) == list(EVAL_COLUMNS)
    assert list(tasks["task"]) == list(ml10_short.train_classes + ml10_short.test_classes)
    assert (tasks["split"] == ["train"] * 10 + ["test"] * 5).all()
    assert (tasks["episodes"] == 4).all()
    assert (tasks["iteration"] == 7).all() and (tasks["env_steps"] == 1234).all()
    assert (tasks["avg_success"] <= tasks["success"]).all()
    # per-task rows are the means of the per-episode table
    episodes = result.episodes
    assert len(episodes) == 15 * 2 * 2
    means = episodes.groupby("task", sort=False)["return"].mean()
    np.testing.assert_allclose(tasks.set_index("task")["return"], means)
    # the evaluation variants are the schedule's fixed ones
    assert sorted(set(episodes.loc[episodes.task == "reach-v3", "variant"])) == \
        schedule.evaluation_variants("reach-v3", 2)


def test_deterministic_policy_gives_identical_evaluations(ml10_short, sampler):
    schedule = TaskSchedule(ml10_short, run_seed=1, episodes_per_task=5)
    config = EvaluationConfig(variants_per_class=1, episodes_per_variant=1)
    runs = [
        evaluate(ProbePolicy(ml10_short.spec, seed=seed), sampler, schedule, config,
                 iteration=0, env_steps=0, wall_time=0.0).tasks
        for seed in (3, 3)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_last_episode_scoring_uses_only_final_episodes(ml10_short, sampler):
    schedule = TaskSchedule(ml10_short, run_seed=0, episodes_per_task=5)
    policy = ProbePolicy(ml10_short.spec, seed=4, memory_scope="trial")
    config = EvaluationConfig(variants_per_class=1, episodes_per_variant=3, scored_episodes="last")
    result = evaluate(policy, sampler, schedule, config, iteration=0, env_steps=0, wall_time=0.0)
    assert (result.tasks["episodes"] == 1).all()
    last = result.episodes[result.episodes["episode"] == 2].set_index("task")["return"]
    np.testing.assert_allclose(result.tasks.set_index("task")["return"], last)


def test_bad_evaluation_config_is_rejected():
    with pytest.raises(ValueError, match="at least one variant"):
        EvaluationConfig(variants_per_class=0, episodes_per_variant=1)
    with pytest.raises(ValueError, match="scored_episodes"):
        EvaluationConfig(variants_per_class=1, episodes_per_variant=1, scored_episodes="best")
