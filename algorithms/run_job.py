"""One training job of a study: (method, seed) -> a finished run directory, resumable after a kill.

This is what the workflow's ``train`` rule runs (``workflow/scripts/train.py`` only unpacks Snakemake's
arguments). Everything a run's numbers depend on is in :class:`study.jobs.TrainingJob`; its hash names
the run folder, the checkpoint and the log, so a rerun with the same settings resumes from the last
checkpoint and a rerun with changed settings is another run (the other one is left alone).

A job holds its run's lock for its whole life (:mod:`algorithms.run_lock`), appends to the run's log
with a header per attempt, and stops cleanly (checkpoint, exit status :data:`RESUMABLE_EXIT`) when
asked to by SIGTERM/SIGUSR1 or when the next iteration would not finish before the SLURM time limit.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from algorithms.device import configure_learner, resolve_device
from algorithms.manifest import build_manifest
from algorithms.registry import method_from_values
from algorithms.run_lock import run_lock
from algorithms.stopping import StopRequests
from algorithms.trainer import RunPaths, TrainingConfig, train
from envs.benchmarks import build_suite
from envs.evaluation import EvaluationConfig
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from study.jobs import TrainingJob

RESUMABLE_EXIT = 75
"""Exit status of a job that checkpointed and stopped early (EX_TEMPFAIL): a rerun resumes it."""

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def attempt_logger(path: Path, name: str) -> logging.Logger:
    """A logger appending to ``path`` (every attempt of a run in one file, never truncated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger(name)
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path, mode="a")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log.addHandler(handler)
    return log


def run_training_job(job: TrainingJob, results: Path, checkpoints: Path, logs: Path, num_workers: int,
                     stop: StopRequests | None = None, acting: str = "workers") -> Path:
    """Train (or resume) ``job`` under its run lock; returns the evaluation table's path once written.
    ``num_workers`` and ``acting`` (where the policy acts, :class:`envs.sampler.ParallelSampler`) are
    the node's business, not the run's: they are logged, not hashed into the run id.

    Raises :class:`algorithms.run_lock.RunLockedError` when another process trains the run and
    :class:`algorithms.stopping.TrainingStopped` when it stopped early with a checkpoint.
    """
    log = attempt_logger(job.log(logs), f"train.{job.method}.{job.seed}.{job.run_id}")
    paths = RunPaths(run_dir=job.run_dir(results), checkpoint=job.checkpoint(checkpoints))
    try:
        with run_lock(paths.checkpoint.with_suffix(".lock")) as holder:
            log.info("===== attempt: host %s, pid %s, SLURM job %s, started %s =====", holder["host"],
                     holder["pid"], holder["slurm_job_id"] or "-", holder["started"])
            return _train(job, paths, num_workers, acting, stop or StopRequests(), log)
    except Exception:
        log.exception("training job failed")
        raise


def _train(job: TrainingJob, paths: RunPaths, num_workers: int, acting: str, stop: StopRequests,
           log: logging.Logger) -> Path:
    method = method_from_values(job.method, job.method_values, f"method {job.method!r}")
    device = resolve_device(job.device)
    configure_learner(job.learner_threads)
    started = time.perf_counter()
    suite = build_suite(job.benchmark, benchmark_seed=job.benchmark_seed, episode_length=job.episode_length)
    log.info("run %s | method %s (%s) | seed %d | device %s | %d sampler workers, acting in the %s | "
             "%s(seed=%d) ready in %.1f s", job.run_id, job.method, method.algorithm, job.seed, device,
             num_workers, acting, suite.name, job.benchmark_seed, time.perf_counter() - started)
    schedule = TaskSchedule(suite, run_seed=job.seed, episodes_per_task=job.training["episodes_per_task"],
                            trials_per_class=job.training["trials_per_class"], task_sampling=job.task_sampling)
    config = TrainingConfig(
        iterations=job.training["iterations"], eval_interval=job.training["eval_interval"],
        checkpoint_interval=job.training["checkpoint_interval"],
        evaluation=EvaluationConfig(**job.evaluation),
    )
    trials = len(suite.train_classes) * schedule.trials_per_class
    log.info("budget: %d iterations x %d trials x %d episodes x %d steps = %d env steps; checkpoint %s",
             config.iterations, trials, schedule.episodes_per_task, job.episode_length,
             config.iterations * trials * schedule.episodes_per_task * job.episode_length, paths.checkpoint)
    manifest = build_manifest(job.resolved(), str(device))
    agent = method.build_agent(suite.spec, job.seed, device)
    with ParallelSampler(suite, num_workers=num_workers, max_slots=job.sampler["max_slots"],
                         pipeline_groups=job.sampler["pipeline_groups"], acting=acting) as sampler:
        train(agent, sampler, schedule, config, paths, manifest, log, stop)
    log.info("finished in %.1f s; outputs in %s", time.perf_counter() - started, paths.run_dir)
    return paths.evaluation
