"""Load every run of a study and check it against the contract before any number is computed.

The caller says where each run lives (:class:`RunRef`: a folder with ``eval.csv``, ``train_log.csv`` and
``manifest.json``, see algorithms/trainer.py, and the ``config_hash`` its manifest must carry) and where
the chance reference's ``eval.csv`` of each seed lives. A corrupt file, or a run produced with other
settings, is always an error naming the file. Missing data (a run, a task at an evaluation point, an
evaluation point that other seeds of the method have, a run that stopped before its training budget, a
chance reference seed) is an error naming it too, unless the report is partial: then it is recorded as a
:class:`Gap`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import (
    PARTIAL_HINT,
    CorruptRunFileError,
    MissingDataError,
    ReportInputError,
    StaleRunError,
)
from analysis.labels import Suite
from envs.metrics import METAWORLD_COLUMNS

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
MAX_REWARD_PER_STEP = 10.0
"""MetaWorld's rewards lie in [0, 10], so a return lies in [0, 10 x episode length]."""
_TOLERANCE = 1e-9
STOPPED_EARLY = "end of training"
"""The :class:`Gap` kind of a run whose last evaluation comes before its training budget."""


@dataclass(frozen=True)
class RunRef:
    """Where one run of the study lives and which settings it must have been produced with."""

    path: Path
    """The run folder holding eval.csv, train_log.csv and manifest.json."""
    config_hash: str
    """The full ``config_hash`` its manifest must carry."""
    metaworld: Path | None = None
    """The run's table from MetaWorld's own evaluation (``metaworld_<id>.csv``); None: not scored."""


@dataclass(frozen=True)
class Gap:
    """One piece of missing data in a partial report."""

    method: str
    seed: int
    kind: str
    """``"run"``, ``"eval point"``, ``"task"`` or ``"end of training"`` (stopped before its budget)."""
    detail: str

    def __str__(self) -> str:
        return f"{self.method} seed {self.seed}: missing {self.kind} ({self.detail})"


@dataclass(frozen=True)
class Study:
    """Everything the report reads, validated.

    ``evaluations``: the runs' eval.csv rows with ``method`` and ``seed`` columns in front;
    ``train_logs``: the runs' train_log.csv rows, likewise; ``manifests``: per (method, seed);
    ``chance``: the chance-level reference's eval rows (method ``"random"``), or None when the study has
    none; ``metaworld``: the runs' scores from MetaWorld's own evaluation (``method``, ``seed``, then
    :data:`METAWORLD_COLUMNS`), or None when the study does not score with it; ``gaps``: what is
    missing (empty unless the report is partial).
    """

    name: str
    suite: Suite
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    evaluations: pd.DataFrame
    train_logs: pd.DataFrame
    manifests: dict[tuple[str, int], dict[str, Any]]
    chance: pd.DataFrame | None
    gaps: tuple[Gap, ...]
    metaworld: pd.DataFrame | None = None

    def runs(self) -> list[tuple[str, int]]:
        """The (method, seed) pairs that were loaded, in study order."""
        return [(m, s) for m in self.methods for s in self.seeds if (m, s) in self.manifests]

    def stopped_early(self) -> dict[str, list[Gap]]:
        """Per method, its runs that stopped before their training budget (partial reports only)."""
        early: dict[str, list[Gap]] = {}
        for gap in self.gaps:
            if gap.kind == STOPPED_EARLY:
                early.setdefault(gap.method, []).append(gap)
        return early


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


