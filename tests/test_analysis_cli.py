"""``python -m analysis`` validates its config like the DAG and says what is wrong in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
QUICK = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _analysis(tmp_path: Path, config: dict) -> subprocess.CompletedProcess:
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    return subprocess.run([sys.executable, "-m", "analysis", "--config", str(tmp_path / "study.yaml"),
                           "--results", str(tmp_path / "results"), "--out", str(tmp_path / "report")],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def test_a_duplicated_seed_is_refused_before_anything_is_loaded(tmp_path):
    result = _analysis(tmp_path, {**QUICK, "seeds": [0, 0]})
    assert result.returncode == 2 and "non-unique" in result.stderr and "seeds" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "report").exists()


def test_an_override_of_the_wrong_type_is_refused(tmp_path):
    result = _analysis(tmp_path, {**QUICK, "overrides": {"pearl": {"gradient_steps": "25"}}})
    assert result.returncode == 2 and "'gradient_steps'" in result.stderr and "expected an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_runs_are_named_without_a_traceback(tmp_path):
    result = _analysis(tmp_path, QUICK)
    assert result.returncode == 2 and "himeta-cd" in result.stderr and "Traceback" not in result.stderr
    assert str(tmp_path / "results" / "runs" / "himeta-cd" / "seed_0") in result.stderr
