"""Table cells against hand-computed means and sample stds, the final-point setting, the paper merge,
and the Markdown / LaTeX rendering."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import ReportInputError
from analysis.formatting import TextTable, format_estimate, latex_escape, to_latex, to_markdown
from analysis.labels import ML10, method_label
from analysis.loading import load_study
from analysis.paper import attach_paper_values, load_paper_values
from analysis.robust import improvement_pairs
from analysis.scores import final_scores, learning_curves
from analysis.settings import ReportSettings
from analysis.synthetic import write_run
from analysis.tables import overall_table, task_layouts, task_table

PAPER_DIR = Path(__file__).resolve().parents[1] / "reports" / "paper"
SEEDS = [0, 1, 2]
REACH_FINAL = {0: 0.2, 1: 0.4, 2: 0.9}  # avg_success of reach-v3 at iteration 20, per seed


def known_scores(method: str, seed: int, task: str, iteration: int) -> tuple[float, float, float]:
    """Every task scores 0.5 / 0.6 / 500 except reach-v3, whose values are set per seed and iteration."""
    if iteration == 0:
        return 0.0, 0.0, 100.0
    if task != "reach-v3":
        return 0.5, 0.6, 500.0
    avg_success = REACH_FINAL[seed] if iteration == 20 else 0.1
    return avg_success, 1.0, 1000.0 + 100.0 * seed


@pytest.fixture()
def results(tmp_path):
    """(method, seed) -> RunRef of three himeta-cd runs with :func:`known_scores`."""
    return {("himeta-cd", seed): write_run(tmp_path / f"run{seed}", "himeta-cd", seed, (0, 10, 20), known_scores)
            for seed in SEEDS}


DEFAULT_SETTINGS = ReportSettings()


def _load(results, settings=DEFAULT_SETTINGS, seeds=SEEDS):
    return load_study(study="quick", methods=["himeta-cd"], seeds=seeds, runs=results, chance={},
                      partial=settings.partial)


def _scores(results, settings=DEFAULT_SETTINGS, seeds=SEEDS):
    return final_scores(_load(results, settings, seeds).evaluations, settings)


def _cell(table, **keys):
    rows = table
    for key, value in keys.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1
    return rows.iloc[0]


def test_task_table_cells_are_means_and_sample_stds_over_seeds(results):
    scores = _scores(results)
    table2 = task_table(scores, "avg_success", ["himeta-cd"], 3, ML10)
    reach = _cell(table2, task="reach-v3")
    assert reach["mean"] == pytest.approx(0.5)  # (0.2 + 0.4 + 0.9) / 3
    assert reach["std"] == pytest.approx(math.sqrt((0.3**2 + 0.1**2 + 0.4**2) / 2))
    assert reach["seeds"] == 3
    assert _cell(table2, task="push-v3")[["mean", "std"]].tolist() == pytest.approx([0.5, 0.0])
    table5 = task_table(scores, "return", ["himeta-cd"], 3, ML10)
    assert _cell(table5, task="reach-v3")[["mean", "std"]].tolist() == pytest.approx([1100.0, 100.0])
    assert list(table2["task"]) == [  # the paper's row order: train classes, then test classes
        "reach-v3", "push-v3", "pick-place-v3", "door-open-v3", "drawer-close-v3", "button-press-topdown-v3",
        "peg-insert-side-v3", "window-open-v3", "sweep-v3", "basketball-v3", "drawer-open-v3",
        "door-close-v3", "shelf-place-v3", "sweep-into-v3", "lever-pull-v3"]


def test_table1_averages_tasks_within_a_seed_then_over_seeds(results):
    table1 = overall_table(_scores(results), ["himeta-cd"], 3, ML10)
    train = _cell(table1, split="train", metric="avg_success")
    # per seed: (9 * 0.5 + reach) / 10 = 0.47, 0.49, 0.54
    assert train["mean"] == pytest.approx(0.5)
    assert train["std"] == pytest.approx(math.sqrt((0.03**2 + 0.01**2 + 0.04**2) / 2))
    test = _cell(table1, split="test", metric="success")
    assert (test["mean"], test["std"], test["seeds"]) == pytest.approx((0.6, 0.0, 3))


def test_mean_of_last_k_averages_the_final_evaluation_points(results):
    settings = ReportSettings(final_point="mean_last_k", last_k=2)
    reach = _cell(task_table(_scores(results, settings), "avg_success", ["himeta-cd"], 3, ML10), task="reach-v3")
    assert reach["mean"] == pytest.approx(((0.1 + 0.2) + (0.1 + 0.4) + (0.1 + 0.9)) / 6)
    with pytest.raises(ReportInputError, match="himeta-cd has 3 evaluation point.*last_k = 4"):
        _scores(results, ReportSettings(final_point="mean_last_k", last_k=4))


def test_partial_report_counts_only_the_seeds_that_are_there(results):
    shutil.rmtree(results[("himeta-cd", 2)].path)
    path = results[("himeta-cd", 1)].path / "eval.csv"
    frame = pd.read_csv(path)
    frame[~((frame["task"] == "push-v3") & (frame["iteration"] == 20))].to_csv(path, index=False)
    scores = _scores(results, ReportSettings(partial=True))
    table2 = task_table(scores, "avg_success", ["himeta-cd"], 3, ML10)
    assert _cell(table2, task="reach-v3")[["mean", "seeds"]].tolist() == pytest.approx([0.3, 2])
    assert _cell(table2, task="push-v3")["seeds"] == 1
    table1 = overall_table(scores, ["himeta-cd"], 3, ML10)
    assert _cell(table1, split="train", metric="avg_success")[["mean", "seeds"]].tolist() == pytest.approx([0.47, 1])
    assert _cell(table1, split="test", metric="avg_success")["seeds"] == 2
    markdown = to_markdown(task_layouts(table2, ["himeta-cd"], "Table 2.", "last", ML10, {})[0])
    assert "| Reach | 0.30 ± 0.14 [2/3 seeds] |" in markdown
    assert "| Push | 0.50 [1/3 seeds] |" in markdown


def test_learning_curves_average_the_tasks_of_a_split_per_eval_point(results):
    curves = learning_curves(_load(results).evaluations, ML10)
    seed2_train = curves[(curves["seed"] == 2) & (curves["split"] == "train")].set_index("iteration")
    assert seed2_train.loc[20, "avg_success"] == pytest.approx((9 * 0.5 + 0.9) / 10)
    assert seed2_train.loc[10, "env_steps"] == 10 * 50 * 500


def test_paper_table2_is_transcribed_with_its_source_and_merged_beside_ours(results):
    paper = load_paper_values(PAPER_DIR)
    table2 = paper[paper["table"] == "table2"]
    assert len(table2) == 15 * 5 and table2["source"].str.startswith("Table 2").all()
    assert _cell(table2, task="reach-v3", method="himeta-cd")[["mean", "std"]].tolist() == [0.73, 0.11]
    assert _cell(table2, task="basketball-v3", method="sd")[["mean", "std"]].tolist() == [0.30, 0.30]
    ours = task_table(_scores(results), "avg_success", ["himeta-cd", "new-baseline"], 3, ML10)
    merged = attach_paper_values(ours, paper, "table2")
    reach = _cell(merged, task="reach-v3", method="himeta-cd")
    assert reach["difference"] == pytest.approx(0.5 - 0.73)
    unknown = _cell(merged, task="reach-v3", method="new-baseline")
    assert unknown["seeds"] == 0 and math.isnan(unknown["paper_mean"])
    layouts = task_layouts(merged, ["himeta-cd", "new-baseline"], "Table 2.", "last", ML10, {})
    comparison = to_markdown(layouts[1])
    assert "| Reach | 0.50 ± 0.36 / 0.73 ± 0.11 (Δ -0.23) | — / — |" in comparison


def test_cell_formatting_and_latex_rendering():
    assert format_estimate(0.5, 0.25, 3, 3, 2) == "0.50 ± 0.25"
    assert format_estimate(0.5, math.nan, 1, 5, 2) == "0.50 [1/5 seeds]"
    assert format_estimate(math.nan, math.nan, 0, 5, 2) == "—"
    assert latex_escape("a_b & 50% ± 1") == r"a\_b \& 50\% $\pm$ 1"
    table = TextTable("Cap_tion", ["Task", "A"], [("Train", [["Reach", "0.1 ± 0.2"]])], ["note"])
    latex = to_latex(table, "tab:x")
    assert r"\caption{Cap\_tion}" in latex and r"\multicolumn{2}{l}{\textit{Train}} \\" in latex
    assert r"Reach & 0.1 $\pm$ 0.2 \\" in latex and latex.count(r"\begin{tabular}{lr}") == 1
    grouped = TextTable("T", ["Method", "S", "R", "S", "R"], [(None, [["A", "1", "2", "3", "4"]])],
                        groups=[("Train", 2), ("Test", 2)])
    assert r" & \multicolumn{2}{c}{Train} & \multicolumn{2}{c}{Test} \\" in to_latex(grouped, "tab:y")
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in to_latex(grouped, "tab:y")
    assert "| Method | S (train) | R (train) | S (test) | R (test) |" in to_markdown(grouped)
    with pytest.raises(ValueError, match="do not span"):
        TextTable("T", ["Method", "S"], [], groups=[("Train", 2)])


def test_unknown_methods_keep_their_name_and_count_as_baselines():
    assert method_label("himeta-cd") == "HiMeta-CD" and method_label("peach-v2") == "peach-v2"
    assert ML10.task_label("button-press-topdown-v3") == "Button-press"
    assert ML10.task_label("sweep-into-v3") == "Sweep-into"
    assert improvement_pairs(["himeta-cd", "sd", "himeta-st", "peach-v2"]) == [
        ("himeta-cd", "sd"), ("himeta-cd", "peach-v2"), ("himeta-st", "sd"), ("himeta-st", "peach-v2")]