def _line(mask: pd.Series) -> int:
    """The file line of the first row where ``mask`` holds (the header is line 1)."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def _require_numeric(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            line = _line(pd.Series(bad))
            raise CorruptRunFileError(
                f"{path}: column {column!r} has a missing, non-numeric or infinite value on line {line} "
                f"({frame[column].iloc[line - 2]!r}); rewrite the file from the run"
            )
        frame[column] = values


def _refuse_rows(frame: pd.DataFrame, bad: pd.Series, path: Path, problem: str) -> None:
    """Raise naming the file, the first offending line and its task when ``bad`` holds anywhere."""
    if bad.any():
        line = _line(bad)
        row = frame.iloc[line - 2]
        raise CorruptRunFileError(
            f"{path}: line {line} (iteration {row['iteration']}, task {row['task']!r}): {problem}; the file "
            "is corrupt or not an evaluation of this harness, re-evaluate the run"
        )


def _check_tasks(frame: pd.DataFrame, suite: Suite, path: Path) -> None:
    for task, split in frame[["task", "split"]].drop_duplicates().itertuples(index=False):
        try:
            expected = suite.split_of(task)
        except KeyError:
            raise CorruptRunFileError(f"{path}: unknown task {task!r} (not a task of {suite.title})") from None
        if split != expected:
            raise CorruptRunFileError(f"{path}: task {task!r} is labelled {split!r}, {suite.title} says {expected!r}")


def _check_values(frame: pd.DataFrame, path: Path, max_return: float | None) -> None:
    """Metric ranges: success metrics in [0, 1], average success <= success, 0 <= return <= max_return."""
    for metric in ("avg_success", "success"):
        _refuse_rows(frame, ~frame[metric].between(0.0, 1.0), path, f"{metric!r} lies outside [0, 1]")
    _refuse_rows(frame, frame["avg_success"] > frame["success"] + _TOLERANCE, path,
                 "'avg_success' exceeds 'success' (average success counts successful steps of successful "
                 "episodes only, so it cannot)")
    _refuse_rows(frame, frame["return"] < 0.0, path, "'return' is negative (MetaWorld rewards are >= 0)")
    if max_return is not None:
        _refuse_rows(frame, frame["return"] > max_return, path,
                     f"'return' exceeds {max_return:g} (10 x the episode length, the most MetaWorld's "
                     "rewards allow)")


def read_eval(path: Path, suite: Suite, max_return: float | None) -> pd.DataFrame:
    """An eval.csv, checked: columns, finite numbers, the suite's splits and tasks, metric ranges
    (``max_return``: the largest possible return, None when unknown), no duplicates."""
    frame = _read_csv(path)
    _require_columns(frame, EVAL_COLUMNS, path)
    _require_numeric(frame, _EVAL_NUMERIC, path)
    if (frame["iteration"] < 0).any() or (frame["iteration"] % 1 != 0).any():
        raise CorruptRunFileError(f"{path}: 'iteration' must hold non-negative integers")
    frame["iteration"] = frame["iteration"].astype(int)
    _check_tasks(frame, suite, path)
    _check_values(frame, path, max_return)
    duplicated = frame.duplicated(["iteration", "task"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise CorruptRunFileError(
            f"{path}: more than one row for iteration {row['iteration']}, task {row['task']!r}"
        )
    return frame


def read_metaworld_scores(path: Path, suite: Suite) -> pd.DataFrame:
    """A run's ``metaworld_<id>.csv``, checked: columns, numbers, the suite's tasks, success in [0, 1]."""
    frame = _read_csv(path)
    _require_columns(frame, METAWORLD_COLUMNS, path)
    _require_numeric(frame, ("success", "split_success", "split_return"), path)
    _check_tasks(frame, suite, path)
    for metric in ("success", "split_success"):
        if not frame[metric].between(0.0, 1.0).all():
            raise CorruptRunFileError(f"{path}: {metric!r} lies outside [0, 1]; rescore the run")
    missing = sorted(set(suite.all_tasks()) - set(frame["task"]))
    if missing:
        raise CorruptRunFileError(f"{path}: no score for {missing}; rescore the run")
    return frame[list(METAWORLD_COLUMNS)]


def _load_metaworld(runs: Mapping[tuple[str, int], RunRef], loaded: Sequence[tuple[str, int]],
                    suite: Suite) -> tuple[pd.DataFrame | None, list[Gap]]:
    """The loaded runs' MetaWorld scores and the gaps (a scored study's run without its table)."""
    if all(runs[cell].metaworld is None for cell in loaded):
        return None, []
    frames, gaps = [], []
    for method, seed in loaded:
        path = runs[(method, seed)].metaworld
        if path is None or not Path(path).exists():
            gaps.append(Gap(method, seed, "MetaWorld evaluation", f"no {path}"))
            continue
        frames.append(read_metaworld_scores(Path(path), suite).assign(method=method, seed=seed))
    frame = _front(pd.concat(frames, ignore_index=True)) if frames else None
    return frame, gaps


def read_train_log(path: Path) -> pd.DataFrame:
    """A train_log.csv, checked for its counters (the loss columns differ between methods)."""
    frame = _read_csv(path)
    _require_columns(frame, TRAIN_LOG_COLUMNS, path)
    _require_numeric(frame, TRAIN_LOG_COLUMNS, path)
    return frame


def _positive_int(config: dict[str, Any], keys: tuple[str, ...], path: Path) -> int:
    value: Any = config
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CorruptRunFileError(f"{path}: config.{'.'.join(keys)} must be an integer >= 1, got {value!r}")
    return value


def read_manifest(path: Path, method: str, seed: int, config_hash: str) -> dict[str, Any]:
    """A manifest.json, checked for its keys, that it belongs to this method and seed, that it was
    produced with the settings the study expects (``config_hash``), and for its budget
    (``config.training.iterations``) and ``config.episode_length``.

    Runs are not tied to a study: one run serves every study that asks for the same settings (an
    extended study reuses the paper study's runs).
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
    for key, value in {"method": method, "seed": seed}.items():
        if config.get(key) != value:
            raise CorruptRunFileError(
                f"{path}: config.{key} is {config.get(key)!r} but the study reads it as {key} {value!r} "
                "(a run copied from another method or seed?)"
            )
    if manifest["config_hash"] != config_hash:
        raise StaleRunError(
            f"{path}: config_hash is {manifest['config_hash']!r} but the study expects {config_hash!r}: "
            "the run was produced with other settings; retrain it with the study's settings"
        )
    _positive_int(config, ("training", "iterations"), path)
    _positive_int(config, ("episode_length",), path)
    return manifest


def check_env_steps(evaluation: pd.DataFrame, train_log: pd.DataFrame, manifest: dict[str, Any],
                    directory: Path) -> None:
    """Each eval point's ``env_steps`` equals the train log's at that iteration (0 at iteration 0), and
    the last one equals the manifest's ``env_steps``."""
    logged = dict(zip(train_log["iteration"].astype(int), train_log["env_steps"]))
    logged.setdefault(0, 0)
    for iteration, steps in evaluation.groupby("iteration")["env_steps"].agg(set).items():
        if iteration not in logged:
            raise CorruptRunFileError(
                f"{directory / 'eval.csv'}: evaluation at iteration {iteration} but "
                f"{directory / 'train_log.csv'} has no row for that iteration; the files are from different runs"
            )
        if steps != {logged[iteration]}:
            raise CorruptRunFileError(
                f"{directory / 'eval.csv'}: env_steps at iteration {iteration} is {sorted(steps)} but "
                f"{directory / 'train_log.csv'} says {logged[iteration]}; the files are from different runs"
            )
    last = int(evaluation["iteration"].max())
    if logged[last] != manifest["env_steps"]:
        raise CorruptRunFileError(
            f"{directory / 'eval.csv'}: env_steps at the last evaluation (iteration {last}) is {logged[last]} "
            f"but {directory / 'manifest.json'} says {manifest['env_steps']}; the files are from different runs"
        )


def _budget_gap(evaluation: pd.DataFrame, manifest: dict[str, Any], method: str, seed: int,
                directory: Path) -> list[Gap]:
    """A gap when the run's last evaluation comes before its budget (``config.training.iterations``)."""
    budget = manifest["config"]["training"]["iterations"]
    last = int(evaluation["iteration"].max())
    if last > budget:
        raise CorruptRunFileError(
            f"{directory / 'eval.csv'}: evaluation at iteration {last}, beyond the manifest's budget of "
            f"{budget} iterations; the files are from different runs"
        )
    if last < budget:
        return [Gap(method, seed, STOPPED_EARLY,
                    f"stopped early: last evaluation at iteration {last} of {budget}")]
    return []


def _content_gaps(evaluations: pd.DataFrame, method: str, seeds: Sequence[int], suite: Suite,
                  points: Sequence[int]) -> list[Gap]:
    """Eval points that other seeds of the method have (and ``points``, e.g. the untrained point), and
    the suite's tasks at each eval point."""
    rows = evaluations[evaluations["method"] == method]
    expected_points = sorted(set(rows["iteration"]) | set(points))
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
                for task in suite.all_tasks() if task not in tasks_at[point]
            )
    return gaps


