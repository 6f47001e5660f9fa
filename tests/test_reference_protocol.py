"""``task_sampling: fixed_per_run`` through the real training job of every method: each method trains
and is evaluated on the same single variant per (seed, class), at every iteration."""

from __future__ import annotations

import pandas as pd

from algorithms.registry import METHODS_DIR, merge_values, read_method_file
from algorithms.run_job import run_training_job
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from study.jobs import TrainingJob

METHODS = sorted(path.stem for path in METHODS_DIR.glob("*.yaml"))
SMALL_LEARNER = {  # learner work sized for 10-step episodes; the protocol is untouched
    "pearl": {"gradient_steps": 2, "prior_episodes": 1, "meta_batch_size": 2, "batch_size": 8,
              "embedding_batch_size": 8},
    "peach": {"gradient_steps": 2, "prior_episodes": 1, "meta_batch_size": 2, "batch_size": 8,
              "embedding_batch_size": 8},
    "sd": {"vae_updates": 1}, "sd-table4": {"vae_updates": 1},
    "himeta-cd": {"him_updates": 1}, "himeta-cm": {"him_updates": 1}, "himeta-st": {"him_updates": 1},
}


def _job(method: str, seed: int) -> TrainingJob:
    values = merge_values(read_method_file(METHODS_DIR / f"{method}.yaml"), SMALL_LEARNER.get(method, {}),
                          "test")
    return TrainingJob(
        method=method, method_values=values, seed=seed, benchmark="ml10", benchmark_seed=0,
        episode_length=10, task_sampling="fixed_per_run",
        training={"iterations": 2, "episodes_per_task": 2, "trials_per_class": 1, "eval_interval": 1,
                  "checkpoint_interval": 10},
        evaluation={"variants_per_class": 1, "episodes_per_variant": 2, "scored_episodes": "all",
                    "actions": "deterministic"},
        sampler={"max_slots": 50, "pipeline_groups": 2}, device="cpu",
    )


def test_every_method_plays_the_same_fixed_variant_per_class(tmp_path, monkeypatch, ml10):
    played: dict[str, set[tuple[str, int]]] = {}
    collect = ParallelSampler.collect

    def recording(self, policy, trials, *args, **kwargs):  # the real collect, with its trials noted
        played.setdefault(current, set()).update((t.class_name, t.variant) for t in trials)
        return collect(self, policy, trials, *args, **kwargs)

    monkeypatch.setattr(ParallelSampler, "collect", recording)
    evaluated = {}
    for current in METHODS:
        job = _job(current, seed=5)
        run_training_job(job, tmp_path / "results", tmp_path / "checkpoints", tmp_path / "logs", 2)
        episodes = pd.read_csv(job.run_dir(tmp_path / "results") / "eval_episodes.csv")
        evaluated[current] = dict(episodes.groupby("task")["variant"].unique().map(tuple))
    schedule = TaskSchedule(ml10, run_seed=5, episodes_per_task=2, task_sampling="fixed_per_run")
    expected = {(name, schedule.fixed_variant(name)) for name in ml10.train_classes + ml10.test_classes}
    for method in METHODS:
        assert played[method] == expected, method  # every training and evaluation collection
        assert evaluated[method] == {name: (variant,) for name, variant in expected}, method
