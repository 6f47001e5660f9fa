"""The goal probe (analysis/goal_probe.py): its statistics by hand, the goals it reads against MetaWorld's
variant vectors, and a run end to end for PEARL and PEACH from a real checkpoint of ML1 reach-v3."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from analysis.goal_probe import goal_reader, leave_one_out_r2, mean_cosine, probe, task_goals
from envs.benchmarks import build_suite
from envs.policy import TRAINING
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule

BENCHMARK = "ml1:reach-v3"


def test_leave_one_out_r2_is_one_for_a_linear_code_and_not_above_chance_for_noise():
    rng = np.random.default_rng(0)
    goals = rng.normal(size=(40, 3))
    code = goals @ rng.normal(size=(3, 7)) + 0.01 * rng.normal(size=(40, 7))
    assert leave_one_out_r2(code, goals) == pytest.approx(np.ones(3), abs=1e-3)
    assert (leave_one_out_r2(rng.normal(size=(40, 7)), goals) < 0.2).all()
    # one feature, hand check: y = 2x + 1 exactly, so every held-out row is predicted exactly
    x = np.arange(5.0)[:, None]
    assert leave_one_out_r2(x, 2 * x + 1, ridge=0.0) == pytest.approx([1.0])


def test_mean_cosine_by_hand():
    moves = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 0]])
    directions = np.array([[2.0, 0, 0], [0, -3.0, 0], [1.0, 0, 0]])
    assert mean_cosine(moves, directions) == pytest.approx((1 - 1 + 0) / 3)


def test_task_goals_are_the_goal_part_of_reachs_variant_vector():
    suite = build_suite(BENCHMARK, benchmark_seed=0, episode_length=20)
    names = ["reach-v3/train/0", "reach-v3/train/7", "reach-v3/test/3"]
    expected = [suite.rand_vec(name.rsplit("/", 1)[0], int(name.rsplit("/", 1)[1]))[3:6] for name in names]
    np.testing.assert_allclose(task_goals(suite, names), expected)


def _run(tmp_path, method: str, values: dict) -> tuple:
    """A real checkpoint and manifest: the method's agent after one iteration of ML1 reach-v3."""
    from algorithms.registry import load_method, method_from_values

    suite = build_suite(BENCHMARK, benchmark_seed=0, episode_length=20)
    values = {**load_method(method).values, **values}
    agent = method_from_values(method, values, "test").build_agent(suite.spec, 0, torch.device("cpu"))
    schedule = TaskSchedule(suite, 0, episodes_per_task=2, trials_per_class=6)
    with ParallelSampler(suite, num_workers=1) as sampler:
        agent.update(sampler.collect(agent.policy, schedule.training_trials(0), TRAINING), 0)
    run_dir = tmp_path / "results" / method / "run"
    run_dir.mkdir(parents=True)
    job = {"method": method, "seed": 0, "benchmark": BENCHMARK, "benchmark_seed": 0, "episode_length": 20,
           "method_values": values}
    (run_dir / "manifest.json").write_text(json.dumps({"config": job}))
    checkpoint = tmp_path / "agent.pt"
    torch.save({"agent": agent.state_dict()}, checkpoint)
    return run_dir, checkpoint, agent


SMALL = {"gradient_steps": 2, "meta_batch_size": 2, "batch_size": 8, "embedding_batch_size": 8,
         "prior_episodes": 1}


@pytest.mark.parametrize("method, extra", [("pearl", {}), ("peach", {"lower_batch_size": 8})])
def test_probe_reads_a_real_checkpoint_of_pearl_and_peach(tmp_path, method, extra):
    run_dir, checkpoint, agent = _run(tmp_path, method, {**SMALL, **extra})
    result = probe(run_dir, checkpoint)
    assert result["tasks"] == 6 and result["z_r2"].shape == (3,)
    for key in ("policy_cosine", "policy_cosine_other_z", "critic_cosine"):
        assert -1.0 <= result[key] <= 1.0
    assert result["q_spread"] >= 0.0
    # PEACH's axis moves are subgoals 5 cm from the hand: the proposal they map to is that subgoal
    reader = goal_reader(method, agent)
    obs = reader.buffer.observations[0, :3]
    axis = np.float32([0.0, 1.0, 0.0])
    move = reader.move(reader.axis_action(axis, obs), obs)
    expected = 0.05 * axis if method == "peach" else axis
    np.testing.assert_allclose(move, np.repeat(expected[None], 3, 0), atol=1e-5)


def test_probe_refuses_a_method_without_z():
    with pytest.raises(ValueError, match="reads PEARL and PEACH runs"):
        goal_reader("sd", object())