def _raise_if_gaps(gaps: list[Gap], partial: bool) -> None:
    if gaps and not partial:
        shown = "\n  ".join(str(gap) for gap in gaps[:30])
        more = f"\n  ... and {len(gaps) - 30} more" if len(gaps) > 30 else ""
        raise MissingDataError(f"the study's data is incomplete:\n  {shown}{more}\n{PARTIAL_HINT}")


def _load_chance(chance: Mapping[int, Path], seeds: tuple[int, ...], suite: Suite,
                 max_return: float | None) -> tuple[pd.DataFrame | None, list[Gap]]:
    """The chance reference's iteration-0 rows of every seed, and its gaps (a seed without eval.csv, a
    missing iteration 0 or task). No mapping at all means the study has no chance reference."""
    if not chance:
        return None, []
    frames, gaps, loaded = [], [], []
    for seed in seeds:
        folder = Path(chance[seed]) if seed in chance else None
        if folder is None or not (folder / "eval.csv").exists():
            where = f"in {folder}" if folder is not None else "given for this seed"
            gaps.append(Gap(CHANCE_METHOD, seed, "run", f"no eval.csv {where}"))
            continue
        frame = read_eval(folder / "eval.csv", suite, max_return)
        untrained = frame.loc[frame["iteration"] == 0, list(EVAL_COLUMNS)]
        frames.append(untrained.assign(method=CHANCE_METHOD, seed=seed))
        loaded.append(seed)
    if not frames:
        return None, gaps
    frame = _front(pd.concat(frames, ignore_index=True))
    return frame, gaps + _content_gaps(frame, CHANCE_METHOD, loaded, suite, points=(0,))


