"""One training job of a study: (method, seed) -> a finished run directory, resumable after a kill.

This is what the workflow's ``train`` rule runs (``workflow/scripts/train.py`` only unpacks Snakemake's
arguments). Everything a run's numbers depend on is in :class:`TrainingJob`; its resolved form is
hashed into the manifest and into the checkpoint's file name, so a rerun with the same settings
resumes from the last checkpoint and a rerun with changed settings starts afresh (the stale
checkpoint is left alone, never loaded).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from algorithms.device import resolve_device
from algorithms.manifest import build_manifest, config_hash
from algorithms.registry import method_from_values
from algorithms.trainer import RunPaths, TrainingConfig, train
from envs.evaluation import EvaluationConfig
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule


@dataclass(frozen=True)
class TrainingJob:
    """A (method, seed) cell of a study with every setting that influences its numbers.

    ``training`` holds ``iterations, episodes_per_task, eval_interval, checkpoint_interval``;
    ``evaluation`` the :class:`EvaluationConfig` fields; ``sampler`` ``max_slots`` and
    ``pipeline_groups`` (the worker count is not here: it never changes the numbers).
    ``learner_threads`` is torch's CPU thread count for the learner: with more than one, torch's
    parallel reductions make repeated runs differ in the last digits, so 1 is the reproducible default.
    The study's name is not here either: a run belongs to every study that asks for the same cell.
    """

    method: str
    method_values: dict[str, Any]
    seed: int
    benchmark_seed: int
    episode_length: int
    training: dict[str, int]
    evaluation: dict[str, Any]
    sampler: dict[str, int]
    device: str
    learner_threads: int = 1

    def resolved(self) -> dict[str, Any]:
        """The JSON-able settings recorded in the manifest (and hashed)."""
        return {"algorithm": self.method_values.get("algorithm"), **asdict(self)}


def checkpoint_path(checkpoint_root: Path, job: TrainingJob) -> Path:
    """``<root>/<method>/seed_<seed>/<hash12>.pt``: outside every declared output."""
    digest = config_hash(job.resolved())[:12]
    return Path(checkpoint_root) / job.method / f"seed_{job.seed}" / f"{digest}.pt"


def run_training_job(job: TrainingJob, run_dir: Path, checkpoint_root: Path, num_workers: int,
                     log: logging.Logger) -> Path:
    """Train (or resume) ``job``; returns the evaluation table's path once everything is written."""
    method = method_from_values(job.method, job.method_values, f"method {job.method!r}")
    device = resolve_device(job.device)
    torch.set_num_threads(job.learner_threads)
    started = time.perf_counter()
    suite = ML10Suite(benchmark_seed=job.benchmark_seed, episode_length=job.episode_length)
    log.info("method %s (%s) | seed %d | device %s | %d sampler workers | ML10(seed=%d) ready in %.1f s",
             job.method, method.algorithm, job.seed, device, num_workers, job.benchmark_seed,
             time.perf_counter() - started)
    schedule = TaskSchedule(suite, run_seed=job.seed, episodes_per_task=job.training["episodes_per_task"])
    config = TrainingConfig(
        iterations=job.training["iterations"], eval_interval=job.training["eval_interval"],
        checkpoint_interval=job.training["checkpoint_interval"],
        evaluation=EvaluationConfig(**job.evaluation),
    )
    paths = RunPaths(run_dir=Path(run_dir), checkpoint=checkpoint_path(checkpoint_root, job))
    log.info("budget: %d iterations x %d train classes x %d episodes x %d steps = %d env steps; "
             "checkpoint %s", config.iterations, len(suite.train_classes), schedule.episodes_per_task,
             job.episode_length, config.iterations * len(suite.train_classes)
             * schedule.episodes_per_task * job.episode_length, paths.checkpoint)
    manifest = build_manifest(job.resolved(), str(device))
    agent = method.build_agent(suite.spec, job.seed, device)
    with ParallelSampler(suite, num_workers=num_workers, max_slots=job.sampler["max_slots"],
                         pipeline_groups=job.sampler["pipeline_groups"]) as sampler:
        train(agent, sampler, schedule, config, paths, manifest, log)
    log.info("finished in %.1f s; outputs in %s", time.perf_counter() - started, run_dir)
    return paths.evaluation
