"""Under which protocol a report's numbers were produced: ours (from the run manifests) and the
paper's (its reference code's, docs/protocol.md), stated beside each other in every report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.formatting import TextTable
from analysis.labels import method_label

PAPER_PROTOCOL = (
    "the HiMeta reference code's protocol: one random variant per class (train and test classes) "
    "fixed for the whole run, 5 evaluation episodes per class, every one scored, low- and "
    "intermediate-level means with a sampled y; MetaWorld v2 envs (Farama master, mid-2024). "
    "This harness runs that task protocol with `task_sampling: fixed_per_run` "
    "(config/paper-reference-protocol.yaml), on v3 envs"
)
"""How the paper's values (reports/paper/) were produced (docs/protocol.md has the sources)."""


def run_protocol(manifest: dict[str, Any]) -> str:
    """One line: the task sampling, evaluation and env version a run's manifest records."""
    config, packages = manifest["config"], manifest.get("packages", {})
    evaluation = config.get("evaluation", {})
    sampling = config.get("task_sampling", "per_iteration (not recorded; the only protocol then)")
    scored = evaluation.get("scored_episodes", "all")
    scored_text = {"all": "every episode scored", "last": "the last episode scored"}.get(
        scored, f"the last {scored} episodes scored")
    return (f"`task_sampling: {sampling}`; evaluation: {evaluation.get('variants_per_class', '?')} variant(s) x "
            f"{evaluation.get('episodes_per_variant', '?')} episodes per class, {scored_text}, "
            f"{evaluation.get('actions', 'deterministic')} actions; {config.get('episode_length', '?')}-step "
            f"episodes; metaworld {packages.get('metaworld', '?')} (v3 envs)")


def metaworld_table(metaworld: pd.DataFrame, evaluations: pd.DataFrame, methods: tuple[str, ...]) -> TextTable:
    """Per method and split: our success at each run's last evaluation point (the checkpoint
    MetaWorld scored) beside MetaWorld's success and return, each a mean over the scored seeds."""
    last = evaluations.groupby(["method", "seed"])["iteration"].transform("max")
    ours = (evaluations[evaluations["iteration"] == last].groupby(["method", "seed", "split"])["success"]
            .mean())
    theirs = metaworld.groupby(["method", "seed", "split"])[["split_success", "split_return"]].first()
    rows = []
    for method in methods:
        for split in ("train", "test"):
            if (method, split) not in {(m, s) for m, _, s in theirs.index}:
                continue
            mine = theirs.xs((method, split), level=("method", "split"))
            seeds = list(mine.index)
            ours_mean = ours.loc[[(method, seed, split) for seed in seeds if (method, seed, split) in ours]].mean()
            rows.append([method_label(method), split, f"{ours_mean:.3f}", f"{mine['split_success'].mean():.3f}",
                         f"{mine['split_return'].mean():.1f}", str(len(seeds))])
    header = ["Method", "Split", "Ours: success", "MetaWorld: success", "MetaWorld: return", "Seeds"]
    return TextTable("", header, [(None, rows)])
