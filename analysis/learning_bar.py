"""The pilot's learning bar: does a method demonstrably learn? (``python -m analysis.learning_bar DIR``)

A method passes on a split when its final score (the report's ``final_scores.csv``: the final point of
each run, e.g. the mean of the last 3 evaluation points, averaged over the split's tasks) averaged over
seeds reaches ``return >= return_ratio x`` the uniform random policy's return on the same variants
(``chance_summary.csv``) and ``success >= min_success``. The pilot (docs/pilot.md) reads the test split
with ratio 2.5 and success 0.2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

RETURN_RATIO = 2.5
MIN_SUCCESS = 0.2
TOLERANCE = 1e-9
"""Success rates are means of k/n fractions: 0.2 may arrive as 0.19999999999999998."""


def learning_bar(final_scores: pd.DataFrame, chance_summary: pd.DataFrame, split: str = "test",
                 return_ratio: float = RETURN_RATIO, min_success: float = MIN_SUCCESS) -> pd.DataFrame:
    """One row per method: its seed-mean return, success, average success, the random return, the
    return ratio and whether it passes (see the module docstring)."""
    ours = final_scores[final_scores["split"] == split]
    per_seed = ours.groupby(["method", "seed"], sort=False)[["return", "success", "avg_success"]].mean()
    methods = per_seed.groupby("method", sort=False).agg(
        seeds=("return", "size"), **{name: (name, "mean") for name in ("return", "success", "avg_success")})
    chance = chance_summary[chance_summary["split"] == split]
    if chance.empty:
        raise ValueError(f"the chance summary has no {split!r} rows")
    random_return = float(chance["return_mean"].mean())
    methods["random_return"] = random_return
    methods["return_ratio"] = methods["return"] / random_return
    methods["passes"] = (methods["return_ratio"] >= return_ratio - TOLERANCE) \
        & (methods["success"] >= min_success - TOLERANCE)
    return methods.reset_index()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.learning_bar", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="report folders (reports/<study>)")
    parser.add_argument("--split", default="test")
    args = parser.parse_args(argv)
    tables = []
    for folder in args.reports:
        try:
            tables.append(learning_bar(pd.read_csv(folder / "final_scores.csv"),
                                       pd.read_csv(folder / "chance_summary.csv"), args.split))
        except (OSError, ValueError, KeyError) as error:
            print(f"{folder}: {error}", file=sys.stderr)
            return 2
    table = pd.concat(tables, ignore_index=True).drop_duplicates("method", keep="last")
    print(table.to_markdown(index=False, floatfmt=".4g"))  # tabulate comes with snakemake
    return 0 if table["passes"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
