"""PEACH end to end: config, hand-checked subgoal rewards and hindsight transitions, gradient isolation,
acting (prior/posterior z, subgoal timing, no random draws when deterministic), checkpoints, learning on
the point robot, and a short ML10 run that resumes to the same numbers."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import assert_short_ml10_run_resumes, run_training, step_floats

from algorithms.common.sac import bellman_target, policy_loss, twin_q_loss, value_loss
from algorithms.common.trial_belief import latent_sac_inputs
from algorithms.peach.agent import PEACHAgent
from algorithms.peach.config import load_peach_config, peach_config
from algorithms.peach.goals import goal_condition, hindsight_goal_steps, subgoal_reward
from algorithms.registry import load_method
from analysis.goal_probe import remaining_distance
from envs.benchmarks import build_suite
from envs.ml10 import ML10Suite
from envs.point_robot import PointRobotSuite
from envs.policy import DETERMINISTIC_EVALUATION, TRAINING, Transition
from envs.sampler import ParallelSampler
from envs.schedule import Trial

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "methods" / "peach.yaml"
LOSS_TERMS = {"top_q_loss", "top_v_loss", "top_policy_loss", "kl", "posterior_variance", "level0_q_loss",
              "level0_v_loss", "level0_policy_loss", "level0_reward"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Gradient steps on small nets run fastest single-threaded on a shared 2-core box."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def _small(config=None, **overrides):
    """The YAML config sized for the point robot (2-dim position subgoals) and a quick test."""
    config = config or load_peach_config(CONFIG_PATH)
    sac = dataclasses.replace(config.sac, hidden_sizes=(64, 64), reward_scale=5.0, policy_lr=1e-3,
                              q_lr=1e-3, v_lr=1e-3)
    values = dict(sac=sac, lower_sac=sac, subgoal_periods=(5,), subgoal_low=(-1.5, -1.5),
                  subgoal_high=(1.5, 1.5), goal_threshold=0.1, encoder_hidden=(64, 64), latent_dim=5,
                  meta_batch_size=8, batch_size=32, lower_batch_size=128, embedding_batch_size=32,
                  gradient_steps=100, prior_episodes=2, replay_capacity=100_000, context_lr=1e-3)
    return dataclasses.replace(config, **{**values, **overrides})


def _filled_agent(seed=0, **overrides):
    """An agent on a 5-step point robot whose replay holds 4 tasks of random episodes."""
    suite = PointRobotSuite(episode_length=5)
    agent = PEACHAgent(suite.spec, _small(subgoal_periods=(2,), **overrides), seed=seed)
    rng = np.random.default_rng(seed)
    for task in range(4):
        agent.replay.add_trial(task, rng.normal(size=(3, 6, 4)).astype(np.float32),
                               rng.uniform(-1, 1, (3, 5, 2)).astype(np.float32),
                               rng.random((3, 5)).astype(np.float32),
                               rng.uniform(-1, 1, (3, 5, 1, 2)).astype(np.float32),
                               rng.random((3, 5, 1)) < 0.3, np.array([True, True, False]))
    return agent


# ---------------------------------------------------------------------------------------- config
def test_config_loads_through_the_registry():
    method = load_method("peach")
    assert method.algorithm == "peach" and method.config == load_peach_config(CONFIG_PATH)
    assert method.config.levels == 2 and method.config.periods == (1, 10)
    assert next(iter(yaml.safe_load(CONFIG_PATH.read_text()))) == "algorithm"
    agent = method.build_agent(ML10Suite(benchmark_seed=0, episode_length=30).spec, 0, torch.device("cpu"))
    np.testing.assert_array_equal(agent.space.indices, [0, 1, 2, 3])  # hand xyz + gripper, current frame


def test_malformed_config_names_the_problem_and_the_file():
    values = yaml.safe_load(CONFIG_PATH.read_text())
    with pytest.raises(ValueError, match=r"unknown PEACH setting\(s\) \['goal_treshold'\] in my.yaml"):
        peach_config({**values, "goal_treshold": 0.1}, "my.yaml")
    with pytest.raises(ValueError, match=r"unknown PEACH setting\(s\) \['tau'\] in my.yaml.lower_sac"):
        peach_config({**values, "lower_sac": {**values["lower_sac"], "tau": 0.1}}, "my.yaml")
    with pytest.raises(ValueError, match=r"one subgoal period per level.*in my.yaml"):
        peach_config({**values, "levels": 3}, "my.yaml")
    with pytest.raises(ValueError, match=r"each a multiple of the next.*in my.yaml"):
        peach_config({**values, "levels": 3, "subgoal_periods": [25, 10]}, "my.yaml")
    with pytest.raises(ValueError, match=r"subgoal_reward must be one of.*in my.yaml"):
        peach_config({**values, "subgoal_reward": "dense"}, "my.yaml")
    assert peach_config({**values, "levels": 3, "subgoal_periods": [25, 5]}, "my.yaml").periods == (1, 5, 25)
    del values["relabel_fraction"]
    with pytest.raises(ValueError, match=r"missing PEACH setting\(s\) \['relabel_fraction'\] in my.yaml"):
        peach_config(values, "my.yaml")
    with pytest.raises(ValueError, match=r"subgoal bounds have 4 entries .* 2 slots"):
        PEACHAgent(PointRobotSuite().spec, load_peach_config(CONFIG_PATH), seed=0)


# ---------------------------------------------------------------------------------------- subgoals
def test_subgoal_rewards_and_hindsight_goal_steps_by_hand():
    achieved = np.array([[0.30, 0.00], [0.30, 0.09], [0.30, 0.11]], np.float32)
    goal = np.zeros((3, 2), np.float32) + [0.3, 0.0]
    reward, done = subgoal_reward(achieved, goal, 0.1, "sparse")  # per-dimension threshold 0.1
    np.testing.assert_array_equal(reward, [0.0, 0.0, -1.0])
    np.testing.assert_array_equal(done, [True, True, False])
    reward, done = subgoal_reward(achieved, goal, 0.1, "distance")
    np.testing.assert_allclose(reward, [0.0, -0.09, -0.11], atol=1e-7)
    assert not done.any()
    # a level with period 2 ends a step at 4 inside a parent subgoal that ends at 9 (a truncated episode)
    end, segment_end = np.full(1000, 4), np.full(1000, 9)
    future = hindsight_goal_steps(end, segment_end, 2, "future", np.random.default_rng(0))
    assert set(future) == {4, 6, 8, 9}
    np.testing.assert_array_equal(hindsight_goal_steps(end, segment_end, 2, "final", None), segment_end)


def _hand_made_replay(levels=2, subgoal_periods=(3,), tested=False, **overrides):
    """One 7-step point-robot episode along x (x_t = 0.1 t), rewards r_t = t, actions (t, -t) / 10;
    subgoal rewards ``sparse`` unless ``overrides`` say otherwise.

    Level-0 subgoals: (0.3, 0) for t < 3, (1.0, 0) for 3 <= t < 6, (0.7, 0) at t = 6; all of them
    tests if ``tested``.
    """
    suite = PointRobotSuite(episode_length=7)
    overrides = {"subgoal_reward": "sparse", **overrides}  # HAC's -1/0 rewards, by hand below
    config = _small(levels=levels, subgoal_periods=subgoal_periods, goal_threshold=0.05, **overrides)
    agent = PEACHAgent(suite.spec, config, seed=0)
    x = 0.1 * np.arange(8, dtype=np.float32)
    observations = np.stack([x, 0 * x, np.r_[0, x[:-1]], 0 * x], -1)[None]
    actions = (np.stack([np.arange(7), -np.arange(7)], -1) / 10).astype(np.float32)[None]
    rewards = np.arange(7, dtype=np.float32)[None]
    subgoals = np.zeros((1, 7, levels - 1, 2), np.float32)
    subgoals[0, :, 0, 0] = [0.3, 0.3, 0.3, 1.0, 1.0, 1.0, 0.7]
    agent.replay.add_trial(0, observations, actions, rewards, subgoals,
                           np.full((1, 7, levels - 1), tested), np.array([True]))
    return agent


def _by_start(batch, period):
    """Sampled transitions grouped by their start step (recovered from x = 0.1 t)."""
    start = np.rint(batch["obs"][..., 0] / 0.1).astype(int).ravel()
    assert set(start) == set(range(0, 7, period))  # every start was drawn
    return start


def test_level0_transitions_with_and_without_hindsight_goals_by_hand():
    rng = np.random.default_rng(0)
    replay = _hand_made_replay(relabel_fraction=0.0).replay
    real = replay.level_transitions(0, 400, rng)
    t = _by_start(real, 1)
    np.testing.assert_allclose(real["next_obs"][:, 0], 0.1 * (t + 1), atol=1e-6)
    np.testing.assert_allclose(real["actions"], np.stack([t, -t], -1) / 10, atol=1e-6)
    np.testing.assert_array_equal(real["goals"][:, 0], np.float32([0.3, 0.3, 0.3, 1.0, 1.0, 1.0, 0.7])[t])
    np.testing.assert_array_equal(real["rewards"], np.float32([-1, -1, 0, -1, -1, -1, 0])[t])
    np.testing.assert_array_equal(real["terminated"], real["rewards"] == 0)
    # "final": the goal becomes the position at the end of the parent's subgoal (steps 3, 6, 7)
    replay = _hand_made_replay(relabel_strategy="final", relabel_fraction=1.0).replay
    final = replay.level_transitions(0, 400, rng)
    t = _by_start(final, 1)
    expected = np.float32([0.3, 0.3, 0.3, 0.6, 0.6, 0.6, 0.7])[t]
    np.testing.assert_allclose(final["goals"][:, 0], expected, atol=1e-6)
    np.testing.assert_array_equal(final["rewards"], np.float32([-1, -1, 0, -1, -1, 0, 0])[t])
    # "future": any position from the step's end up to the end of its parent's subgoal
    replay = _hand_made_replay(relabel_strategy="future", relabel_fraction=1.0).replay
    future = replay.level_transitions(0, 400, rng)
    t = _by_start(future, 1)
    goal_step = np.rint(future["goals"][:, 0] / 0.1).astype(int)
    segment_end = np.minimum((t // 3 + 1) * 3, 7)
    assert ((goal_step >= t + 1) & (goal_step <= segment_end)).all()
    np.testing.assert_array_equal(future["rewards"] == 0, goal_step == t + 1)


@pytest.mark.parametrize("top_reward", ["smdp", "decision_sum"])
def test_top_transitions_are_semi_mdp_steps_with_hindsight_actions(top_reward):
    agent = _hand_made_replay(top_reward=top_reward)
    batch = agent.replay.top_transitions(np.array([0, 0]), 100, np.random.default_rng(0))
    t = _by_start(batch, 3)
    assert not batch["terminated"].any()
    g = agent.config.sac.discount if top_reward == "smdp" else 1.0
    reward = {0: 0 + 1 * g + 2 * g**2, 3: 3 + 4 * g + 5 * g**2, 6: 6}  # the last step is cut by the time limit
    end = np.minimum(t + 3, 7)
    np.testing.assert_allclose(batch["rewards"].ravel(), [reward[s] for s in t], rtol=1e-6)
    np.testing.assert_allclose(batch["next_obs"][..., 0].ravel(), 0.1 * end, atol=1e-6)
    # hindsight action: the achieved position (0.1 end, 0) mapped from the box [-1.5, 1.5]^2 to [-1, 1]
    expected = np.stack([(0.1 * end + 1.5) / 3 * 2 - 1, np.zeros_like(end, float)], -1)
    np.testing.assert_allclose(batch["actions"].reshape(-1, 2), expected, atol=1e-6)
    space = agent.space
    goal = np.float32([0.3, -1.0])
    origin = np.float32([5.0, 5.0])  # an absolute box ignores where the proposal is made
    np.testing.assert_allclose(space.goal_from_action(space.action_from_goal(goal, origin), origin), goal, atol=1e-6)
    np.testing.assert_array_equal(space.action_from_goal(np.float32([9.0, -9.0]), origin), [1.0, -1.0])  # clipped


def test_relative_subgoals_are_offsets_from_the_state_where_they_are_proposed():
    """``subgoal_frame: relative`` (HIRO's subgoals): a proposal is the hand's position when it is
    made plus an offset in the box; the hindsight action is the achieved displacement over the
    decision mapped back from the box, so every action of the top's replay lies in [-1, 1] and a
    displacement of half the box's width maps to the box's edge."""
    agent = _hand_made_replay(subgoal_frame="relative", subgoal_low=(-0.2, -0.2), subgoal_high=(0.2, 0.2))
    space = agent.space
    origin = np.float32([[0.5, 0.1]])
    np.testing.assert_allclose(space.goal_from_action(np.float32([[1.0, -0.5]]), origin), [[0.7, 0.0]], atol=1e-6)
    goal = np.float32([[0.55, 0.2]])
    np.testing.assert_allclose(space.goal_from_action(space.action_from_goal(goal, origin), origin), goal, atol=1e-6)
    np.testing.assert_array_equal(space.action_from_goal(np.float32([[9.0, -9.0]]), origin), [[1.0, -1.0]])
    batch = agent.replay.top_transitions(np.array([0, 0]), 100, np.random.default_rng(0))
    t = _by_start(batch, 3)
    end = np.minimum(t + 3, 7)
    # the hand moved 0.1 (end - t) along x: 0.3 -> 1.0 (clipped at the box's edge 0.2), and 0.1 in the
    # decision cut by the time limit -> 0.5
    expected_x = np.clip(0.1 * (end - t) / 0.2, -1.0, 1.0)
    np.testing.assert_allclose(batch["actions"].reshape(-1, 2), np.stack([expected_x, 0 * expected_x], -1),
                               atol=1e-5)
    absolute = _hand_made_replay().space
    np.testing.assert_allclose(absolute.goal_from_action(np.float32([[1.0, -0.5]]), origin), [[1.5, -0.75]])


def test_the_top_level_values_are_on_the_scale_of_pearls_per_step_critic():
    """``smdp``: the top critic's reward is the decision's discounted k-step return and a decision
    is discounted by gamma^k, so the fixed-point value of a constant reward is exactly PEARL's per-step
    critic's (and PEARL's reward_scale and fixed entropy bonus keep their relative weight);
    ``decision_sum`` (undiscounted sums, gamma per decision) puts it k = 10x higher."""
    config = load_peach_config(CONFIG_PATH)
    assert config.top_reward == "smdp"
    spec = ML10Suite(benchmark_seed=0, episode_length=30).spec
    reward, k = 5.0, config.periods[-1]  # a constant env reward; a decision spans k steps
    pearl_value = config.sac.reward_scale * reward / (1 - config.sac.discount)
    values = {}
    for top_reward in ("smdp", "decision_sum"):
        agent = PEACHAgent(spec, dataclasses.replace(config, top_reward=top_reward), seed=0)
        gamma, scale = agent.top.config.discount, agent.top.config.reward_scale
        assert gamma == pytest.approx(config.sac.discount ** (k if top_reward == "smdp" else 1))
        step = config.sac.discount if top_reward == "smdp" else 1.0
        values[top_reward] = scale * sum(reward * step**u for u in range(k)) / (1 - gamma)
    assert values["smdp"] == pytest.approx(pearl_value, rel=1e-9)
    assert values["decision_sum"] == pytest.approx(k * pearl_value, rel=1e-9)


def test_lower_level_targets_are_bounded_by_the_worst_return_of_an_attempt():
    """HAC bounds a goal-conditioned level's target to [-H, 0] (-1/0 rewards, H actions per attempt);
    here to reward_scale x [-H, 0]. A critic whose bootstrap value has drifted far above 0 (or below
    the bound) does not drag the targets with it."""
    sparse = _filled_agent(bound_lower_targets=True, subgoal_reward="sparse")
    horizon, scale = sparse.config.periods[1], sparse.config.lower_sac.reward_scale
    assert sparse.level_target_bounds(0) == (-scale * horizon, 0.0)
    agent = _filled_agent(bound_lower_targets=True, subgoal_reward="distance")  # -||g - s'|| per step
    low, high = agent.level_target_bounds(0)
    diameter = float(np.linalg.norm(agent.space.high - agent.space.low))  # the farthest goal in the box
    assert (low, high) == pytest.approx((-scale * horizon * diameter, 0.0))
    for drift in (1e3, -1e3):
        torch.nn.init.constant_(agent.levels[0].v_target.net[-1].bias, drift)
        stats = agent.level_step(0)
        assert low <= stats["level0_q_target_mean"] <= high
    unbounded = _filled_agent(bound_lower_targets=False)
    torch.nn.init.constant_(unbounded.levels[0].v_target.net[-1].bias, 1e3)
    assert unbounded.level_step(0)["level0_q_target_mean"] > 100


def test_a_missed_subgoal_test_penalises_the_proposal_half_of_the_time():
    agent = _hand_made_replay(tested=True, top_missed_test="terminal")
    batch = agent.replay.top_transitions(np.array([0]), 400, np.random.default_rng(0))
    t, terminated = _by_start(batch, 3), batch["terminated"].ravel()
    # (0.3, 0) is reached at t = 3 and (0.7, 0) at t = 7; (1.0, 0), proposed at t = 3, is missed (x_6 = 0.6)
    assert not terminated[t != 3].any() and 0.4 < terminated[t == 3].mean() < 0.6
    np.testing.assert_array_equal(batch["rewards"].ravel()[terminated], 0.0)  # top_subgoal_penalty
    proposal = [(1.0 + 1.5) / 3 * 2 - 1, 0.0]  # the proposal (1.0, 0) itself, not the hindsight action
    np.testing.assert_allclose(batch["actions"][0, terminated], [proposal] * terminated.sum(), atol=1e-6)


def test_a_missed_top_test_can_cost_its_own_decision_instead_of_the_whole_future():
    """``top_missed_test: continue``: the penalty transition keeps the proposal and the penalty reward
    but bootstraps from the state reached (on rewards >= 0 a terminal 0 cuts off the whole future
    value, far more than HAC's -H costs on -1/0 rewards; docs/peach.md)."""
    terminal = _hand_made_replay(tested=True, top_missed_test="terminal").replay.top_transitions(
        np.array([0]), 400, np.random.default_rng(0))
    agent = _hand_made_replay(tested=True, top_missed_test="continue")
    kept = agent.replay.top_transitions(np.array([0]), 400, np.random.default_rng(0))
    assert terminal["terminated"].any() and not kept["terminated"].any()
    for key in ("obs", "actions", "rewards", "next_obs"):  # the same draws, only the flag differs
        np.testing.assert_array_equal(kept[key], terminal[key])
    with pytest.raises(ValueError, match="top_missed_test must be one of"):
        _small(top_missed_test="cut")


def test_top_transitions_can_start_at_every_step_with_penalties_only_where_a_proposal_was_made():
    """``top_transition_starts: every_step``: a top transition is cut from any k-step window
    ``(s_t, achieved s_t', sum gamma^u r, s_t')``, ``t' = min(t + k, T)``, not only from the windows
    that start at a decision (10x the data at k = 10: the level-0 follower did reach ``s_t'`` from
    ``s_t`` in ``t' - t`` steps, HAC's hindsight-action premise). A window that starts inside a
    decision was proposed nowhere, so only windows starting at a decision can be a missed test."""
    agent = _hand_made_replay(tested=True, top_transition_starts="every_step", top_missed_test="terminal")
    batch = agent.replay.top_transitions(np.array([0]), 1400, np.random.default_rng(0))
    t, terminated = _by_start(batch, 1), batch["terminated"].ravel()
    end = np.minimum(t + 3, 7)
    g = agent.config.sac.discount
    reward = np.array([sum(u * g ** (u - s) for u in range(s, min(s + 3, 7))) for s in range(7)])
    np.testing.assert_allclose(batch["next_obs"][..., 0].ravel(), 0.1 * end, atol=1e-6)
    # (1.0, 0), proposed and tested at t = 3, is missed; the windows from t = 4, 5 hold the same
    # tested subgoal but were not proposed there
    assert not terminated[t != 3].any() and 0.4 < terminated[t == 3].mean() < 0.6
    kept = ~terminated
    np.testing.assert_allclose(batch["rewards"].ravel()[kept], reward[t[kept]], rtol=1e-6)
    hindsight = np.stack([(0.1 * end + 1.5) / 3 * 2 - 1, np.zeros_like(end, float)], -1)
    np.testing.assert_allclose(batch["actions"].reshape(-1, 2)[kept], hindsight[kept], atol=1e-6)
    with pytest.raises(ValueError, match="top_transition_starts must be one of"):
        _small(top_transition_starts="anywhere")


def test_offset_goal_input_is_the_goal_minus_the_ego_state_in_threshold_units():
    """``goal_input: offset``: a goal-conditioned level reads ``(g - s_ego) / goal_threshold`` (HIRO's
    relative goal, in units where attainment is the unit box), numpy and torch alike; ``absolute``
    (HAC) reads ``g``. An offset needs a threshold above 0."""
    space = _hand_made_replay().space
    obs = np.float32([[0.5, 0.1, 0.4, 0.1], [0.0, 0.0, 0.0, 0.0]])
    goal = np.float32([[0.53, 0.05], [0.0, -0.02]])
    np.testing.assert_allclose(goal_condition(goal, obs, space, "offset", 0.01), [[3.0, -5.0], [0.0, -2.0]],
                               atol=1e-4)
    np.testing.assert_allclose(goal_condition(torch.as_tensor(goal), torch.as_tensor(obs), space, "offset", 0.01),
                               [[3.0, -5.0], [0.0, -2.0]], atol=1e-4)
    np.testing.assert_array_equal(goal_condition(goal, obs, space, "absolute", 0.01), goal)
    with pytest.raises(ValueError, match="goal_input: offset needs goal_threshold > 0"):
        _small(goal_input="offset", goal_threshold=0.0)
    with pytest.raises(ValueError, match="goal_input must be one of"):
        _small(goal_input="polar")


def test_lower_levels_read_the_same_goal_input_when_acting_and_learning():
    """Level 0's networks see ``[obs, goal input]`` in ``act`` and in ``level_step`` (inputs and next
    inputs), the goal input taken against the observation it is paired with."""
    agent = _filled_agent(goal_input="offset", goal_threshold=0.1)
    seen = []
    for network in (agent.levels[0].policy, agent.levels[0].q1, agent.levels[0].v_target):
        network.register_forward_pre_hook(lambda module, args: seen.append((module, args[0].detach().clone())))
    obs = np.float32([[0.5, 0.1, 0.5, 0.1], [0.2, -0.3, 0.2, -0.3]])
    memory = agent.policy.start_episode(agent.policy.initial_memory(2), True)
    memory = dataclasses.replace(memory, step=np.array([1, 1]),  # mid-decision: no new proposal
                                 subgoals=np.float32([[[0.6, 0.0]], [[0.2, -0.5]]]))
    agent.policy.act(obs, memory, DETERMINISTIC_EVALUATION)
    acting = [inputs for module, inputs in seen if module is agent.levels[0].policy][0]
    np.testing.assert_allclose(acting[:, -2:], [[1.0, -1.0], [0.0, -2.0]], atol=1e-5)
    seen.clear()
    batch = agent.level_batch(0)
    agent.level_batch = lambda level: batch
    agent.level_step(0)
    q_inputs = [inputs for module, inputs in seen if module is agent.levels[0].q1][0]
    next_inputs = [inputs for module, inputs in seen if module is agent.levels[0].v_target][0]
    expected = (batch["goals"] - batch["obs"][:, :2]) / 0.1
    np.testing.assert_allclose(q_inputs[:, 4:6], expected, atol=1e-4)
    np.testing.assert_allclose(next_inputs[:, -2:], (batch["goals"] - batch["next_obs"][:, :2]) / 0.1, atol=1e-4)


def _random_reach_episodes(env, episodes: int, steps: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Observations ``[E, T + 1, 39]`` and uniform random actions ``[E, T, 4]`` on MetaWorld reach."""
    observations, actions = [], []
    for _ in range(episodes):
        obs, _ = env.reset()
        episode_obs, episode_actions = [obs], rng.uniform(-1, 1, (steps, 4)).astype(np.float32)
        for action in episode_actions:
            episode_obs.append(env.step(action)[0])
        observations.append(episode_obs)
        actions.append(episode_actions)
    return np.array(observations, np.float32), np.array(actions)


@pytest.mark.parametrize("goal_input, moves_towards_the_goal", [("absolute", False), ("offset", True)])
def test_level0_learns_to_move_the_hand_towards_a_goal_on_metaworld_only_from_offsets(goal_input,
                                                                                     moves_towards_the_goal):
    """Level 0 trained on hindsight goals from random reach-v3 episodes (HER, every goal relabelled,
    1 cm threshold), then asked for a goal 4 cm (per axis at most) from the hand: with the goal read
    as an offset in threshold units its 10 deterministic steps close most of the distance; with the
    goal's absolute position in metres (a few hundredths of an input unit from the hand's) it does
    not move towards it (docs/peach.md, fifth round)."""
    suite = build_suite("ml1:reach-v3", benchmark_seed=0, episode_length=100)
    env = suite.make_env("reach-v3/train")
    suite.set_variant(env, "reach-v3/train", 0)
    rng = np.random.default_rng(0)
    observations, actions = _random_reach_episodes(env, 60, 100, rng)
    config = load_peach_config(CONFIG_PATH)
    config = dataclasses.replace(
        config, goal_input=goal_input, goal_threshold=0.01, relabel_fraction=1.0, replay_capacity=6000,
        lower_sac=dataclasses.replace(config.lower_sac, hidden_sizes=(128, 128)),
        sac=dataclasses.replace(config.sac, hidden_sizes=(32,)), encoder_hidden=(32,))
    agent = PEACHAgent(suite.spec, config, seed=0)
    agent.replay.add_trial(0, observations, actions, np.zeros((60, 100), np.float32),
                           np.zeros((60, 100, 1, 4), np.float32), np.zeros((60, 100, 1), bool), np.ones(60, bool))
    for _ in range(3000):
        agent.level_step(0)
    remaining = remaining_distance(agent, env, rng)
    assert (np.median(remaining) < 0.6) == moves_towards_the_goal, np.round(remaining, 2)


def test_intermediate_level_uses_hindsight_actions_and_the_penalty_of_its_own_period():
    agent = _hand_made_replay(levels=3, subgoal_periods=(6, 3), tested=True, relabel_fraction=0.0)
    batch = agent.replay.level_transitions(1, 400, np.random.default_rng(0))
    t, penalised = _by_start(batch, 3), batch["rewards"] == -2.0  # -H, H = 6 / 3 steps per attempt
    end = np.minimum(t + 3, 7)
    assert not penalised[t != 3].any() and penalised[t == 3].any()
    hindsight = (0.1 * end + 1.5) / 3 * 2 - 1
    np.testing.assert_allclose(batch["actions"][~penalised, 0], hindsight[~penalised], atol=1e-6)
    np.testing.assert_array_equal(batch["terminated"][penalised], True)


# ---------------------------------------------------------------------------------------- update
def _parameters(*modules):
    return [p.detach().clone() for module in modules for p in module.parameters()]


def _unchanged(before, modules):
    return all(torch.equal(a, b) for a, b in zip(before, _parameters(*modules), strict=True))


def test_the_encoder_learns_only_from_the_top_critic_and_the_kl():
    agent = _filled_agent()
    batch, context = agent.top_batch()
    mean, variance = agent.encoder.posterior(context)
    z = mean + variance.sqrt() * torch.randn(mean.shape)
    critic, actor, following = latent_sac_inputs(batch, z)
    top = agent.top
    sample = top.policy.rsample(actor, torch.Generator().manual_seed(0))
    min_q = top.min_q(actor, sample.action)
    encoder = list(agent.encoder.parameters())

    def reaches_encoder(loss):
        grads = torch.autograd.grad(loss, encoder, retain_graph=True, allow_unused=True)
        return any(g is not None and g.abs().sum() > 0 for g in grads)

    actions, rewards = batch["actions"].reshape(-1, 2), batch["rewards"].reshape(-1)
    target = bellman_target(rewards, top.v_target(following), 0.99, 5.0)
    assert reaches_encoder(twin_q_loss(top.q1(critic, actions), top.q2(critic, actions), target))
    assert reaches_encoder(agent.config.kl_lambda * (mean.pow(2) + variance).sum())
    assert not reaches_encoder(policy_loss(sample, min_q, agent.config.sac))
    assert not reaches_encoder(value_loss(top.v(actor), min_q, sample.log_prob))


def test_lower_levels_touch_neither_the_encoder_nor_the_top_and_the_top_leaves_them_alone():
    agent = _filled_agent()
    top = agent.top
    top_and_encoder = (agent.encoder, top.q1, top.q2, top.v, top.v_target, top.policy)
    before = _parameters(*top_and_encoder)
    stats = agent.level_step(0)
    assert _unchanged(before, top_and_encoder) and torch.isfinite(stats["level0_q_loss"])
    lower = (agent.levels[0].q1, agent.levels[0].q2, agent.levels[0].v, agent.levels[0].policy)
    before_lower = _parameters(*lower)
    agent.top_step()
    assert _unchanged(before_lower, lower) and not _unchanged(before, top_and_encoder)


def test_update_logs_every_loss_and_is_reproducible():
    first, second = _filled_agent(), _filled_agent()
    stats = [step_floats(agent.gradient_step()) for agent in (first, second)]
    assert stats[0] == stats[1] and LOSS_TERMS <= set(stats[0])
    assert all(np.isfinite(value) for value in stats[0].values())


def test_restored_agent_continues_exactly():
    agent = _filled_agent(seed=3)
    agent.gradient_step()
    state = agent.state_dict()
    restored = _filled_agent(seed=9)  # different weights, buffer and random streams
    stream = io.BytesIO()
    torch.save(state, stream)  # as the trainer's checkpoint does
    stream.seek(0)
    restored.load_state_dict(torch.load(stream, weights_only=False, map_location="cpu"))
    assert step_floats(restored.gradient_step()) == step_floats(agent.gradient_step())
    obs = np.ones((2, 4), np.float32)
    acted = [a.policy.act(obs, a.policy.start_episode(a.policy.initial_memory(2), True), TRAINING)[0]
             for a in (agent, restored)]
    np.testing.assert_array_equal(*acted)  # the acting stream was restored too


# ---------------------------------------------------------------------------------------- acting
def test_prior_then_posterior_z_and_subgoals_that_change_only_at_their_period():
    suite = PointRobotSuite(episode_length=8)
    agent = PEACHAgent(suite.spec, _small(levels=3, subgoal_periods=(4, 2)), seed=0)
    trials = [Trial("point-goal", 3, 3), Trial("point-goal", 40, 3)]
    with ParallelSampler(suite, num_workers=1, pipeline_groups=1) as sampler:
        training = sampler.collect(agent.policy, trials)
        evaluation = sampler.collect(agent.policy, trials, DETERMINISTIC_EVALUATION)
    np.testing.assert_array_equal(training.extras["prior_z"][0, :, 0], [True, True, False])
    np.testing.assert_array_equal(evaluation.extras["prior_z"][0, :, 0], [True, False, False])
    z = training.extras["z"]
    assert (z == z[:, :, :1]).all() and not np.allclose(z[0, 2, 0], z[1, 2, 0])
    subgoals = training.extras["subgoals"]  # [trial, episode, t, level, 2]
    changes = (subgoals[:, :, 1:] != subgoals[:, :, :-1]).any(-1).any((0, 1))  # [t - 1, level]
    np.testing.assert_array_equal(np.flatnonzero(changes[:, 0]) + 1, [2, 4, 6])  # level 0's goal every 2
    np.testing.assert_array_equal(np.flatnonzero(changes[:, 1]) + 1, [4])  # level 1's goal every 4
    assert (np.abs(subgoals) <= 1.5).all()
    agent.config = dataclasses.replace(agent.config, gradient_steps=2)
    stats = agent.update(training, 0)
    assert {"level1_q_loss", "level1_reward"} <= set(stats) and stats["buffer_episodes"] == 6


def test_deterministic_acting_draws_nothing_and_a_new_trial_resets_the_belief():
    suite = PointRobotSuite(episode_length=5)
    agent = PEACHAgent(suite.spec, _small(), seed=0)
    policy = agent.policy
    memory = policy.start_episode(policy.initial_memory(2), first_in_trial=True)
    obs = np.zeros((2, 4), np.float32)
    streams = (agent.act_generator.get_state().clone(), agent.update_generator.get_state().clone(),
               torch.random.get_rng_state().clone(), agent.sample_rng.bit_generator.state)
    action, extras, memory = policy.act(obs, memory, DETERMINISTIC_EVALUATION)
    assert torch.equal(agent.act_generator.get_state(), streams[0])
    assert torch.equal(agent.update_generator.get_state(), streams[1])
    assert torch.equal(torch.random.get_rng_state(), streams[2])
    assert agent.sample_rng.bit_generator.state == streams[3]
    again, extras_again, _ = policy.act(obs, policy.start_episode(policy.initial_memory(2), True), DETERMINISTIC_EVALUATION)
    np.testing.assert_array_equal(action, again)  # same weights, same evaluation numbers
    np.testing.assert_array_equal(extras["subgoals"], extras_again["subgoals"])
    memory = policy.observe(memory, Transition(obs, action, np.ones(2), obs))
    assert (memory.context.belief.count == 1).all() and (memory.step == 1).all()
    following = policy.start_episode(memory, first_in_trial=False)
    assert (following.context.belief.count == 1).all() and (following.step == 0).all()
    assert following.context.z_due.all()
    fresh = policy.start_episode(memory, first_in_trial=True)
    assert (fresh.context.belief.count == 0).all() and (fresh.context.episode == 0).all()


# ---------------------------------------------------------------------------------------- runs
def test_learns_the_point_robot_well_above_random(tmp_path):
    suite = PointRobotSuite(episode_length=20)
    config = _small()
    paths = run_training(tmp_path, "peach", suite, lambda: PEACHAgent(suite.spec, config, seed=0),
                         iterations=10, episodes_per_task=8, eval_variants=10, eval_interval=10,
                         checkpoint_interval=100)
    evaluation = pd.read_csv(paths.evaluation).groupby("iteration")["return"].mean()
    print(f"point robot eval return: untrained {evaluation[0]:.3f}, trained {evaluation[10]:.3f}")
    # the untrained hierarchy (iteration 0) stays near the origin: ~0 return over 20 steps
    assert evaluation[0] < 0.5
    assert evaluation[10] > evaluation[0] + 2.0


def test_short_ml10_run_logs_everything_and_resumes_to_the_same_numbers(tmp_path):
    config = dataclasses.replace(load_peach_config(CONFIG_PATH), gradient_steps=5, meta_batch_size=4,
                                 batch_size=32, lower_batch_size=32, embedding_batch_size=16,
                                 prior_episodes=1, replay_capacity=3000)
    sac_terms = {"q_loss", "v_loss", "policy_loss", "q_mean", "v_mean", "q_target_mean", "log_pi",
                 "policy_std"}
    terms = LOSS_TERMS | {f"{level}_{term}" for level in ("top", "level0") for term in sac_terms}
    log, evaluation = assert_short_ml10_run_resumes(
        tmp_path, lambda spec: PEACHAgent(spec, config, seed=1), terms)
    assert list(log["buffer_episodes"]) == [20, 40, 60]
    assert evaluation["return"].notna().all()


def test_peach_composes_shared_pieces_and_uses_no_pearl_code():
    """A change inside PEARL must not silently change PEACH: PEACH imports nothing from
    ``algorithms.pearl`` and none of its attributes is a PEARL function."""
    import ast
    import inspect
    from pathlib import Path

    import algorithms.peach.agent
    import algorithms.peach.policy
    from algorithms.pearl.agent import PEARLAgent, PEARLPolicy

    for path in sorted(Path(algorithms.peach.agent.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("algorithms.pearl"), f"{path.name} imports {node.module}"
    pearl = {id(member) for cls in (PEARLAgent, PEARLPolicy) for _, member in inspect.getmembers(cls)}
    for cls in (algorithms.peach.agent.PEACHAgent, algorithms.peach.policy.PEACHPolicy):
        borrowed = [name for name, member in vars(cls).items() if id(member) in pearl and callable(member)]
        assert not borrowed, f"{cls.__name__} borrows PEARL's {borrowed}"
