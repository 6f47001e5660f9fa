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
    """The studies and every ablation under config/ablations/ (whose overrides must name settings the
    method files list)."""
    shipped = [REPO / "config" / name for name in ("config.yaml", "paper.yaml", "paper-reference-protocol.yaml",
                                                   "extended.yaml", "pilot.yaml")]
    ablations = sorted((REPO / "config" / "ablations").glob("*.yaml"))
    assert ablations, "config/ablations/ holds the pilot's ablations"
    for path in shipped + ablations:
        plan = plan_study(load_study_config(path))
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


@pytest.mark.parametrize("change, message", [
    ({"task_sampling": "fixed_per_run"}, "variants_per_class must be 1"),
    ({"task_sampling": "fixed_per_run", "evaluation": {"variants_per_class": 1, "episodes_per_variant": 5},
      "training": {"iterations": 1, "episodes_per_task": 5, "trials_per_class": 3, "eval_interval": 1,
                   "checkpoint_interval": 1}}, "trials_per_class must be 1"),
    ({"evaluation": {"variants_per_class": 5, "episodes_per_variant": 5, "scored_episodes": 6}},
     "scored_episodes 6 exceeds evaluation.episodes_per_variant"),
    ({"evaluation": {"variants_per_class": 5, "episodes_per_variant": 5, "actions": "greedy"}}, "actions"),
    ({"task_sampling": "per_epoch"}, "task_sampling"),
])
def test_a_protocol_the_schedule_cannot_play_is_refused_before_any_job(tmp_path, change, message):
    config = {**yaml.safe_load((REPO / "config" / "paper.yaml").read_text()), **change}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(StudyConfigError, match=message):
        load_study_config(path)


def test_the_reference_protocol_study_plans_the_paper_study_with_fixed_variants():
    paper = plan_study(load_study_config(REPO / "config" / "paper.yaml"))
    reference = plan_study(load_study_config(REPO / "config" / "paper-reference-protocol.yaml"))
    assert reference.config["task_sampling"] == "fixed_per_run" and paper.config["task_sampling"] == "per_iteration"
    assert reference.training.keys() == paper.training.keys()
    for cell, job in reference.training.items():
        assert job.run_id != paper.training[cell].run_id  # its own folders: nothing overwritten
        assert job.method_values == paper.training[cell].method_values
        assert job.training == paper.training[cell].training
