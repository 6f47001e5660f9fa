"""The parallel sampler on real MetaWorld envs: correctness against the env itself, determinism,
memory semantics, and failures that surface as errors instead of hangs."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import FaultySuite, ScriptedExpertPolicy, StepCounterPolicy, SuiteThatFailsToLoad

from algorithms.probe import ProbePolicy
from algorithms.uniform_random import UniformRandomPolicy
from envs.metrics import episode_metrics
from envs.ml10 import ML10Suite
from envs.point_robot import PointRobotSuite
from envs.sampler import ParallelSampler, SamplerError
from envs.schedule import TaskSchedule, Trial
from envs.policy import DETERMINISTIC_EVALUATION


def _reference_episode(suite, class_name, variant, expert):
    """The expert on one env in this process, exactly as the sampler feeds it (float32 obs)."""
    env = suite.make_env(class_name)
    suite.set_variant(env, class_name, variant)
    obs, _ = env.reset()
    rewards, successes = [], []
    for _ in range(suite.spec.episode_length):
        action = expert.get_action(obs.astype(np.float32)).astype(np.float32)
        obs, reward, _, _, info = env.step(np.clip(action, -1, 1).astype(np.float64))
        rewards.append(reward)
        successes.append(info["success"])
    return np.array(rewards), np.array(successes)


def test_scripted_expert_succeeds_and_metrics_match_env_info():
    suite = ML10Suite(benchmark_seed=0, episode_length=150, goal_observable=True)
    policy = ScriptedExpertPolicy("reach-v3")
    trials = [Trial("reach-v3", variant, 1) for variant in (0, 1, 2, 3)]
    with ParallelSampler(suite, num_workers=2) as sampler:
        rollout = sampler.collect(policy, trials, DETERMINISTIC_EVALUATION)
    metrics = episode_metrics(rollout.rewards, rollout.successes)
    assert metrics.success.mean() >= 0.75  # the expert reaches the goal
    for i, trial in enumerate(trials):
        rewards, successes = _reference_episode(suite, "reach-v3", trial.variant, policy.expert)
        np.testing.assert_array_equal(rollout.rewards[i, 0], rewards)
        np.testing.assert_array_equal(rollout.successes[i, 0], successes.astype(bool))
        ref = episode_metrics(rewards, successes)
        assert metrics.returns[i, 0] == pytest.approx(ref.returns)
        assert metrics.success[i, 0] == float(max(successes))
        assert metrics.avg_success[i, 0] == pytest.approx(np.maximum.accumulate(successes).mean())


def test_rollout_shapes_and_step_records(ml10_short):
    trials = TaskSchedule(ml10_short, run_seed=0, episodes_per_task=2).training_trials(0)[:3]
    policy = ProbePolicy(ml10_short.spec, seed=0)
    with ParallelSampler(ml10_short, num_workers=2) as sampler:
        rollout = sampler.collect(policy, trials)
    steps = ml10_short.spec.episode_length
    assert rollout.observations.shape == (3, 2, steps + 1, 39)
    assert rollout.actions.shape == (3, 2, steps, 4)
    assert rollout.rewards.shape == rollout.successes.shape == rollout.truncated.shape == (3, 2, steps)
    assert rollout.extras["hidden_norm"].shape == (3, 2, steps)
    assert rollout.env_steps == 3 * 2 * steps
    assert rollout.truncated[:, :, -1].all() and not rollout.truncated[:, :, :-1].any()
    assert (rollout.rewards >= 0).all() and (rollout.rewards <= 10).all()
    np.testing.assert_array_equal(rollout.next_observations[:, :, :-1], rollout.observations[:, :, 1:-1])
    # the same variant resets to the same state at every episode of a trial
    np.testing.assert_array_equal(rollout.observations[:, 0, 0], rollout.observations[:, 1, 0])


@pytest.mark.parametrize("memory_scope", ["episode", "trial"])
def test_identical_trajectories_with_one_and_two_workers(ml10_short, memory_scope):
    trials = TaskSchedule(ml10_short, run_seed=5, episodes_per_task=2).training_trials(1)[:4]
    results = []
    for workers in (1, 2):
        policy = ProbePolicy(ml10_short.spec, seed=11, memory_scope=memory_scope)
        with ParallelSampler(ml10_short, num_workers=workers) as sampler:
            results.append(sampler.collect(policy, trials))
    one, two = results
    np.testing.assert_array_equal(one.observations, two.observations)
    np.testing.assert_array_equal(one.actions, two.actions)
    np.testing.assert_array_equal(one.rewards, two.rewards)
    np.testing.assert_array_equal(one.extras["hidden_norm"], two.extras["hidden_norm"])
    assert np.abs(one.actions).max() > 0.05  # a real stochastic policy, not a constant


def test_same_seed_same_rollout_different_seed_different(ml10_short):
    trials = [Trial("push-v3", 4, 1), Trial("sweep-v3", 9, 1)]
    with ParallelSampler(ml10_short, num_workers=2) as sampler:
        a = sampler.collect(ProbePolicy(ml10_short.spec, seed=1), trials)
        b = sampler.collect(ProbePolicy(ml10_short.spec, seed=1), trials)
        c = sampler.collect(ProbePolicy(ml10_short.spec, seed=2), trials)
    np.testing.assert_array_equal(a.observations, b.observations)
    assert not np.array_equal(a.actions, c.actions)


def test_episode_memory_is_reset_every_episode(ml10_short):
    policy = StepCounterPolicy("episode", action_dim=4)
    trials = [Trial("reach-v3", 0, 3), Trial("door-open-v3", 1, 3)]
    with ParallelSampler(ml10_short, num_workers=2) as sampler:
        memory = sampler.collect(policy, trials).extras["memory"]
    steps = ml10_short.spec.episode_length
    np.testing.assert_array_equal(memory, np.broadcast_to(np.arange(steps), (2, 3, steps)))


def test_trial_memory_is_carried_across_episodes_and_reset_between_trials(ml10_short):
    policy = StepCounterPolicy("trial", action_dim=4)
    trials = [Trial("reach-v3", 0, 3), Trial("door-open-v3", 1, 3), Trial("reach-v3", 2, 3)]
    with ParallelSampler(ml10_short, num_workers=2, max_slots=2) as sampler:  # 2 chunks of trials
        memory = sampler.collect(policy, trials).extras["memory"]
    steps = ml10_short.spec.episode_length
    expected = np.arange(3 * steps).reshape(3, steps)
    for trial in range(3):  # every trial, including the one in the second chunk, starts from zero
        np.testing.assert_array_equal(memory[trial], expected)


def test_pipeline_groups_do_not_change_lockstep_results(ml10_short):
    trials = [Trial("window-open-v3", 3, 1), Trial("basketball-v3", 8, 1), Trial("reach-v3", 1, 1)]
    out = []
    for groups in (1, 2):
        with ParallelSampler(ml10_short, num_workers=2, pipeline_groups=groups) as sampler:
            out.append(sampler.collect(ScriptedExpertPolicy("reach-v3"), trials, DETERMINISTIC_EVALUATION))
    np.testing.assert_array_equal(out[0].observations, out[1].observations)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "fault, message",
    [
        ("raise", "injected failure in env.step"),
        ("kill", "died with exit code -9"),
        ("hang", "did not answer within"),
        ("terminate", "termination before the episode's last step"),
    ],
)
def test_worker_failures_surface_as_errors(fault, message):
    suite = FaultySuite(episode_length=10, fault=fault, at_step=4)
    sampler = ParallelSampler(suite, num_workers=2, timeout_s=3)
    with pytest.raises(SamplerError, match=message):
        sampler.collect(UniformRandomPolicy(suite.spec, 0), [Trial("point-goal", 0, 1)] * 3)
    with pytest.raises(SamplerError, match="closed"):
        sampler.collect(UniformRandomPolicy(suite.spec, 0), [Trial("point-goal", 0, 1)])
    sampler.close()
    assert all(not proc.is_alive() for proc in sampler._procs)


@pytest.mark.timeout(120)
def test_a_worker_that_died_between_collections_is_reported_not_a_broken_pipe():
    """Sending to a dead worker (here: killed while idle) is the same SamplerError as a dead reply."""
    suite = PointRobotSuite(episode_length=5)
    with ParallelSampler(suite, num_workers=2) as sampler:
        trials = [Trial("point-goal", 0, 1)] * 4
        sampler.collect(UniformRandomPolicy(suite.spec, 0), trials)
        sampler._procs[0].kill()
        sampler._procs[0].join(timeout=10)
        with pytest.raises(SamplerError, match=r"worker 0 \(pid \d+\) died with exit code -9 while binding envs"):
            sampler.collect(UniformRandomPolicy(suite.spec, 0), trials)


@pytest.mark.timeout(60)
def test_worker_that_fails_while_starting_is_an_error_not_a_hang():
    with pytest.raises(SamplerError, match="cannot be loaded in a worker"):
        ParallelSampler(SuiteThatFailsToLoad(), num_workers=2)


def test_bad_input_is_rejected_before_any_step(ml10_short):
    policy = UniformRandomPolicy(ml10_short.spec, 0)
    with ParallelSampler(ml10_short, num_workers=1) as sampler:
        with pytest.raises(ValueError, match="unknown task class 'reach-v2'"):
            sampler.collect(policy, [Trial("reach-v2", 0, 1)])
        with pytest.raises(ValueError, match="variant 50"):
            sampler.collect(policy, [Trial("reach-v3", 50, 1)])
        with pytest.raises(ValueError, match="same number of episodes"):
            sampler.collect(policy, [Trial("reach-v3", 0, 1), Trial("reach-v3", 0, 2)])
        with pytest.raises(ValueError, match="at least one trial"):
            sampler.collect(policy, [])

        class WrongShape(UniformRandomPolicy):
            def act(self, obs, memory, acting):
                return np.zeros((len(obs), 3)), {}, None

        with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
            sampler.collect(WrongShape(ml10_short.spec, 0), [Trial("reach-v3", 0, 1)])
