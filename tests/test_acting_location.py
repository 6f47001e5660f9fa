"""Acting in the sampler's workers (``sampler.acting: workers``) against acting in the main process, for
every method's policy on real ML10 episodes: the same trajectories, bit for bit, with 1 and 2 workers,
in training and in a stochastic evaluation; the training seeds come from the agent's checkpointed
acting generator either way; a policy that cannot act in a worker is refused before any work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms.probe import ProbePolicy
from algorithms.registry import load_method
from algorithms.uniform_random import UniformRandomPolicy
from envs.policy import STOCHASTIC_EVALUATION, TRAINING
from envs.sampler import ParallelSampler, SamplerError
from envs.schedule import TaskSchedule
from tests.helpers import StepCounterPolicy

AGENT_METHODS = ("himeta-cd", "himeta-st", "sd", "pearl", "peach")


class NonFiniteActions(UniformRandomPolicy):
    """Acts with NaNs: the check on a policy's actions must run where the policy acts."""

    def act(self, obs, memory, acting):
        return np.full((len(obs), self.spec.action_dim), np.nan), {}, memory
LAYOUTS = [(acting, workers) for acting in ("main", "workers") for workers in (1, 2)]


def _trials(suite):
    """Three train classes, one variant each, trials of two episodes."""
    return TaskSchedule(suite, run_seed=3, episodes_per_task=2).training_trials(0)[:3]


def _collect(suite, policy, trials, acting, location: str, workers: int):
    with ParallelSampler(suite, num_workers=workers, pipeline_groups=3, acting=location) as sampler:
        return sampler.collect(policy, trials, acting)


def _assert_same(a, b) -> None:
    for name in ("observations", "actions", "rewards", "successes", "truncated"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.extras.keys() == b.extras.keys()
    for key in a.extras:
        np.testing.assert_array_equal(a.extras[key], b.extras[key], err_msg=key)


@pytest.mark.parametrize("method", AGENT_METHODS)
def test_every_method_acts_identically_in_the_workers_and_in_the_main_process(ml10_short, method):
    trials = _trials(ml10_short)
    loaded = load_method(method)
    training, evaluation, streams = [], [], []
    for location, workers in LAYOUTS:
        agent = loaded.build_agent(ml10_short.spec, 0, torch.device("cpu"))
        training.append(_collect(ml10_short, agent.policy, trials, TRAINING, location, workers))
        evaluation.append(_collect(ml10_short, agent.policy, trials, STOCHASTIC_EVALUATION, location, workers))
        streams.append(agent.act_generator.get_state())
    for other in range(1, len(LAYOUTS)):
        _assert_same(training[0], training[other])
        _assert_same(evaluation[0], evaluation[other])
        assert torch.equal(streams[0], streams[other])  # three training seeds drawn in the main process
    fresh = loaded.build_agent(ml10_short.spec, 0, torch.device("cpu")).act_generator.get_state()
    assert not torch.equal(streams[0], fresh)
    assert np.abs(training[0].actions).max() > 0.05 and not np.allclose(training[0].actions, evaluation[0].actions)


@pytest.mark.parametrize("make", [lambda spec: UniformRandomPolicy(spec, 4),
                                  lambda spec: ProbePolicy(spec, seed=4, memory_scope="trial")])
def test_reference_policies_act_identically_in_the_workers(ml10_short, make):
    trials = _trials(ml10_short)
    runs = [_collect(ml10_short, make(ml10_short.spec), trials, TRAINING, location, workers)
            for location, workers in LAYOUTS]
    for other in runs[1:]:
        _assert_same(runs[0], other)


def test_a_policy_that_cannot_act_in_a_worker_is_refused_before_any_step(ml10_short):
    with ParallelSampler(ml10_short, num_workers=1, acting="workers") as sampler:
        with pytest.raises(ValueError, match="cannot act in the sampler's workers.*acting 'main'"):
            sampler.collect(StepCounterPolicy("episode", 4), _trials(ml10_short))
    with pytest.raises(ValueError, match="acting must be one of"):
        ParallelSampler(ml10_short, num_workers=1, acting="gpu")


def test_a_policy_failing_in_a_worker_is_reported_with_its_message_and_closes_the_sampler(ml10_short):
    with ParallelSampler(ml10_short, num_workers=2, acting="workers") as sampler:
        with pytest.raises(SamplerError, match=r"NonFiniteActions.act returned actions of shape \(\d+, 4\) "
                                               r"\(finite: False\)"):
            sampler.collect(NonFiniteActions(ml10_short.spec, 0), _trials(ml10_short))
        with pytest.raises(SamplerError, match="the sampler is closed"):
            sampler.collect(UniformRandomPolicy(ml10_short.spec, 0), _trials(ml10_short))
