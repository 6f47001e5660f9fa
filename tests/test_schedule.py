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


# Variants of TaskSchedule(ML10, seed, 5).training_trials(iteration), computed with the schedule
# before trials_per_class existed: one trial per class must keep playing exactly these.
_PINNED_ONE_TRIAL = {
    (0, 0): [22, 39, 4, 7, 7, 40, 13, 14, 2, 41],
    (3, 17): [16, 43, 10, 17, 2, 41, 39, 19, 48, 41],
    (7, 123): [42, 11, 32, 32, 39, 8, 45, 35, 20, 48],
}


def test_one_trial_per_class_plays_the_variants_it_always_did(ml10):
    for (seed, iteration), variants in _PINNED_ONE_TRIAL.items():
        for schedule in (TaskSchedule(ml10, seed, 5), TaskSchedule(ml10, seed, 5, trials_per_class=1)):
            assert [t.variant for t in schedule.training_trials(iteration)] == variants


def test_several_trials_per_class_play_distinct_variants_class_major(ml10):
    one, five = TaskSchedule(ml10, 3, 5), TaskSchedule(ml10, 3, 5, trials_per_class=5)
    for iteration in range(100):
        trials = five.training_trials(iteration)
        assert [t.class_name for t in trials] == [c for c in ml10.train_classes for _ in range(5)]
        assert all(t.episodes == 5 for t in trials)
        for k, name in enumerate(ml10.train_classes):
            variants = [t.variant for t in trials[5 * k : 5 * k + 5]]
            assert len(set(variants)) == 5 and all(0 <= v < 50 for v in variants)
            assert variants[0] == one.training_variants(iteration, name)[0]
    # fewer trials are a prefix of more: the draw does not depend on trials_per_class
    three = TaskSchedule(ml10, 3, 5, trials_per_class=3)
    assert three.training_variants(8, "push-v3") == five.training_variants(8, "push-v3")[:3]
    every = TaskSchedule(ml10, 3, 5, trials_per_class=50).training_variants(8, "push-v3")
    assert sorted(every) == list(range(50)) and every != sorted(every)


def test_trials_per_class_beyond_the_variants_is_refused(ml10):
    with pytest.raises(ValueError, match=r"trials_per_class must be in \[1, 50\].*got 51"):
        TaskSchedule(ml10, 0, 5, trials_per_class=51)
    with pytest.raises(ValueError, match="trials_per_class"):
        TaskSchedule(ml10, 0, 5, trials_per_class=0)


def test_fixed_per_run_plays_one_variant_per_class_in_training_and_evaluation(ml10):
    """The HiMeta reference code's protocol: one variant per (run seed, class), train and test classes."""
    fixed = TaskSchedule(ml10, run_seed=3, episodes_per_task=5, task_sampling="fixed_per_run")
    variants = _variants(fixed, 40)
    assert (variants == variants[0]).all()  # the same variant of each class at every iteration
    for trial in fixed.training_trials(0):
        assert fixed.evaluation_variants(trial.class_name, 1) == [trial.variant]
    evaluated = fixed.evaluation_trials(ml10.train_classes + ml10.test_classes, 1, 5)
    assert [t.variant for t in evaluated[:10]] == list(variants[0])
    assert all(0 <= t.variant < 50 and t.episodes == 5 for t in evaluated)
    again = TaskSchedule(ml10, run_seed=3, episodes_per_task=1, task_sampling="fixed_per_run")
    assert [t.variant for t in again.evaluation_trials(ml10.test_classes, 1, 1)] == \
        [t.variant for t in evaluated[10:]]
    others = [TaskSchedule(ml10, seed, 5, task_sampling="fixed_per_run") for seed in range(4, 8)]
    for other in others:  # 15 classes x 1/50 chance each of a coincidence
        played = [t.variant for t in other.evaluation_trials(ml10.train_classes + ml10.test_classes, 1, 1)]
        assert sum(a != b.variant for a, b in zip(played, evaluated)) >= 10


def test_fixed_per_run_refuses_what_it_cannot_play(ml10):
    with pytest.raises(ValueError, match="trials_per_class must be 1"):
        TaskSchedule(ml10, 0, 5, trials_per_class=2, task_sampling="fixed_per_run")
    fixed = TaskSchedule(ml10, 0, 5, task_sampling="fixed_per_run")
    with pytest.raises(ValueError, match="variants_per_class must be 1"):
        fixed.evaluation_trials(ml10.test_classes, 5, 5)
    with pytest.raises(ValueError, match="task_sampling must be one of"):
        TaskSchedule(ml10, 0, 5, task_sampling="per_epoch")