def _max_return(manifests: dict[tuple[str, int], dict[str, Any]]) -> float | None:
    """The largest return the study's episode length allows (None when no run is loaded)."""
    lengths = [manifest["config"]["episode_length"] for manifest in manifests.values()]
    return MAX_REWARD_PER_STEP * max(lengths) if lengths else None


def _missing_files(runs: Mapping[tuple[str, int], RunRef], methods: tuple[str, ...],
                   seeds: tuple[int, ...]) -> list[Gap]:
    absent_refs = [key for key in ((m, s) for m in methods for s in seeds) if key not in runs]
    if absent_refs:
        raise ReportInputError(
            f"runs gives no location for {absent_refs}; pass a RunRef for every (method, seed)"
        )
    gaps = []
    for method in methods:
        for seed in seeds:
            directory = Path(runs[(method, seed)].path)
            absent = [name for name in RUN_FILES if not (directory / name).exists()]
            if absent:
                gaps.append(Gap(method, seed, "run", f"no {', '.join(absent)} in {directory}"))
    return gaps


def _read_run(ref: RunRef, method: str, seed: int,
              suite: Suite) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Manifest, eval rows and train log of one run, each checked and cross-checked."""
    directory = Path(ref.path)
    manifest = read_manifest(directory / "manifest.json", method, seed, ref.config_hash)
    max_return = MAX_REWARD_PER_STEP * manifest["config"]["episode_length"]
    evaluation = read_eval(directory / "eval.csv", suite, max_return)[list(EVAL_COLUMNS)]
    train_log = read_train_log(directory / "train_log.csv")
    check_env_steps(evaluation, train_log, manifest, directory)
    return manifest, evaluation, train_log


def load_study(
    *,
    study: str,
    methods: Sequence[str],
    seeds: Sequence[int],
    runs: Mapping[tuple[str, int], RunRef],
    chance: Mapping[int, Path],
    suite: Suite | str = "ml10",
    partial: bool = False,
) -> Study:
    """Read and validate every run of ``methods`` x ``seeds`` (``runs``: where each lives) and the chance
    reference (``chance``: seed -> folder holding its eval.csv; empty: the study has none).

    Raises:
        MissingDataError: a run file, an evaluation point, a task, the end of a run's training budget or
            a chance reference seed is missing (unless ``partial``); the message lists every gap.
        CorruptRunFileError: a file cannot be parsed or breaks the contract; the message names it.
        StaleRunError: a manifest's ``config_hash`` is not the one ``runs`` expects.
        ReportInputError: ``runs`` lacks a (method, seed) of the study, or ``suite`` is unknown.
    """
    suite = suite if isinstance(suite, Suite) else Suite.named(suite)
    methods, seeds = tuple(methods), tuple(int(seed) for seed in seeds)
    if not methods or not seeds:
        raise MissingDataError(f"the study names no {'methods' if not methods else 'seeds'}")
    gaps = _missing_files(runs, methods, seeds)
    _raise_if_gaps(gaps, partial)
    incomplete = {(gap.method, gap.seed) for gap in gaps}

    evaluations, train_logs, manifests = [], [], {}
    for method in methods:
        for seed in seeds:
            if (method, seed) in incomplete:
                continue
            manifest, evaluation, train_log = _read_run(runs[(method, seed)], method, seed, suite)
            manifests[(method, seed)] = manifest
            evaluations.append(evaluation.assign(method=method, seed=seed))
            train_logs.append(train_log.assign(method=method, seed=seed))
            gaps.extend(_budget_gap(evaluation, manifest, method, seed, Path(runs[(method, seed)].path)))
    evaluation_frame = _front(pd.concat(evaluations, ignore_index=True) if evaluations
                              else pd.DataFrame(columns=[*EVAL_COLUMNS, "method", "seed"]))
    train_frame = _front(pd.concat(train_logs, ignore_index=True) if train_logs
                         else pd.DataFrame(columns=[*TRAIN_LOG_COLUMNS, "method", "seed"]))
    for method in methods:
        loaded = [seed for seed in seeds if (method, seed) in manifests]
        gaps.extend(_content_gaps(evaluation_frame, method, loaded, suite, points=(0,)))
    chance_frame, chance_gaps = _load_chance(chance, seeds, suite, _max_return(manifests))
    gaps.extend(chance_gaps)
    metaworld_frame, metaworld_gaps = _load_metaworld(runs, list(manifests), suite)
    gaps.extend(metaworld_gaps)
    _raise_if_gaps(gaps, partial)
    return Study(
        name=study, suite=suite, methods=methods, seeds=seeds, evaluations=evaluation_frame,
        train_logs=train_frame, manifests=manifests, chance=chance_frame, gaps=tuple(gaps),
        metaworld=metaworld_frame,
    )


def _front(frame: pd.DataFrame) -> pd.DataFrame:
    """Move ``method`` and ``seed`` to the front."""
    return frame[["method", "seed", *[c for c in frame.columns if c not in ("method", "seed")]]]
