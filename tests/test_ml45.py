"""The ML45 suite on real metaworld 3.1.1 (one module: building ML45 takes ~30 s, then it is cached)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.benchmarks import build_suite

SHORT = 20


@pytest.fixture(scope="session")
def ml45():
    return build_suite("ml45", benchmark_seed=0, episode_length=SHORT)


def test_class_lists_match_metaworld(ml45):
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS, ML45_V3

    assert ml45.name == "ML45"
    assert ml45.train_classes == tuple(ML45_V3["train"]) and len(ml45.train_classes) == 45
    assert ml45.test_classes == tuple(ML45_V3["test"]) and len(ml45.test_classes) == 5
    assert not set(ml45.train_classes) & set(ml45.test_classes)
    assert set(ml45.train_classes) | set(ml45.test_classes) == set(ALL_V3_ENVIRONMENTS)


def test_fifty_distinct_variants_per_class(ml45):
    for name in ml45.train_classes + ml45.test_classes:
        vectors = np.stack([ml45.rand_vec(name, v) for v in range(ml45.variants_per_class)])
        assert len(np.unique(vectors, axis=0)) == 50, name


def test_seed_fixes_the_variants(ml45):
    """The suite's first train and test class equal metaworld's own draw for that seed, not another's.

    ``metaworld.CustomML`` seeds each split like ML45 does, so a benchmark of just the first class of
    each split reproduces ML45's variants of those classes without rebuilding all 50 classes.
    """
    import metaworld

    first = (ml45.train_classes[0], ml45.test_classes[0])
    for seed, same in ((0, True), (1, False)):
        small = metaworld.CustomML([first[0]], [first[1]], seed=seed)
        for name, tasks in zip(first, (small.train_tasks, small.test_tasks)):
            assert ([ml45.task(name, v).data for v in range(50)] == [t.data for t in tasks]) is same


def test_envs_hide_the_goal_and_truncate(ml45):
    """Every test class and every 9th train class (building all 50 envs would take ~10 s)."""
    for name in ml45.train_classes[::9] + ml45.test_classes:
        env = ml45.make_env(name)
        ml45.set_variant(env, name, 0)
        obs, _ = env.reset()
        assert obs.shape == (39,), name
        np.testing.assert_array_equal(obs[36:39], 0.0, err_msg=name)
        for _ in range(SHORT):
            obs, _, terminated, truncated, _ = env.step(np.zeros(4))
        np.testing.assert_array_equal(obs[36:39], 0.0, err_msg=name)
        assert truncated and not terminated, name
