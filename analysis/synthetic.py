"""Synthetic run directories with the exact files and columns of the run contract, for tests and for
trying the report without training (``python -m analysis.synthetic RESULTS_DIR METHOD... --seeds``).

Scores follow a known formula, so every table cell can be computed by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from analysis.labels import SPLITS, TASKS_BY_SPLIT, split_of
from analysis.loading import EVAL_COLUMNS, chance_eval_path, run_dir
from envs.io import write_csv_atomic, write_json_atomic

Scores = Callable[[str, int, str, int], tuple[float, float, float]]
"""(method, seed, task, iteration) -> (avg_success, success, return)."""

EPISODE_LENGTH = 500
EPISODES_PER_ITERATION = 50  # 10 train classes x 5 episodes, the paper's iteration


def learning_scores(methods: Sequence[str]) -> Scores:
    """A rising curve per method: later methods in ``methods`` learn faster; seeds and tasks shift it."""

    def scores(method: str, seed: int, task: str, iteration: int) -> tuple[float, float, float]:
        rate = 0.006 * (len(methods) - list(methods).index(method))
        rate *= 0.5 if split_of(task) == "test" else 1.0
        noise = 0.15 * ((31 * seed + 17 * sum(map(ord, task)) + iteration) % 11) / 10
        avg_success = min(1.0, rate * iteration + noise)
        success = min(1.0, avg_success * 1.25)
        return avg_success, success, 400.0 + 3000.0 * avg_success + 10.0 * seed

    return scores


def env_steps(iteration: int) -> int:
    """Training env steps after ``iteration`` iterations."""
    return iteration * EPISODES_PER_ITERATION * EPISODE_LENGTH


def eval_frame(method: str, seed: int, iterations: Sequence[int], scores: Scores) -> pd.DataFrame:
    """eval.csv rows: every eval point x every ML10 task, train then test."""
    rows = []
    for iteration in iterations:
        for split in SPLITS:
            for task in TASKS_BY_SPLIT[split]:
                avg_success, success, episode_return = scores(method, seed, task, iteration)
                rows.append({
                    "iteration": iteration, "env_steps": env_steps(iteration),
                    "wall_time": 2.0 * iteration, "split": split, "task": task, "avg_success": avg_success,
                    "success": success, "return": episode_return, "episodes": 2,
                })
    return pd.DataFrame(rows, columns=list(EVAL_COLUMNS))


def manifest(method: str, seed: int, iterations: Sequence[int]) -> dict:
    """A manifest.json with every key of the contract."""
    return {
        "git_commit": "0123456789abcdef0123456789abcdef01234567", "git_dirty": False,
        "config_hash": f"synthetic-{method}-{seed}",
        "config": {"method": method, "algorithm": method, "seed": seed,
                   "budget": {"iterations": max(iterations), "episodes_per_task": 5}},
        "packages": {"torch": "2.13.0", "metaworld": "3.1.1", "mujoco": "3.3.0"},
        "python": "3.11", "platform": "synthetic", "device": "cpu", "host": "synthetic-host",
        "slurm_job_id": None, "created": "2026-01-01T00:00:00+00:00", "resumes": 0,
        "env_steps": env_steps(max(iterations)), "wall_time": 2.0 * max(iterations),
    }


def write_run(
    results_dir: str | Path, method: str, seed: int, iterations: Sequence[int], scores: Scores,
    evaluations: pd.DataFrame | None = None,
) -> Path:
    """Write ``results/runs/{method}/seed_{seed}/`` (eval.csv, eval_episodes.csv, train_log.csv,
    manifest.json); ``evaluations`` replaces the generated eval.csv rows when given."""
    directory = run_dir(results_dir, method, seed)
    tasks = eval_frame(method, seed, iterations, scores) if evaluations is None else evaluations
    episodes = tasks.loc[tasks.index.repeat(2), ["iteration", "split", "task", "avg_success", "success",
                                                 "return"]].reset_index(drop=True)
    episodes.insert(3, "variant", 0)
    episodes.insert(4, "episode", episodes.groupby(["iteration", "task"]).cumcount())
    train_log = pd.DataFrame({
        "iteration": range(1, max(iterations) + 1),
        "env_steps": [env_steps(i) for i in range(1, max(iterations) + 1)],
        "wall_time": [2.0 * i for i in range(1, max(iterations) + 1)],
        "train_avg_success": 0.1, "train_success": 0.2, "train_return": 500.0, "policy_loss": -0.01,
    })
    write_csv_atomic(tasks, directory / "eval.csv")
    write_csv_atomic(episodes, directory / "eval_episodes.csv")
    write_csv_atomic(train_log, directory / "train_log.csv")
    write_json_atomic(manifest(method, seed, iterations), directory / "manifest.json")
    return directory


def write_chance(results_dir: str | Path, seed: int, avg_success: float = 0.01, episode_return: float = 50.0) -> Path:
    """``results/random/seed_{seed}/eval.csv`` of the chance-level reference (iteration 0, ``seed`` column)."""
    frame = eval_frame("random", seed, [0], lambda *_: (avg_success, avg_success, episode_return))
    path = chance_eval_path(results_dir, seed)
    write_csv_atomic(frame.assign(seed=seed), path)
    return path


def write_study(
    results_dir: str | Path, methods: Sequence[str], seeds: Sequence[int],
    iterations: Sequence[int] = (0, 10, 20, 30), chance: bool = True,
) -> None:
    """Every run of ``methods`` x ``seeds`` with :func:`learning_scores`, plus the chance reference."""
    scores = learning_scores(methods)
    for method in methods:
        for seed in seeds:
            write_run(results_dir, method, seed, iterations, scores)
    if chance:
        for seed in seeds:
            write_chance(results_dir, seed)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir")
    parser.add_argument("methods", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    write_study(args.results_dir, args.methods, args.seeds)


if __name__ == "__main__":
    main()
