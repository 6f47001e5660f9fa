"""ML1 suites, benchmark names and the per-split task cache (real metaworld 3.1.1; ML45: test_ml45.py)."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from envs.benchmarks import benchmark_tasks, build_suite, metaworld_classes, parse_benchmark
from envs.ml10 import ML10_TEST_CLASSES, ML10_TRAIN_CLASSES, ML10Suite
from envs.task_cache import cached_tasks

ML1 = "ml1:reach-v3"
SHORT = 20


@pytest.fixture(scope="module")
def ml1():
    return build_suite(ML1, benchmark_seed=0, episode_length=SHORT)


def _rand_vecs(suite, key: str) -> np.ndarray:
    return np.stack([suite.rand_vec(key, v) for v in range(suite.variants_per_class)])


def test_benchmark_names_are_validated_without_building_envs():
    start = time.perf_counter()
    assert benchmark_tasks("ml10") == {"train": ML10_TRAIN_CLASSES, "test": ML10_TEST_CLASSES}
    assert benchmark_tasks(ML1) == {"train": ("reach-v3/train",), "test": ("reach-v3/test",)}
    tasks = benchmark_tasks("ml45")
    assert len(tasks["train"]) == 45 and len(tasks["test"]) == 5
    assert time.perf_counter() - start < 5  # class lists only: metaworld.ML10() alone takes ~8 s
    assert len(metaworld_classes()) == 50 and "reach-v3" in metaworld_classes()


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown MetaWorld class 'reach-v2'") as error:
        parse_benchmark("ml1:reach-v2")
    assert "reach-v3" in str(error.value) and "window-close-v3" in str(error.value)
    with pytest.raises(ValueError, match="unknown benchmark 'ml25'") as error:
        parse_benchmark("ml25")
    assert "ml10, ml45, ml1:<class>" in str(error.value)
    with pytest.raises(ValueError, match="unknown benchmark"):
        parse_benchmark("ML10")


def test_ml1_has_one_class_with_fifty_distinct_variants_per_split(ml1):
    assert ml1.train_classes == ("reach-v3/train",) and ml1.test_classes == ("reach-v3/test",)
    assert ml1.variants_per_class == 50 and ml1.name == "ML1 reach-v3"
    train, test = _rand_vecs(ml1, "reach-v3/train"), _rand_vecs(ml1, "reach-v3/test")
    assert len(np.unique(train, axis=0)) == 50 and len(np.unique(test, axis=0)) == 50
    assert len(np.unique(np.concatenate([train, test]), axis=0)) == 100  # the splits differ


def test_ml1_splits_are_exactly_metaworld_ml1_train_and_test_tasks(ml1):
    import metaworld

    built = metaworld.ML1("reach-v3", seed=0)
    for split, tasks in (("train", built.train_tasks), ("test", built.test_tasks)):
        assert [ml1.task(f"reach-v3/{split}", v).data for v in range(50)] == [t.data for t in tasks]


def test_ml1_seed_fixes_the_variants(ml1):
    same = build_suite(ML1, benchmark_seed=0, episode_length=5)
    other = build_suite(ML1, benchmark_seed=1, episode_length=SHORT)
    for key in ("reach-v3/train", "reach-v3/test"):
        np.testing.assert_array_equal(_rand_vecs(ml1, key), _rand_vecs(same, key))
        assert not np.isclose(_rand_vecs(ml1, key), _rand_vecs(other, key)).all(axis=1).any()


def test_ml1_envs_hide_the_goal_and_follow_the_split(ml1):
    for key in ("reach-v3/train", "reach-v3/test"):
        env = ml1.make_env(key)
        ml1.set_variant(env, key, 4)
        obs, _ = env.reset()
        np.testing.assert_array_equal(obs[36:39], 0.0)
        obs, *_ = env.step(np.zeros(4))
        np.testing.assert_array_equal(obs[36:39], 0.0)
        np.testing.assert_allclose(env._target_pos, ml1.rand_vec(key, 4)[-3:])  # reach's goal
    with pytest.raises(KeyError, match="not an ML1 reach-v3 class.*reach-v3/train"):
        ml1.make_env("reach-v3")


def test_goal_observable_ml1_exposes_the_goal():
    suite = build_suite(ML1, benchmark_seed=0, episode_length=5, goal_observable=True)
    env = suite.make_env("reach-v3/test")
    suite.set_variant(env, "reach-v3/test", 0)
    env.reset()
    obs, *_ = env.step(np.zeros(4))
    np.testing.assert_allclose(obs[36:39], suite.rand_vec("reach-v3/test", 0)[-3:])


def test_ml10_from_the_factory_is_the_ml10_suite():
    ml10 = ML10Suite(benchmark_seed=0, episode_length=SHORT)
    built = build_suite("ml10", benchmark_seed=0, episode_length=SHORT)
    assert (built.name, built.train_classes, built.test_classes) == ("ML10", ML10_TRAIN_CLASSES,
                                                                     ML10_TEST_CLASSES)
    np.testing.assert_array_equal(built.rand_vec("basketball-v3", 9), ml10.rand_vec("basketball-v3", 9))


def test_sampler_and_evaluation_run_an_ml1_suite_end_to_end(ml1):
    from algorithms.uniform_random import UniformRandomPolicy
    from envs.evaluation import EvaluationConfig, evaluate
    from envs.sampler import ParallelSampler
    from envs.schedule import TaskSchedule

    schedule = TaskSchedule(ml1, run_seed=0, episodes_per_task=2, trials_per_class=3)
    trials = schedule.training_trials(0)
    assert [t.class_name for t in trials] == ["reach-v3/train"] * 3
    with ParallelSampler(ml1, num_workers=2, max_slots=8) as sampler:
        rollout = sampler.collect(UniformRandomPolicy(ml1.spec, seed=0), trials)
        result = evaluate(UniformRandomPolicy(ml1.spec, seed=1), sampler, schedule,
                          EvaluationConfig(variants_per_class=2, episodes_per_variant=1),
                          iteration=0, env_steps=rollout.env_steps, wall_time=0.0)
    assert rollout.observations.shape == (3, 2, SHORT + 1, 39)
    np.testing.assert_array_equal(rollout.observations[..., 36:39], 0.0)
    for i, trial in enumerate(trials):  # each slot played the variant the schedule named
        env = ml1.make_env(trial.class_name)
        ml1.set_variant(env, trial.class_name, trial.variant)
        np.testing.assert_array_equal(rollout.observations[i, 0, 0], env.reset()[0].astype(np.float32))
    assert list(zip(result.tasks["split"], result.tasks["task"])) == [
        ("train", "reach-v3/train"), ("test", "reach-v3/test")]
    assert (result.tasks["episodes"] == 2).all()


def test_task_cache_returns_what_was_built_and_rebuilds_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ML10_HARNESS_CACHE", str(tmp_path))
    benchmark = parse_benchmark("ml1:window-close-v3")
    calls = []

    def build():
        calls.append(1)
        return benchmark.build_tasks(3)

    built = cached_tasks(benchmark.slug, 3, build)
    [cache] = tmp_path.glob("ml1-window-close-v3_splits_seed3_metaworld*.pkl")
    cached = cached_tasks(benchmark.slug, 3, build)
    assert len(calls) == 1
    assert {s: [t.data for t in ts] for s, ts in cached.items()} == {
        s: [t.data for t in ts] for s, ts in built.items()}
    assert len(built["train"]) == len(built["test"]) == 50
    for corrupt in (b"not a pickle", pickle.dumps(built["train"])):  # garbage, old format
        cache.write_bytes(corrupt)
        rebuilt = cached_tasks(benchmark.slug, 3, build)
        assert [t.data for t in rebuilt["test"]] == [t.data for t in built["test"]]
        assert cache.read_bytes() != corrupt
    assert len(calls) == 3
