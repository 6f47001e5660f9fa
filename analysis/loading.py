"""Load every run of a study and check it against the contract before any number is computed.

A run lives in ``results/runs/{method}/seed_{seed}/`` with ``eval.csv``, ``train_log.csv`` and
``manifest.json`` (see algorithms/trainer.py). A corrupt file is always an error naming the file. Missing
data (a run, a task at an evaluation point, an evaluation point that other seeds of the method have) is an
error naming it too, unless the report is partial: then it is recorded as a :class:`Gap`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import PARTIAL_HINT, CorruptRunFileError, MissingDataError
from analysis.labels import SPLITS, TASKS_BY_SPLIT, split_of

EVAL_COLUMNS: tuple[str, ...] = (
    "iteration", "env_steps", "wall_time", "split", "task", "avg_success", "success", "return", "episodes",
)
_EVAL_NUMERIC: tuple[str, ...] = (
    "iteration", "env_steps", "wall_time", "avg_success", "success", "return", "episodes",
)
TRAIN_LOG_COLUMNS: tuple[str, ...] = ("iteration", "env_steps", "wall_time")
MANIFEST_KEYS: tuple[str, ...] = (
    "git_commit", "git_dirty", "config_hash", "config", "packages", "device", "host", "slurm_job_id",
    "created", "env_steps", "wall_time",
)
RUN_FILES: tuple[str, ...] = ("eval.csv", "train_log.csv", "manifest.json")
CHANCE_METHOD = "random"
"""Method name under which the chance-level reference (uniform random actions) enters the tables."""


@dataclass(frozen=True)
class Gap:
    """One piece of missing data in a partial report."""

    method: str
    seed: int
    kind: str
    """``"run"``, ``"eval point"`` or ``"task"``."""
    detail: str

    def __str__(self) -> str:
        return f"{self.method} seed {self.seed}: missing {self.kind} ({self.detail})"


@dataclass(frozen=True)
class Study:
    """Everything the report reads, validated.

    ``evaluations``: the runs' eval.csv rows with ``method`` and ``seed`` columns in front;
    ``train_logs``: the runs' train_log.csv rows, likewise; ``manifests``: per (method, seed);
    ``chance``: the chance-level reference's eval rows (method ``"random"``), or None when absent;
    ``gaps``: what is missing (empty unless the report is partial).
    """

    name: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    evaluations: pd.DataFrame
    train_logs: pd.DataFrame
    manifests: dict[tuple[str, int], dict[str, Any]]
    chance: pd.DataFrame | None
    gaps: tuple[Gap, ...]

    def runs(self) -> list[tuple[str, int]]:
        """The (method, seed) pairs that were loaded, in study order."""
        return [(m, s) for m in self.methods for s in self.seeds if (m, s) in self.manifests]


def run_dir(results_dir: str | Path, method: str, seed: int) -> Path:
    """``results/runs/{method}/seed_{seed}``."""
    return Path(results_dir) / "runs" / method / f"seed_{seed}"


def chance_eval_path(results_dir: str | Path, seed: int) -> Path:
    """``results/random/seed_{seed}/eval.csv``."""
    return Path(results_dir) / "random" / f"seed_{seed}" / "eval.csv"


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
        raise CorruptRunFileError(f"{path}: not a readable CSV file ({error})") from error


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise CorruptRunFileError(
            f"{path}: lacks column(s) {missing}; expected at least {list(columns)}"
        )
    if frame.empty:
        raise CorruptRunFileError(f"{path}: has a header but no rows")


def _require_numeric(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2  # header is line 1
            raise CorruptRunFileError(
                f"{path}: column {column!r} has a missing or non-numeric value on line {line} "
                f"({frame[column].iloc[line - 2]!r})"
            )
        frame[column] = values


def read_eval(path: Path) -> pd.DataFrame:
    """An eval.csv, checked: columns, numbers, splits and ML10 tasks, metric ranges, no duplicates."""
    frame = _read_csv(path)
    _require_columns(frame, EVAL_COLUMNS, path)
    _require_numeric(frame, _EVAL_NUMERIC, path)
    if (frame["iteration"] < 0).any() or (frame["iteration"] % 1 != 0).any():
        raise CorruptRunFileError(f"{path}: 'iteration' must hold non-negative integers")
    frame["iteration"] = frame["iteration"].astype(int)
    for task, split in frame[["task", "split"]].drop_duplicates().itertuples(index=False):
        try:
            expected = split_of(task)
        except KeyError:
            raise CorruptRunFileError(f"{path}: unknown task {task!r} (not an ML10 class)") from None
        if split != expected:
            raise CorruptRunFileError(f"{path}: task {task!r} is labelled {split!r}, ML10 says {expected!r}")
    for metric in ("avg_success", "success"):
        if not frame[metric].between(0.0, 1.0).all():
            raise CorruptRunFileError(f"{path}: {metric!r} has values outside [0, 1]")
    duplicated = frame.duplicated(["iteration", "task"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise CorruptRunFileError(
            f"{path}: more than one row for iteration {row['iteration']}, task {row['task']!r}"
        )
    return frame


def read_train_log(path: Path) -> pd.DataFrame:
    """A train_log.csv, checked for its counters (the loss columns differ between methods)."""
    frame = _read_csv(path)
    _require_columns(frame, TRAIN_LOG_COLUMNS, path)
    _require_numeric(frame, TRAIN_LOG_COLUMNS, path)
    return frame


def read_manifest(path: Path, method: str, seed: int) -> dict[str, Any]:
    """A manifest.json, checked for its keys and that it belongs to this method and seed.

    Runs are not tied to a study: one (method, seed) cell serves every study that asks for it with
    the same settings (an extended study reuses the paper study's runs).
    """
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptRunFileError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(manifest, dict):
        raise CorruptRunFileError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        raise CorruptRunFileError(f"{path}: lacks key(s) {missing}")
    config = manifest["config"]
    if not isinstance(config, dict):
        raise CorruptRunFileError(f"{path}: 'config' is not a JSON object")
    expected = {"method": method, "seed": seed}
    for key, value in expected.items():
        if config.get(key) != value:
            raise CorruptRunFileError(
                f"{path}: config.{key} is {config.get(key)!r} but the file sits where {key} {value!r} "
                "belongs (a run copied from another method or seed?)"
            )
    return manifest


def _content_gaps(evaluations: pd.DataFrame, method: str, seeds: list[int]) -> list[Gap]:
    """Eval points that other seeds of the method have, the untrained point, and tasks per eval point."""
    rows = evaluations[evaluations["method"] == method]
    expected_points = sorted(set(rows["iteration"]) | {0})
    all_tasks = [task for split in SPLITS for task in TASKS_BY_SPLIT[split]]
    gaps: list[Gap] = []
    for seed in seeds:
        run = rows[rows["seed"] == seed]
        tasks_at = run.groupby("iteration")["task"].agg(set).to_dict()
        for point in expected_points:
            if point not in tasks_at:
                gaps.append(Gap(method, seed, "eval point", f"iteration {point}"))
                continue
            gaps.extend(
                Gap(method, seed, "task", f"{task} at iteration {point}")
                for task in all_tasks if task not in tasks_at[point]
            )
    return gaps


def _raise_if_gaps(gaps: list[Gap], partial: bool) -> None:
    if gaps and not partial:
        shown = "\n  ".join(str(gap) for gap in gaps[:30])
        more = f"\n  ... and {len(gaps) - 30} more" if len(gaps) > 30 else ""
        raise MissingDataError(f"the study's data is incomplete:\n  {shown}{more}\n{PARTIAL_HINT}")


def _load_chance(results_dir: Path, seeds: tuple[int, ...]) -> pd.DataFrame | None:
    frames = []
    for seed in seeds:
        path = chance_eval_path(results_dir, seed)
        if path.exists():
            frame = read_eval(path).assign(seed=seed)
            frames.append(frame[frame["iteration"] == 0])
    if not frames:
        return None
    chance = pd.concat(frames, ignore_index=True)
    chance.insert(0, "method", CHANCE_METHOD)
    return chance[["method", "seed", *EVAL_COLUMNS]]


def load_study(
    results_dir: str | Path,
    study: str,
    methods: list[str] | tuple[str, ...],
    seeds: list[int] | tuple[int, ...],
    partial: bool = False,
) -> Study:
    """Read and validate every run of ``methods`` x ``seeds`` (and the chance reference where present).

    Raises:
        MissingDataError: a run file, an evaluation point or a task is missing (unless ``partial``);
            the message lists every gap.
        CorruptRunFileError: a file cannot be parsed or breaks the contract; the message names it.
    """
    results_dir = Path(results_dir)
    methods, seeds = tuple(methods), tuple(int(seed) for seed in seeds)
    if not methods or not seeds:
        raise MissingDataError(f"the study names no {'methods' if not methods else 'seeds'}")
    gaps = []
    for method in methods:
        for seed in seeds:
            directory = run_dir(results_dir, method, seed)
            absent = [name for name in RUN_FILES if not (directory / name).exists()]
            if absent:
                gaps.append(Gap(method, seed, "run", f"no {', '.join(absent)} in {directory}"))
    _raise_if_gaps(gaps, partial)
    incomplete = {(gap.method, gap.seed) for gap in gaps}

    evaluations, train_logs, manifests = [], [], {}
    for method in methods:
        for seed in seeds:
            if (method, seed) in incomplete:
                continue
            directory = run_dir(results_dir, method, seed)
            manifests[(method, seed)] = read_manifest(directory / "manifest.json", method, seed)
            evaluations.append(read_eval(directory / "eval.csv")[list(EVAL_COLUMNS)]
                               .assign(method=method, seed=seed))
            train_logs.append(read_train_log(directory / "train_log.csv").assign(method=method, seed=seed))
    evaluation_frame = _front(pd.concat(evaluations, ignore_index=True) if evaluations
                              else pd.DataFrame(columns=[*EVAL_COLUMNS, "method", "seed"]))
    train_frame = _front(pd.concat(train_logs, ignore_index=True) if train_logs
                         else pd.DataFrame(columns=[*TRAIN_LOG_COLUMNS, "method", "seed"]))
    for method in methods:
        loaded = [seed for seed in seeds if (method, seed) in manifests]
        gaps.extend(_content_gaps(evaluation_frame, method, loaded))
    _raise_if_gaps(gaps, partial)
    return Study(
        name=study, methods=methods, seeds=seeds, evaluations=evaluation_frame,
        train_logs=train_frame, manifests=manifests, chance=_load_chance(results_dir, seeds),
        gaps=tuple(gaps),
    )


def _front(frame: pd.DataFrame) -> pd.DataFrame:
    """Move ``method`` and ``seed`` to the front."""
    return frame[["method", "seed", *[c for c in frame.columns if c not in ("method", "seed")]]]
