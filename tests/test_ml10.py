"""Facts about the ML10 suite that the rest of the harness relies on (real metaworld 3.1.1)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.ml10 import EGO_STATE_INDICES, ML10_TEST_CLASSES, ML10_TRAIN_CLASSES, ML10Suite


def test_class_lists_match_metaworld(ml10):
    from metaworld.env_dict import ML10_V3

    assert ml10.train_classes == tuple(ML10_V3["train"]) == ML10_TRAIN_CLASSES
    assert ml10.test_classes == tuple(ML10_V3["test"]) == ML10_TEST_CLASSES
    assert len(ml10.train_classes) == 10 and len(ml10.test_classes) == 5


def test_fifty_distinct_variants_per_class(ml10):
    for name in ml10.train_classes + ml10.test_classes:
        vectors = np.stack([ml10.rand_vec(name, v) for v in range(ml10.variants_per_class)])
        assert vectors.shape[0] == 50
        assert len(np.unique(vectors, axis=0)) == 50


def test_benchmark_seed_fixes_the_variants(ml10):
    other_seed = ML10Suite(benchmark_seed=1, episode_length=10)
    np.testing.assert_array_equal(ml10.rand_vec("reach-v3", 7), ML10Suite(0).rand_vec("reach-v3", 7))
    assert not np.allclose(ml10.rand_vec("reach-v3", 7), other_seed.rand_vec("reach-v3", 7))


def test_observation_layout_and_ego_state(ml10):
    env = ml10.make_env("reach-v3")
    ml10.set_variant(env, "reach-v3", 3)
    obs, _ = env.reset()
    assert obs.shape == (39,)
    np.testing.assert_allclose(obs[0:3], env.get_endeff_pos())
    np.testing.assert_array_equal(obs[18:36], obs[0:18])  # previous frame equals current at reset
    np.testing.assert_array_equal(obs[36:39], 0.0)  # ML10 hides the goal
    first = obs.copy()
    obs, *_ = env.step(np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_allclose(obs[18:22], first[0:4])  # previous-frame ego copy
    assert obs[0] > first[0]  # the hand moved along +x
    assert EGO_STATE_INDICES == (0, 1, 2, 3, 18, 19, 20, 21)
    assert ml10.spec.ego_indices == EGO_STATE_INDICES


def test_variant_fixes_the_reset_state(ml10):
    env = ml10.make_env("push-v3")
    ml10.set_variant(env, "push-v3", 0)
    a, _ = env.reset()
    env.step(np.ones(4))
    b, _ = env.reset()
    np.testing.assert_array_equal(a, b)
    ml10.set_variant(env, "push-v3", 1)
    c, _ = env.reset()
    assert not np.array_equal(a[4:7], c[4:7])  # a different object placement


def test_goal_observable_oracle_suite_exposes_the_goal():
    suite = ML10Suite(benchmark_seed=0, episode_length=5, goal_observable=True)
    env = suite.make_env("reach-v3")
    suite.set_variant(env, "reach-v3", 0)
    env.reset()
    obs, *_ = env.step(np.zeros(4))
    np.testing.assert_allclose(obs[36:39], suite.rand_vec("reach-v3", 0)[-3:])


def test_bad_episode_length_and_unknown_names(ml10):
    with pytest.raises(ValueError, match="episode_length"):
        ML10Suite(benchmark_seed=0, episode_length=501)
    with pytest.raises(KeyError, match="not an ML10 class"):
        ml10.task("reach-v2", 0)
    with pytest.raises(IndexError, match="variant 50"):
        ml10.task("reach-v3", 50)


def test_task_cache_holds_exactly_what_metaworld_ml10_built(tmp_path, monkeypatch):
    from envs.benchmarks import parse_benchmark
    from envs.task_cache import cached_tasks

    monkeypatch.setenv("ML10_HARNESS_CACHE", str(tmp_path))
    benchmark = parse_benchmark("ml10")
    built = cached_tasks(benchmark.slug, 2, lambda: benchmark.build_tasks(2))
    [cache] = tmp_path.glob("ml10_splits_seed2_metaworld*.pkl")
    cached = cached_tasks(benchmark.slug, 2, lambda: pytest.fail("rebuilt a valid cache"))
    assert {s: [(t.env_name, t.data) for t in ts] for s, ts in cached.items()} == {
        s: [(t.env_name, t.data) for t in ts] for s, ts in built.items()}
    assert len(built["train"]) == 10 * 50 and len(built["test"]) == 5 * 50
    assert [t.env_name for t in built["test"][::50]] == list(ML10_TEST_CLASSES)
