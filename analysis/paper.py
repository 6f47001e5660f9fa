"""The paper's reported values (reports/paper/*.csv) and their merge beside ours.

Every file has the columns ``table, split, task, method, metric, mean, std, source`` (``#`` lines are
comments saying where the numbers come from). ``table`` is ``table1``, ``table2`` or ``table5``; Table 1
rows leave ``task`` empty. A table whose values someone transcribes later gets its comparison without any
code change.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.errors import CorruptRunFileError

PAPER_COLUMNS: tuple[str, ...] = ("table", "split", "task", "method", "metric", "mean", "std", "source")
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "table1": ("method", "split", "metric"),
    "table2": ("split", "task", "method", "metric"),
    "table5": ("split", "task", "method", "metric"),
}


def load_paper_values(paper_dir: str | Path) -> pd.DataFrame:
    """All reference values under ``paper_dir`` (an empty frame when there are none)."""
    frames = []
    for path in sorted(Path(paper_dir).glob("*.csv")):
        try:
            frame = pd.read_csv(path, comment="#")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise CorruptRunFileError(f"{path}: not a readable CSV file ({error})") from error
        missing = [column for column in PAPER_COLUMNS if column not in frame.columns]
        if missing:
            raise CorruptRunFileError(f"{path}: lacks column(s) {missing}")
        unknown = sorted(set(frame["table"]) - set(TABLE_KEYS))
        if unknown:
            raise CorruptRunFileError(f"{path}: unknown table(s) {unknown}; known: {sorted(TABLE_KEYS)}")
        for column in ("mean", "std"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        if frame["mean"].isna().any():
            raise CorruptRunFileError(f"{path}: a 'mean' value is missing or not a number")
        frames.append(frame[list(PAPER_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(PAPER_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def attach_paper_values(ours: pd.DataFrame, paper: pd.DataFrame, table: str) -> pd.DataFrame:
    """``ours`` with ``paper_mean``, ``paper_std``, ``paper_source`` and ``difference`` (ours - paper).

    Cells the paper does not report keep NaN there; rows of ``ours`` are never dropped or reordered.
    """
    keys = list(TABLE_KEYS[table])
    reference = paper[paper["table"] == table][[*keys, "mean", "std", "source"]].rename(
        columns={"mean": "paper_mean", "std": "paper_std", "source": "paper_source"}
    )
    duplicated = reference.duplicated(keys)
    if duplicated.any():
        raise CorruptRunFileError(
            f"reports/paper: {table} has more than one value for {reference[duplicated].iloc[0][keys].to_dict()}"
        )
    merged = ours.merge(reference, on=keys, how="left", validate="many_to_one")
    merged["paper_mean"] = merged["paper_mean"].astype(float)
    merged["paper_std"] = merged["paper_std"].astype(float)
    merged["difference"] = merged["mean"] - merged["paper_mean"]
    return merged
