"""The training loop every method runs through: collect, update, log, evaluate, checkpoint, resume.

Iteration ``i`` plays the schedule's trials of iteration ``i`` through the shared sampler, hands the
rollout to the agent's update, and logs a training row. Evaluation runs before the first iteration
(the untrained policy) and after every ``eval_interval`` iterations and the last one; its rows carry
the number of completed iterations and the training env steps so far, the x-axis of Figure 4.

Resumption: a checkpoint (agent state, counters, every log row so far, global RNG states) is written
atomically every ``checkpoint_interval`` iterations, after the final iteration, and whenever the job is
asked to stop (:class:`algorithms.stopping.StopRequests`: SIGTERM/SIGUSR1 or the coming time limit,
checked after every iteration), to a path outside the run's declared outputs.
Restarted with the same configuration, :func:`train` continues from it and produces the same numbers
as an uninterrupted run; restarted with a different configuration, it refuses. The final outputs
(evaluation table, per-episode table, training log, manifest) are written atomically at the end, so
their existence means the run finished.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from algorithms.agent import Agent
from algorithms.stopping import StopRequests, TrainingStopped
from envs.evaluation import EvaluationConfig, evaluate
from envs.io import write_atomic, write_csv_atomic, write_json_atomic
from envs.metrics import episode_metrics
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule

TIMING_COLUMNS = ("wall_time", "sample_time", "update_time", "steps_per_s")
"""Columns that measure the machine, not the algorithm (excluded when comparing runs)."""


@dataclass(frozen=True)
class TrainingConfig:
    """The budget and the evaluation/checkpoint cadence of one run (episodes per task: the schedule)."""

    iterations: int
    eval_interval: int
    evaluation: EvaluationConfig
    checkpoint_interval: int

    def __post_init__(self) -> None:
        for name in ("iterations", "eval_interval", "checkpoint_interval"):
            if getattr(self, name) < 1:
                raise ValueError(f"training.{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class RunPaths:
    """Declared outputs in ``run_dir``; the checkpoint lives elsewhere (a rerun must not delete it)."""

    run_dir: Path
    checkpoint: Path

    @property
    def evaluation(self) -> Path:
        return self.run_dir / "eval.csv"

    @property
    def evaluation_episodes(self) -> Path:
        return self.run_dir / "eval_episodes.csv"

    @property
    def train_log(self) -> Path:
        return self.run_dir / "train_log.csv"

    @property
    def manifest(self) -> Path:
        return self.run_dir / "manifest.json"


@dataclass
class _Progress:
    """Everything the loop accumulates; saved in checkpoints."""

    next_iteration: int = 0
    env_steps: int = 0
    wall_time: float = 0.0
    resumes: int = 0
    evaluations: list[dict[str, Any]] | None = None
    evaluation_episodes: list[dict[str, Any]] | None = None
    train_rows: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.evaluations = self.evaluations or []
        self.evaluation_episodes = self.evaluation_episodes or []
        self.train_rows = self.train_rows or []


def train(
    agent: Agent,
    sampler: ParallelSampler,
    schedule: TaskSchedule,
    config: TrainingConfig,
    paths: RunPaths,
    manifest: dict[str, Any],
    log: logging.Logger,
    stop: StopRequests | None = None,
) -> pd.DataFrame:
    """Run (or resume) training to ``config.iterations``; returns the evaluation table.

    Raises :class:`TrainingStopped` after writing a checkpoint when ``stop`` asks for it.
    """
    progress = _resume(agent, paths.checkpoint, manifest["config_hash"], log)
    session_start = time.perf_counter()
    wall_offset, first_iteration = progress.wall_time, progress.next_iteration

    def wall() -> float:
        return wall_offset + time.perf_counter() - session_start

    def checkpoint(completed: int) -> None:
        progress.wall_time = wall()
        _save_checkpoint(agent, progress, paths.checkpoint, manifest["config_hash"])
        log.info("checkpoint after iteration %d written to %s", completed, paths.checkpoint)

    evaluation_s = 0.0
    if first_iteration == 0:
        evaluation_s = _evaluate(agent, sampler, schedule, config.evaluation, progress, 0, wall(), log)
    for iteration in range(first_iteration, config.iterations):
        started = time.perf_counter()
        rollout = sampler.collect(agent.policy, schedule.training_trials(iteration))
        sampled = time.perf_counter()
        stats = agent.update(rollout, iteration)
        updated = time.perf_counter()
        progress.env_steps += rollout.env_steps
        metrics = episode_metrics(rollout.rewards, rollout.successes)
        row = {
            "iteration": iteration + 1,
            "env_steps": progress.env_steps,
            "wall_time": wall(),
            "sample_time": sampled - started,
            "update_time": updated - sampled,
            "steps_per_s": rollout.env_steps / (updated - started),
            "train_avg_success": float(metrics.avg_success.mean()),
            "train_success": float(metrics.success.mean()),
            "train_return": float(metrics.returns.mean()),
            **stats,
        }
        progress.train_rows.append(row)
        done_here = iteration + 1 - first_iteration
        eta = (time.perf_counter() - session_start) / done_here * (config.iterations - iteration - 1)
        log.info(
            "iteration %d/%d | env steps %d | %.0f steps/s (sample %.1fs, update %.1fs) | "
            "train avg_success %.3f success %.3f return %.1f | ETA %s",
            iteration + 1, config.iterations, progress.env_steps, row["steps_per_s"],
            row["sample_time"], row["update_time"], row["train_avg_success"], row["train_success"],
            row["train_return"], _clock(eta),
        )
        completed = iteration + 1
        if completed % config.eval_interval == 0 or completed == config.iterations:
            evaluation_s = _evaluate(agent, sampler, schedule, config.evaluation, progress, completed,
                                     wall(), log)
        progress.next_iteration = completed
        reason = stop.reason(next_step_s=updated - started + evaluation_s) if stop else None
        if reason and completed < config.iterations:
            checkpoint(completed)
            log.warning("stopping after iteration %d/%d: %s; rerun the job to resume", completed,
                        config.iterations, reason)
            raise TrainingStopped(f"stopped after iteration {completed}: {reason}")
        if completed % config.checkpoint_interval == 0 or completed == config.iterations:
            checkpoint(completed)

    evaluations = pd.DataFrame(progress.evaluations)
    write_csv_atomic(pd.DataFrame(progress.evaluation_episodes), paths.evaluation_episodes)
    write_csv_atomic(pd.DataFrame(progress.train_rows), paths.train_log)
    write_json_atomic({**manifest, "resumes": progress.resumes, "env_steps": progress.env_steps,
                       "wall_time": wall()}, paths.manifest)
    write_csv_atomic(evaluations, paths.evaluation)
    return evaluations


def _evaluate(agent, sampler, schedule, config, progress, iteration, wall_time, log) -> float:
    """Evaluate, record the rows in ``progress``, log the split means; returns the seconds it took."""
    started = time.perf_counter()
    result = evaluate(agent.policy, sampler, schedule, config, iteration=iteration,
                      env_steps=progress.env_steps, wall_time=wall_time)
    progress.evaluations.extend(result.tasks.to_dict("records"))
    progress.evaluation_episodes.extend(result.episodes.to_dict("records"))
    means = result.tasks.groupby("split", sort=False)[["avg_success", "success", "return"]].mean()
    for split, row in means.iterrows():
        log.info("eval after %d iterations | %-5s avg_success %.3f success %.3f return %.1f",
                 iteration, split, row["avg_success"], row["success"], row["return"])
    return time.perf_counter() - started


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


def _save_checkpoint(agent: Agent, progress: _Progress, path: Path, config_hash: str) -> None:
    state = {
        "config_hash": config_hash,
        "progress": progress.__dict__,
        "agent": agent.state_dict(),
        "rng": {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
    }
    write_atomic(path, lambda stream: torch.save(state, stream), binary=True)


def _resume(agent: Agent, path: Path, config_hash: str, log: logging.Logger) -> _Progress:
    if not path.exists():
        return _Progress()
    try:
        state = torch.load(path, weights_only=False, map_location="cpu")
        progress = _Progress(**state["progress"])
    except Exception as error:  # noqa: BLE001 - any unreadable checkpoint gets the same advice
        raise RuntimeError(
            f"checkpoint {path} is unreadable ({error}); delete it to restart the run from scratch"
        ) from error
    if state["config_hash"] != config_hash:
        raise RuntimeError(
            f"checkpoint {path} was written by a run with a different configuration; delete it to "
            "start this configuration from scratch"
        )
    agent.load_state_dict(state["agent"])
    random.setstate(state["rng"]["python"])
    np.random.set_state(state["rng"]["numpy"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    progress.resumes += 1
    log.info("resuming from %s after iteration %d (%d env steps)", path, progress.next_iteration,
             progress.env_steps)
    return progress
