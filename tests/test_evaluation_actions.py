"""Stochastic evaluation (``evaluation.actions: stochastic``) for every method on real ML10 episodes:
reproducible, a function of the weights and the trials alone (not of the worker count or the sampler's
layout), different from deterministic evaluation, and never moving a training random stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms.registry import load_method
from envs.evaluation import EvaluationConfig, evaluate
from envs.policy import DETERMINISTIC_EVALUATION, STOCHASTIC_EVALUATION, Acting
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule

AGENT_METHODS = ("himeta-cd", "sd", "pearl", "peach")  # one per agent class
WORKERS = ({"num_workers": 1, "pipeline_groups": 3}, {"num_workers": 2, "pipeline_groups": 3})
OTHER_LAYOUT = {"num_workers": 1, "pipeline_groups": 1, "max_slots": 3}
"""Other batches and chunks: the same draws, so the same actions up to the float rounding of other
matrix shapes (a shared stream would change them entirely)."""


def _trials(suite):
    """Two train classes and one test class, one variant each, trials of two episodes."""
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=2)
    return schedule.evaluation_trials(suite.train_classes[:2] + suite.test_classes[:1], 1, 2)


def _actions(suite, agent, trials, acting: Acting, layout: dict) -> np.ndarray:
    with ParallelSampler(suite, **layout) as sampler:
        return sampler.collect(agent.policy, trials, acting).actions


@pytest.mark.parametrize("method", AGENT_METHODS)
def test_stochastic_evaluation_is_a_function_of_the_weights_and_trials(ml10_short, method):
    agent = load_method(method).build_agent(ml10_short.spec, 0, torch.device("cpu"))
    trials = _trials(ml10_short)
    training_stream = agent.act_generator.get_state().clone()
    stochastic = [_actions(ml10_short, agent, trials, STOCHASTIC_EVALUATION, layout) for layout in WORKERS]
    np.testing.assert_array_equal(stochastic[0], stochastic[1])  # bit-identical with 1 and 2 workers
    regrouped = _actions(ml10_short, agent, trials, STOCHASTIC_EVALUATION, OTHER_LAYOUT)
    np.testing.assert_allclose(regrouped, stochastic[0], atol=1e-4)
    assert torch.equal(agent.act_generator.get_state(), training_stream)  # evaluation draws from trial streams
    deterministic = _actions(ml10_short, agent, trials, DETERMINISTIC_EVALUATION, WORKERS[1])
    assert not np.allclose(stochastic[0], deterministic)


def test_evaluation_config_picks_the_acting_mode_and_refuses_unknown_ones():
    assert EvaluationConfig(1, 1).acting == DETERMINISTIC_EVALUATION
    assert EvaluationConfig(1, 1, actions="stochastic").acting == STOCHASTIC_EVALUATION
    with pytest.raises(ValueError, match="deterministic.*stochastic"):
        EvaluationConfig(1, 1, actions="greedy")
    with pytest.raises(ValueError, match="deterministic acting is evaluation"):
        Acting(evaluation=False, deterministic=True)


@pytest.mark.parametrize("scored, expected", [("all", [0, 1, 2, 3]), ("last", [3]), (2, [2, 3]), (4, [0, 1, 2, 3])])
def test_the_last_m_episodes_of_a_trial_are_scored(ml10_short, scored, expected):
    """Meta-World+'s "k adaptation episodes, then m scored": episodes_per_variant k + m, scored m."""
    from algorithms.uniform_random import UniformRandomPolicy

    schedule = TaskSchedule(ml10_short, run_seed=0, episodes_per_task=1)
    config = EvaluationConfig(variants_per_class=1, episodes_per_variant=4, scored_episodes=scored)
    with ParallelSampler(ml10_short, num_workers=2) as sampler:
        result = evaluate(UniformRandomPolicy(ml10_short.spec, 0), sampler, schedule, config,
                          iteration=0, env_steps=0, wall_time=0.0)
    episodes = result.episodes
    assert sorted(episodes.loc[episodes["scored"], "episode"].unique()) == expected
    assert (result.tasks["episodes"] == len(expected)).all()
    scored_means = episodes[episodes["scored"]].groupby("task", sort=False)["return"].mean()
    np.testing.assert_allclose(result.tasks.set_index("task")["return"], scored_means)


@pytest.mark.parametrize("scored, match", [(0, "between 1 and"), (5, "between 1 and"), ("first", "a number"),
                                           (True, "a number")])
def test_a_scored_episode_count_outside_the_trial_is_refused(scored, match):
    with pytest.raises(ValueError, match=match):
        EvaluationConfig(variants_per_class=1, episodes_per_variant=4, scored_episodes=scored)
