"""The README's main job: the real Snakemake DAG on a tiny config, and config validation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "benchmark_seed": 0,
    "seeds": [3, 4],
    "episode_length": 20,
    "evaluation": {"variants_per_class": 1, "episodes_per_variant": 2},
    "sampler": {"num_workers": 2, "max_slots": 50, "pipeline_groups": 4},
}


def _snakemake(workdir: Path, config: dict) -> subprocess.CompletedProcess:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(workdir / "config.yaml"), "--cores", "2"],
        capture_output=True, text=True, timeout=600,
    )


def test_quick_dag_produces_every_expected_file(tmp_path):
    result = _snakemake(tmp_path, TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    for seed in (3, 4):
        tasks = pd.read_csv(tmp_path / f"results/random/seed_{seed}/eval.csv")
        assert len(tasks) == 15 and set(tasks["split"]) == {"train", "test"}
        assert (tasks["episodes"] == 2).all() and (tasks["seed"] == seed).all()
        episodes = pd.read_csv(tmp_path / f"results/random/seed_{seed}/eval_episodes.csv")
        assert len(episodes) == 15 * 2
        assert "evaluated 30 episodes" in (tmp_path / f"logs/random/seed_{seed}.log").read_text()
    summary = pd.read_csv(tmp_path / "results/random/summary.csv")
    assert len(summary) == 15 and (summary["seeds"] == 2).all()
    assert {"avg_success_mean", "avg_success_std", "return_mean", "return_std"} <= set(summary.columns)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sedes": [1]}, "sedes"),  # a typo'd key
        ({"seeds": []}, "seeds"),  # no seed
        ({"episode_length": 501}, "501"),
    ],
)
def test_malformed_config_fails_before_any_job(tmp_path, change, message):
    result = _snakemake(tmp_path, {**TINY, **change})
    assert result.returncode != 0
    assert message in result.stderr and "config" in result.stderr.lower()
    assert not (tmp_path / "results").exists()
