"""Snakemake entry point: mean and std over seeds of the random policy's per-task metrics."""

import pandas as pd

from envs.io import write_csv_atomic
from envs.metrics import METRIC_COLUMNS

snakemake = globals()["snakemake"]
runs = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
summary = runs.groupby(["split", "task"], sort=False)[list(METRIC_COLUMNS)].agg(["mean", "std"])
summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
summary["seeds"] = runs.groupby(["split", "task"], sort=False)["seed"].nunique()
write_csv_atomic(summary.reset_index(), snakemake.output[0])
with open(snakemake.log[0], "w") as log:
    log.write(summary.to_string() + "\n")
