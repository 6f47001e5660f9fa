"""Study configs: YAML errors with file and line, `python -m study` (make check), `make clean`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from study.config import StudyConfigError, load_study_config, read_yaml
from study.plan import plan_study

REPO = Path(__file__).resolve().parents[1]


def test_a_yaml_syntax_error_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("study: mine\nmethods: [sd\nseeds: [0]\n")
    with pytest.raises(StudyConfigError, match=rf"{path}: line 3, column 6: not valid YAML"):
        read_yaml(path)
    result = subprocess.run([sys.executable, "-m", "study", str(path)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and f"{path}: line 3" in result.stderr and "Traceback" not in result.stderr


def test_every_shipped_study_config_validates_and_plans_distinct_runs():
    for name in ("config.yaml", "paper.yaml", "extended.yaml", "pilot.yaml"):
        plan = plan_study(load_study_config(REPO / "config" / name))
        run_dirs = [job.run_dir() for job in plan.training.values()]
        assert len(set(run_dirs)) == len(run_dirs) == len(plan.methods) * len(plan.config["seeds"])


def test_python_m_study_lists_every_run_with_its_folder_and_state(tmp_path):
    result = subprocess.run([sys.executable, "-m", "study", "config/paper.yaml"], capture_output=True,
                            text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    plan = plan_study(load_study_config(REPO / "config" / "paper.yaml"))
    for job in plan.training.values():
        assert str(job.run_dir()) in result.stdout
    assert result.stdout.count("  train   ") == 25 and result.stdout.count("  chance  ") == 5


def test_make_clean_never_touches_runs_checkpoints_or_logs(tmp_path):
    for kept in ("results/runs/sd/seed_0/0123456789ab/eval.csv", "checkpoints/sd/seed_0/0123456789ab.pt",
                 "logs/train/sd/seed_0/0123456789ab.log", "reports/paper/table2_avg_success.csv"):
        (tmp_path / kept).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / kept).write_text("x")
    (tmp_path / "reports" / "quick").mkdir()
    (tmp_path / ".snakemake").mkdir()
    subprocess.run(["make", "-s", "-f", str(REPO / "Makefile"), "clean"], cwd=tmp_path, check=True)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted([
        "checkpoints/sd/seed_0/0123456789ab.pt", "logs/train/sd/seed_0/0123456789ab.log",
        "reports/paper/table2_avg_success.csv", "results/runs/sd/seed_0/0123456789ab/eval.csv"])
    assert not (tmp_path / "reports" / "quick").exists() and not (tmp_path / ".snakemake").exists()


def test_a_study_config_must_be_a_mapping(tmp_path):
    (tmp_path / "list.yaml").write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(StudyConfigError, match="a study config must be a mapping, got list"):
        load_study_config(tmp_path / "list.yaml")
