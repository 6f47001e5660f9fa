"""The paper's reported values (reports/paper/*.csv) and their merge beside ours.

Every file has the columns ``table, split, task, method, metric, mean, std, source`` (``#`` lines are
comments saying where the numbers come from). ``table`` is ``table1``, ``table2`` or ``table5``; Table 1
rows leave ``task`` empty. Every key is checked (a typo would otherwise drop the value from the tables
without a word), and the paper's own text of each value is kept (``0.3`` stays ``0.3``). The values are
ML10's: a study on another suite shows ours only. A table whose values someone transcribes later gets its
comparison without any code change.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.errors import CorruptRunFileError
from analysis.labels import METRICS, ML10, PAPER_METHODS, SPLITS

PAPER_COLUMNS: tuple[str, ...] = ("table", "split", "task", "method", "metric", "mean", "std", "source")
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "table1": ("method", "split", "metric"),
    "table2": ("split", "task", "method", "metric"),
    "table5": ("split", "task", "method", "metric"),
}
TABLE_METRICS: dict[str, tuple[str, ...]] = {"table1": METRICS, "table2": ("avg_success",), "table5": ("return",)}
"""The metrics each table reports."""
_LOADED_COLUMNS: tuple[str, ...] = (*PAPER_COLUMNS, "paper_text", "file", "line")


def _data_lines(path: Path) -> list[int]:
    """The file line of each data row (comment and blank lines skipped, the header is the first)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    numbers = [number for number, line in enumerate(lines, start=1)
               if line.strip() and not line.lstrip().startswith("#")]
    return numbers[1:]


def _as_number(text: str) -> float:
    """A finite float from the paper's text, NaN when it is not one."""
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _row_problem(row: pd.Series) -> str | None:
    """What is wrong with one reference row's keys or values, or None."""
    table = row["table"]
    if table not in TABLE_KEYS:
        return f"unknown table {table!r}; known: {sorted(TABLE_KEYS)}"
    if row["split"] not in SPLITS:
        return f"unknown split {row['split']!r}; known: {list(SPLITS)}"
    if row["method"] not in PAPER_METHODS:
        return f"unknown method {row['method']!r}; the paper's methods: {list(PAPER_METHODS)}"
    if row["metric"] not in TABLE_METRICS[table]:
        return f"metric {row['metric']!r} is not one of {table}'s: {list(TABLE_METRICS[table])}"
    if table == "table1" and row["task"]:
        return f"table1 rows leave 'task' empty, got {row['task']!r}"
    if table != "table1":
        try:
            split = ML10.split_of(row["task"])
        except KeyError:
            return f"unknown task {row['task']!r}; expected an ML10 class such as 'reach-v3'"
        if split != row["split"]:
            return f"task {row['task']!r} is in ML10's {split!r} split, not {row['split']!r}"
    if math.isnan(_as_number(row["mean"])):
        return f"'mean' is {row['mean']!r}, not a number"
    if row["std"] and math.isnan(_as_number(row["std"])):
        return f"'std' is {row['std']!r}, not a number (leave it empty when the paper gives none)"
    return None


def _read_paper_file(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CorruptRunFileError(f"{path}: not a readable CSV file ({error})") from error
    missing = [column for column in PAPER_COLUMNS if column not in frame.columns]
    if missing:
        raise CorruptRunFileError(f"{path}: lacks column(s) {missing}")
    frame = frame[list(PAPER_COLUMNS)].fillna("").apply(lambda column: column.str.strip())
    frame["file"], frame["line"] = str(path), _data_lines(path)[:len(frame)]
    for _, row in frame.iterrows():
        problem = _row_problem(row)
        if problem:
            raise CorruptRunFileError(f"{path}: line {row['line']}: {problem}; fix the row or remove it")
    frame["paper_text"] = [mean + (f" ± {std}" if std else "") for mean, std in zip(frame["mean"], frame["std"])]
    frame["mean"] = frame["mean"].map(_as_number)
    frame["std"] = frame["std"].map(lambda text: _as_number(text) if text else math.nan)
    return frame


def _refuse_duplicates(paper: pd.DataFrame) -> None:
    for table, keys in TABLE_KEYS.items():
        rows = paper[paper["table"] == table]
        duplicated = rows[rows.duplicated(list(keys), keep=False)]
        if not duplicated.empty:
            first = duplicated.iloc[0]
            places = ", ".join(f"{row['file']} line {row['line']}" for _, row in duplicated.iterrows()
                               if all(row[key] == first[key] for key in keys))
            raise CorruptRunFileError(
                f"{table} has more than one value for {first[list(keys)].to_dict()} ({places}); keep one"
            )


def load_paper_values(paper_dir: str | Path) -> pd.DataFrame:
    """All reference values under ``paper_dir`` (an empty frame when there are none), every row checked.

    Raises:
        CorruptRunFileError: an unreadable file, a missing column, an unknown table, split, task, method
            or metric, a task in the wrong split, a non-numeric value, or two values for one cell; the
            message names the file and line.
    """
    frames = [_read_paper_file(path) for path in sorted(Path(paper_dir).glob("*.csv"))]
    if not frames:
        return pd.DataFrame(columns=list(_LOADED_COLUMNS))
    paper = pd.concat(frames, ignore_index=True)[list(_LOADED_COLUMNS)]
    _refuse_duplicates(paper)
    return paper


def attach_paper_values(ours: pd.DataFrame, paper: pd.DataFrame, table: str) -> pd.DataFrame:
    """``ours`` with ``paper_mean``, ``paper_std``, ``paper_text`` (the paper's own text of the value),
    ``paper_source`` and ``difference`` (ours - paper).

    Cells the paper does not report keep NaN there; rows of ``ours`` are never dropped or reordered.

    Raises:
        CorruptRunFileError: a reference value of one of ``ours``' methods matches no cell of ``ours``
            (it would silently vanish from the table); the message names its file and line.
    """
    keys = list(TABLE_KEYS[table])
    reference = paper[paper["table"] == table][[*keys, "mean", "std", "paper_text", "source", "file", "line"]]
    merged = ours.merge(reference.drop(columns=["file", "line"]).rename(
        columns={"mean": "paper_mean", "std": "paper_std", "source": "paper_source"}),
        on=keys, how="left", validate="many_to_one")
    ours_keys = set(map(tuple, ours[keys].astype(str).to_numpy()))
    relevant = reference[reference["method"].isin(set(ours["method"]))]
    for _, row in relevant.iterrows():
        if tuple(str(row[key]) for key in keys) not in ours_keys:
            raise CorruptRunFileError(
                f"{row['file']}: line {row['line']}: {table} value for {row[keys].to_dict()} matches no cell "
                "of the table; fix the row's keys"
            )
    merged["paper_mean"] = merged["paper_mean"].astype(float)
    merged["paper_std"] = merged["paper_std"].astype(float)
    merged["difference"] = merged["mean"] - merged["paper_mean"]
    return merged
