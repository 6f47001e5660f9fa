"""Synthetic runs with the exact files and columns of the run contract, for tests and for trying the
report without training (``python -m analysis.synthetic ROOT METHOD... --seeds 0 1 [--suite ml10]``).

A run goes into any folder and comes back as a :class:`~analysis.loading.RunRef` (its folder and the
``config_hash`` its manifest carries). Scores follow a known formula, so every table cell can be computed
by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from algorithms.manifest import config_hash
from analysis.labels import ML10, SPLITS, Suite
from analysis.loading import EVAL_COLUMNS, RunRef
from envs.io import write_csv_atomic, write_json_atomic

Scores = Callable[[str, int, str, int], tuple[float, float, float]]
"""(method, seed, task, iteration) -> (avg_success, success, return)."""

EPISODE_LENGTH = 500
EPISODES_PER_ITERATION = 50  # 10 train classes x 5 episodes, the paper's iteration


@dataclass(frozen=True)
class SyntheticStudy:
    """Where :func:`write_study` put the runs and the chance reference, as ``load_study`` takes them."""

    runs: dict[tuple[str, int], RunRef]
    chance: dict[int, Path]


def learning_scores(methods: Sequence[str], suite: Suite = ML10) -> Scores:
    """A rising curve per method: later methods in ``methods`` learn faster; seeds and tasks shift it."""

    def scores(method: str, seed: int, task: str, iteration: int) -> tuple[float, float, float]:
        rate = 0.006 * (len(methods) - list(methods).index(method))
        rate *= 0.5 if suite.split_of(task) == "test" else 1.0
        noise = 0.15 * ((31 * seed + 17 * sum(map(ord, task)) + iteration) % 11) / 10
        avg_success = min(1.0, rate * iteration + noise)
        success = min(1.0, avg_success * 1.25)
        return avg_success, success, 400.0 + 3000.0 * avg_success + 10.0 * seed

    return scores


def env_steps(iteration: int) -> int:
    """Training env steps after ``iteration`` iterations."""
    return iteration * EPISODES_PER_ITERATION * EPISODE_LENGTH


def eval_frame(method: str, seed: int, iterations: Sequence[int], scores: Scores, suite: Suite = ML10) -> pd.DataFrame:
    """eval.csv rows: every eval point x every task of the suite, train then test."""
    rows = []
    for iteration in iterations:
        for split in SPLITS:
            for task in suite.tasks[split]:
                avg_success, success, episode_return = scores(method, seed, task, iteration)
                rows.append({
                    "iteration": iteration, "env_steps": env_steps(iteration),
                    "wall_time": 2.0 * iteration, "split": split, "task": task, "avg_success": avg_success,
                    "success": success, "return": episode_return, "episodes": 2,
                })
    return pd.DataFrame(rows, columns=list(EVAL_COLUMNS))


def run_config(method: str, seed: int, budget: int) -> dict[str, Any]:
    """A resolved training config as algorithms/run_job.py records it (``budget``: iterations)."""
    return {
        "algorithm": method, "method": method, "seed": seed, "benchmark_seed": 42,
        "episode_length": EPISODE_LENGTH,
        "training": {"iterations": budget, "episodes_per_task": 5, "eval_interval": 10, "checkpoint_interval": 10},
        "evaluation": {"adaptation_episodes": 1}, "sampler": {"max_slots": 16, "pipeline_groups": 1},
        "device": "cpu", "learner_threads": 1,
    }


def manifest(method: str, seed: int, iterations: Sequence[int]) -> dict[str, Any]:
    """A manifest.json with every key of the contract; the budget is the last of ``iterations``."""
    config = run_config(method, seed, max(iterations))
    return {
        "git_commit": "0123456789abcdef0123456789abcdef01234567", "git_dirty": False,
        "config_hash": config_hash(config), "config": config,
        "packages": {"torch": "2.13.0", "metaworld": "3.1.1", "mujoco": "3.3.0"},
        "python": "3.11", "platform": "synthetic", "device": "cpu", "host": "synthetic-host",
        "slurm_job_id": None, "created": "2026-01-01T00:00:00+00:00", "resumes": 0,
        "env_steps": env_steps(max(iterations)), "wall_time": 2.0 * max(iterations),
    }


def _episodes(tasks: pd.DataFrame) -> pd.DataFrame:
    """eval_episodes.csv: two episodes per eval row with the row's metrics."""
    episodes = tasks.loc[tasks.index.repeat(2), ["iteration", "split", "task", "avg_success", "success",
                                                 "return"]].reset_index(drop=True)
    episodes.insert(3, "variant", 0)
    episodes.insert(4, "episode", episodes.groupby(["iteration", "task"]).cumcount())
    return episodes


