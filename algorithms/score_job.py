"""Scoring one finished training run with MetaWorld's own evaluation (the ``evaluate_metaworld`` rule).

The run's final checkpoint (written after its last iteration, outside the declared outputs) is loaded
into a fresh agent built from the run's own settings; the agent's policy then plays
``metaworld.evaluation.metalearning_evaluation`` on both splits (:mod:`envs.metaworld_evaluation`),
acting as the run's own evaluation acts (``evaluation.actions``). The table lands in the run folder,
named by the hash of the scoring settings, so other settings never overwrite it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch

from algorithms.device import configure_learner
from algorithms.registry import method_from_values
from envs.benchmarks import build_suite
from envs.io import write_csv_atomic
from envs.metaworld_evaluation import MetaWorldEvaluationConfig, score_policy
from envs.policy import Acting
from study.jobs import TrainingJob


class ScoringError(RuntimeError):
    """A run cannot be scored (no final checkpoint, or one of another configuration)."""


def score_training_job(job: TrainingJob, settings: dict[str, Any], results: Path, checkpoints: Path,
                       log: logging.Logger) -> Path:
    """Score ``job``'s final policy; returns the written table's path."""
    started = time.perf_counter()
    configure_learner(job.learner_threads)
    path = job.checkpoint(checkpoints)
    if not path.exists():
        raise ScoringError(f"{path} does not exist: the run's final checkpoint is needed to score it with "
                           f"MetaWorld's evaluation; retrain the run (delete {job.run_dir(results)})")
    state = torch.load(path, weights_only=False, map_location="cpu")
    if state.get("config_hash") != job.config_hash:
        raise ScoringError(f"{path} was written by another configuration than run {job.run_id}")
    finished = state["progress"]["next_iteration"]
    if finished != job.training["iterations"]:
        raise ScoringError(f"{path} holds iteration {finished} of {job.training['iterations']}: the run "
                           "has not finished")
    method = method_from_values(job.method, job.method_values, f"method {job.method!r}")
    suite = build_suite(job.benchmark, benchmark_seed=job.benchmark_seed, episode_length=job.episode_length)
    agent = method.build_agent(suite.spec, job.seed, torch.device("cpu"))
    agent.load_state_dict(state["agent"])
    config = MetaWorldEvaluationConfig(**{key: settings[key] for key in
                                          ("num_evals", "adaptation_episodes", "evaluation_episodes")})
    log.info("scoring run %s (%s seed %d, after %d iterations) with metaworld.evaluation: %s, %s actions",
             job.run_id, job.method, job.seed, finished, config, job.evaluation["actions"])
    scores = score_policy(agent.policy, job.benchmark, job.benchmark_seed, job.episode_length,
                          Acting.evaluating(job.evaluation["actions"]), config, log)
    target = job.metaworld_scores(settings, results)
    write_csv_atomic(scores.assign(method=job.method, seed=job.seed, iteration=finished), target)
    log.info("written %s in %.1f s", target, time.perf_counter() - started)
    return target
