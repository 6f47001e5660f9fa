"""The full report on synthetic runs: ``build_report`` for 5 methods x 2 seeds (every declared file
exists and is well-formed), and as a partial report that marks what is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from analysis.errors import MissingDataError
from analysis.report import REPORT_FILES, build_report
from analysis.settings import ReportSettings
from analysis.summary import run_budget
from analysis.synthetic import write_study

REPO = Path(__file__).resolve().parents[1]
METHODS = ["himeta-cd", "himeta-cm", "himeta-st", "sd", "pearl"]
SEEDS = [0, 1]
REPORT = {"final_point": "last", "last_k": 1, "partial": False, "bootstrap_resamples": 300,
          "confidence": 0.95, "bootstrap_seed": 0}
LABELS = ["HiMeta-CD", "HiMeta-CM", "HiMeta-ST", "SD", "PEARL"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """``build_report`` on synthetic runs (runs in folders named by their settings hash); the report."""
    root = tmp_path_factory.mktemp("report")
    study = write_study(root / "results", METHODS, SEEDS)
    build_report(study="quick", methods=METHODS, seeds=SEEDS, settings=ReportSettings.from_config(REPORT),
                 runs=study.runs, chance=study.chance, paper_dir=REPO / "reports" / "paper",
                 out_dir=root / "reports" / "quick")
    return root / "reports" / "quick"


def test_report_writes_every_declared_file(report):
    assert sorted(path.name for path in report.iterdir()) == sorted(REPORT_FILES)
    assert all((report / name).stat().st_size > 0 for name in REPORT_FILES)


def test_report_csvs_have_one_row_per_cell_and_no_empty_cell(report):
    expected_rows = {  # 5 methods + the chance reference in the paper's tables
        "table1.csv": 6 * 2 * 3, "table2.csv": 6 * 15, "table5.csv": 6 * 15,
        "iqm.csv": 5 * 2 * 2, "probability_of_improvement.csv": 3 * 2 * 2 * 2,
        "final_scores.csv": 5 * 2 * 15, "learning_curves.csv": 5 * 2 * 2 * 4,
    }
    for name, rows in expected_rows.items():
        frame = pd.read_csv(report / name)
        assert len(frame) == rows, name
        value = "estimate" if "estimate" in frame else ("mean" if "mean" in frame else "avg_success")
        assert frame[value].notna().all(), name
    table2 = pd.read_csv(report / "table2.csv")
    reach = table2[(table2["task"] == "reach-v3") & (table2["method"] == "himeta-cd")].iloc[0]
    assert reach["paper_mean"] == 0.73 and reach["difference"] == pytest.approx(reach["mean"] - 0.73)
    assert table2[table2["method"] == "random"]["paper_mean"].isna().all()


def test_report_markdown_and_latex_are_well_formed(report):
    for stem in ("table1", "table2", "table5", "iqm", "probability_of_improvement"):
        markdown = (report / f"{stem}.md").read_text()
        rows = [line for line in markdown.splitlines() if line.startswith("|")]
        assert len({line.count("|") for line in rows}) == 1, stem  # every row has the header's width
        latex = (report / f"{stem}.tex").read_text()
        assert latex.count(r"\begin{table}") == latex.count(r"\end{table}") >= 1, stem
        assert latex.count(r"\begin{tabular}") == latex.count(r"\end{tabular}"), stem
    assert all(label in (report / "table1.md").read_text() for label in LABELS)
    assert (report / "table2.tex").read_text().count(r"\begin{table}") == 2  # ours, then beside the paper's
    assert (report / "table5.tex").read_text().count(r"\begin{table}") == 1  # the paper's text has no numbers


def test_report_figures_are_images_of_a_readable_size(report):
    for stem in ("figure4", "iqm", "probability_of_improvement"):
        height, width, _ = matplotlib.image.imread(report / f"{stem}.png").shape
        assert width >= 1200 and height >= 700, stem
        assert (report / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem


def test_summary_links_every_file_and_states_runs_budget_and_versions(report):
    summary = (report / "summary.md").read_text()
    for name in REPORT_FILES[1:]:
        assert f"]({name})" in summary, name
    assert "Seeds: 0, 1 (10 of 10 runs loaded)" in summary
    assert "metaworld: 3.1.1" in summary and "torch: 2.13.0" in summary
    assert ("- HiMeta-CD: `episode_length=500, evaluation.adaptation_episodes=1, training.checkpoint_interval=10, "
            "training.episodes_per_task=5, training.eval_interval=10, training.iterations=30`; env steps per run "
            "at the end: 750,000") in summary
    assert summary.count("| synthetic-host |") == 10
    assert "Missing data\n\nNone" in summary


def test_partial_report_marks_missing_runs(tmp_path):
    study = write_study(tmp_path / "results", ["himeta-cd", "sd"], [0, 1, 2], iterations=(0, 10))
    shutil.rmtree(study.runs[("sd", 2)].path)
    arguments = {"study": "quick", "methods": ["himeta-cd", "sd"], "seeds": [0, 1, 2], "runs": study.runs,
                 "chance": study.chance, "paper_dir": REPO / "reports" / "paper", "out_dir": tmp_path / "report"}
    with pytest.raises(MissingDataError, match="sd seed 2: missing run"):
        build_report(settings=ReportSettings(bootstrap_resamples=50), **arguments)
    assert not (tmp_path / "report").exists()  # nothing is written before the input is validated
    build_report(settings=ReportSettings(bootstrap_resamples=50, partial=True), **arguments)
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "**This is a partial report**" in summary and "- sd seed 2: missing run (" in summary
    assert "[2/3 seeds]" in (tmp_path / "report" / "table2.md").read_text()
    assert "Seeds: 0, 1, 2 (5 of 6 runs loaded)" in summary


def test_budget_is_the_budget_block_or_else_the_training_and_evaluation_settings():
    training = {"iterations": 4, "episodes_per_task": 2}
    config = {"study": "quick", "seed": 0, "training": training, "episode_length": 500, "sampler": {}}
    assert run_budget(config) == {"training": training, "episode_length": 500}
    assert run_budget({**config, "budget": {"env_steps": 10}}) == {"env_steps": 10}


def test_summary_lists_hyper_parameters_that_differ_from_the_method_file(tmp_path):
    from types import SimpleNamespace

    from analysis.summary import _method_file_lines

    (tmp_path / "pearl.yaml").write_text("algorithm: pearl\ngradient_steps: 4000\nsac: {discount: 0.99}\n")
    used = {"algorithm": "pearl", "gradient_steps": 25, "sac": {"discount": 0.99}}
    study = SimpleNamespace(methods=["pearl"], seeds=[0, 1], manifests={
        ("pearl", seed): {"config": {"method_values": used}} for seed in (0, 1)})
    assert _method_file_lines(study, tmp_path) == ["- PEARL: `gradient_steps=25` (file: 4000)"]
    used["gradient_steps"] = 4000
    assert _method_file_lines(study, tmp_path) == ["None: every run used its method file's values as they are."]