def _train_log(last: int) -> pd.DataFrame:
    return pd.DataFrame({
        "iteration": range(1, last + 1),
        "env_steps": [env_steps(i) for i in range(1, last + 1)],
        "wall_time": [2.0 * i for i in range(1, last + 1)],
        "train_avg_success": 0.1, "train_success": 0.2, "train_return": 500.0, "policy_loss": -0.01,
    })


def write_run(
    directory: str | Path, method: str, seed: int, iterations: Sequence[int], scores: Scores,
    evaluations: pd.DataFrame | None = None, suite: Suite = ML10,
) -> RunRef:
    """Write a run (eval.csv, eval_episodes.csv, train_log.csv, manifest.json) into ``directory``;
    ``evaluations`` replaces the generated eval.csv rows when given. Returns where it is and its hash."""
    directory = Path(directory)
    tasks = eval_frame(method, seed, iterations, scores, suite) if evaluations is None else evaluations
    run_manifest = manifest(method, seed, iterations)
    write_csv_atomic(tasks, directory / "eval.csv")
    write_csv_atomic(_episodes(tasks), directory / "eval_episodes.csv")
    write_csv_atomic(_train_log(max(iterations)), directory / "train_log.csv")
    write_json_atomic(run_manifest, directory / "manifest.json")
    return RunRef(path=directory, config_hash=run_manifest["config_hash"])


def write_chance(directory: str | Path, seed: int, suite: Suite = ML10, avg_success: float = 0.01,
                 episode_return: float = 50.0) -> Path:
    """The chance-level reference's eval.csv (iteration 0, ``seed`` column) in ``directory``; returns
    ``directory``."""
    frame = eval_frame("random", seed, [0], lambda *_: (avg_success, avg_success, episode_return), suite)
    write_csv_atomic(frame.assign(seed=seed), Path(directory) / "eval.csv")
    return Path(directory)


def write_study(
    root: str | Path, methods: Sequence[str], seeds: Sequence[int],
    iterations: Sequence[int] = (0, 10, 20, 30), chance: bool = True, suite: Suite = ML10,
) -> SyntheticStudy:
    """Every run of ``methods`` x ``seeds`` with :func:`learning_scores` under ``root/runs/<hash12>/``,
    plus the chance reference under ``root/random/seed_<seed>/``."""
    scores = learning_scores(methods, suite)
    runs = {}
    for method in methods:
        for seed in seeds:
            folder = Path(root) / "runs" / config_hash(run_config(method, seed, max(iterations)))[:12]
            runs[(method, seed)] = write_run(folder, method, seed, iterations, scores, suite=suite)
    chance_dirs = {seed: write_chance(Path(root) / "random" / f"seed_{seed}", seed, suite)
                   for seed in seeds} if chance else {}
    return SyntheticStudy(runs=runs, chance=chance_dirs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root")
    parser.add_argument("methods", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--suite", default="ml10", help='"ml10", "ml45" or "ml1:<class>"')
    args = parser.parse_args(argv)
    study = write_study(args.root, args.methods, args.seeds, suite=Suite.named(args.suite))
    for (method, seed), ref in study.runs.items():
        print(f"{method} seed {seed}: {ref.path} (config_hash {ref.config_hash})")
    for seed, folder in study.chance.items():
        print(f"random seed {seed}: {folder}")


if __name__ == "__main__":
    main()
