"""Shared fixtures: real ML10 suites (the ~8 s ``metaworld.ML10`` build is cached per process)."""

from __future__ import annotations

import pytest

from envs.ml10 import ML10Suite

BENCHMARK_SEED = 0
SHORT_EPISODE = 40  # steps; long enough for real contacts, short enough for a fast suite of tests


@pytest.fixture(scope="session")
def ml10() -> ML10Suite:
    return ML10Suite(benchmark_seed=BENCHMARK_SEED)


@pytest.fixture(scope="session")
def ml10_short() -> ML10Suite:
    return ML10Suite(benchmark_seed=BENCHMARK_SEED, episode_length=SHORT_EPISODE)
