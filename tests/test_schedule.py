"""The seeded task schedule: identical for equal seeds, different across seeds and iterations."""

from __future__ import annotations

import numpy as np
import pytest

from envs.schedule import TaskSchedule, Trial


def _variants(schedule: TaskSchedule, iterations: int) -> np.ndarray:
    return np.array([[t.variant for t in schedule.training_trials(i)] for i in range(iterations)])


def test_same_seed_same_schedule(ml10):
    a, b = TaskSchedule(ml10, run_seed=3, episodes_per_task=5), TaskSchedule(ml10, 3, 5)
    assert a.training_trials(17) == b.training_trials(17)
    np.testing.assert_array_equal(_variants(a, 30), _variants(b, 30))


def test_schedule_differs_across_seeds_and_iterations(ml10):
    seed3, seed4 = _variants(TaskSchedule(ml10, 3, 5), 30), _variants(TaskSchedule(ml10, 4, 5), 30)
    assert (seed3 != seed4).mean() > 0.8  # 1/50 chance of a coincidence per entry
    assert len({tuple(row) for row in seed3}) == 30  # every iteration draws anew


def test_trials_cover_every_train_class_in_order(ml10):
    trials = TaskSchedule(ml10, 0, 5).training_trials(0)
    assert [t.class_name for t in trials] == list(ml10.train_classes)
    assert all(t.episodes == 5 and 0 <= t.variant < 50 for t in trials)


def test_variants_are_spread_over_all_fifty(ml10):
    counts = np.bincount(_variants(TaskSchedule(ml10, 0, 5), 500).ravel(), minlength=50)
    assert (counts > 0).all()  # 5000 draws: every variant appears


def test_schedule_does_not_depend_on_episode_count(ml10):
    """A method's trial length never changes which variants it sees."""
    short, long = TaskSchedule(ml10, 9, 1), TaskSchedule(ml10, 9, 5)
    assert [t.variant for t in short.training_trials(4)] == [t.variant for t in long.training_trials(4)]


def test_evaluation_variants_are_fixed_distinct_and_sorted(ml10):
    schedule = TaskSchedule(ml10, 2, 5)
    first = schedule.evaluation_variants("lever-pull-v3", 10)
    assert first == TaskSchedule(ml10, 2, 1).evaluation_variants("lever-pull-v3", 10)
    assert first == sorted(set(first)) and len(first) == 10
    trials = schedule.evaluation_trials(ml10.test_classes, 3, 2)
    assert len(trials) == 15 and all(isinstance(t, Trial) and t.episodes == 2 for t in trials)


def test_bad_arguments_are_rejected(ml10):
    with pytest.raises(ValueError, match="episodes_per_task"):
        TaskSchedule(ml10, 0, 0)
    with pytest.raises(ValueError, match="run_seed"):
        TaskSchedule(ml10, -1, 5)
    with pytest.raises(ValueError, match="variants per class"):
        TaskSchedule(ml10, 0, 5).evaluation_variants("reach-v3", 51)
    with pytest.raises(ValueError, match="at least one episode"):
        Trial("reach-v3", 0, 0)
