"""The cost model behind benchmarks/sampler_scaling.py and benchmarks/study_cost.py (docs/performance.md)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from algorithms.probe import ProbePolicy
from envs.point_robot import PointRobotSuite
from envs.sampler import ParallelSampler
from envs.schedule import Trial

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # the scripts import each other as run from there

from sampler_scaling import (  # noqa: E402
    acting_seconds_per_step, in_flight_ceiling, method_layout, node_groups_for_workers, projected_rate,
    rate_with_workers, scaled_groups,
)
from study_cost import profile_limits  # noqa: E402


def test_projected_rate_is_the_tightest_of_physics_acting_and_total_cpu():
    p, act = 300e-6, 100e-6
    # 2 cores: workers 2/p = 6,667, main 1/act = 10,000, total 2/(p + act) = 5,000 -> the CPU bound
    assert projected_rate(2, 4, p, act) == pytest.approx(5000.0)
    # 16 cores, 4 groups: 4 workers step 13,333, the main process acts 10,000 -> acting binds
    assert projected_rate(16, 4, p, act) == pytest.approx(10000.0)
    # free acting: only the 4 workers bind, however many cores
    assert projected_rate(32, 4, p, 1e-9) == pytest.approx(4 / p)


def test_acting_in_the_workers_adds_act_to_every_worker_and_frees_the_main_process():
    p, act = 300e-6, 100e-6
    # 16 cores, 4 groups: 4 workers each step and act, 1 / (p + act) = 2,500 steps/s apiece
    assert projected_rate(16, 4, p, act, "workers") == pytest.approx(10000.0)
    # 16 cores, 50 groups: 16 workers (the main process only waits); no serial bound at 1 / act
    assert projected_rate(16, 50, p, act, "workers") == pytest.approx(16 / (p + act))
    assert projected_rate(16, 50, p, act, "main") == pytest.approx(1 / act)
    assert scaled_groups(16, 50, "workers") == 16 and scaled_groups(16, 50, "main") == 30
    assert scaled_groups(16, 10, "workers") == 10  # a trial-memory collection: one slot per trial


def test_a_measurement_with_w_workers_is_modelled_as_a_node_with_one_more_core():
    p, act = 300e-6, 100e-6
    # 15 workers, 15 groups, acting in the workers: all 15 step and act
    assert rate_with_workers(15, 15, p, act, "workers") == pytest.approx(15 / (p + act))
    # ... with the paper's 4 groups only 4 of them have work
    assert rate_with_workers(15, 4, p, act, "workers") == pytest.approx(4 / (p + act))
    # acting in the main process on its own (16th) core: the serial 1 / act binds before 16 / (p + act)
    assert rate_with_workers(15, 30, p, act, "main") == pytest.approx(1 / act)
    assert rate_with_workers(15, 30, p, 1e-9, "main") == pytest.approx(15 / p)
    assert node_groups_for_workers(15, 50, "workers") == 15 and node_groups_for_workers(15, 50, "main") == 30
    assert node_groups_for_workers(15, 10, "main") == 10  # a trial-memory collection: one slot per trial


def test_the_in_flight_ceiling_bounds_every_projection_of_a_trial_memory_collection():
    # the paper's 10 trials (one env each) on a 16-core node: 10 of the limit's 15 cores at most
    assert in_flight_ceiling(16, 10) == pytest.approx(10 / 15)
    assert in_flight_ceiling(32, 10) == pytest.approx(10 / 31)
    assert in_flight_ceiling(8, 10) == pytest.approx(8 / 7)  # acting in the workers uses all 8 cores
    assert in_flight_ceiling(16, 50) == pytest.approx(16 / 15)
    p = 300e-6
    for cores in (8, 16, 32):
        for acting in ("main", "workers"):
            free_acting = projected_rate(cores, scaled_groups(cores, 10, acting), p, 1e-9, acting)
            assert free_acting * p / (cores - 1) <= in_flight_ceiling(cores, 10) + 1e-6


def test_a_job_acting_in_its_workers_needs_no_core_for_the_main_process():
    assert ParallelSampler.cpus_used(0 or 4, 50, 4, "workers") == 4
    assert ParallelSampler.cpus_used(4, 50, 4, "main") == 5
    assert ParallelSampler.cpus_used(16, 10, 16, "workers") == 10  # never more workers than slots


def test_layout_follows_the_memory_scope():
    suite = PointRobotSuite()
    trials = [Trial("point", variant, episodes=5) for variant in range(10)]
    episode = ProbePolicy(suite.spec, seed=0, memory_scope="episode")
    trial = ProbePolicy(suite.spec, seed=0, memory_scope="trial")
    assert method_layout(episode, trials, 4) == (50, 4)  # every episode in its own slot
    assert method_layout(trial, trials, 4) == (10, 4)  # a trial's episodes in sequence in one slot
    assert method_layout(trial, trials[:3], 4) == (3, 3)  # never more groups than slots


def test_acting_cost_is_measured_per_env_step():
    suite = PointRobotSuite()
    policy = ProbePolicy(suite.spec, seed=0, recurrent=True)
    seconds = acting_seconds_per_step(policy, 8, suite.spec.obs_dim, suite.spec.episode_length)
    assert math.isfinite(seconds) and 0 < seconds < 0.01


def test_profile_limits_read_the_train_rule_and_retries():
    assert profile_limits(REPO / "profiles" / "default" / "config.yaml") == (48.0, 4)
