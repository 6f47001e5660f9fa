"""The input checks of issue 18: paper keys, impossible values, the settings hash, the training budget,
the chance reference's gaps, env steps against the manifest and train log, Figure 4's seed marks and
styles, the paper's own precision, and suites other than ML10."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import CorruptRunFileError, MissingDataError, ReportInputError, StaleRunError
from analysis.figures import FEWER_SEEDS_LABEL, learning_figure, method_styles
from analysis.formatting import to_markdown
from analysis.labels import ML10, Suite, suite_tasks
from analysis.loading import RunRef, load_study
from analysis.paper import attach_paper_values, load_paper_values
from analysis.report import build_report
from analysis.scores import final_scores, learning_curves
from analysis.settings import ReportSettings
from analysis.synthetic import SyntheticStudy, write_study
from analysis.tables import overall_layouts, overall_table, task_layouts, task_table

REPO = Path(__file__).resolve().parents[1]
PAPER_DIR = REPO / "reports" / "paper"
METHODS, SEEDS = ["himeta-cd", "sd"], [0, 1, 2]
HEADER = "table,split,task,method,metric,mean,std,source\n"


@pytest.fixture()
def results(tmp_path) -> SyntheticStudy:
    return write_study(tmp_path, METHODS, SEEDS, iterations=(0, 10, 20))


def load(results: SyntheticStudy, partial: bool = False, methods=METHODS, seeds=SEEDS, suite="ml10"):
    return load_study(study="quick", methods=methods, seeds=seeds, runs=results.runs, chance=results.chance,
                      suite=suite, partial=partial)


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV with ``change(frame)`` (which returns the new frame)."""
    change(pd.read_csv(path)).to_csv(path, index=False)


def set_where(column: str, keep, value):
    """A ``change`` for :func:`edit_csv`: ``column`` becomes ``value(frame)`` where ``keep(frame)`` fails."""
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object).where(keep(frame), value(frame))
        return frame
    return change


def edit_manifest(path: Path, change) -> None:
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


# Item 9: paper values with a key typo are refused, naming file and line.

@pytest.mark.parametrize("row, problem", [
    ("table2,train,reach-v33,himeta-cd,avg_success,0.7,0.1,x", "unknown task 'reach-v33'"),
    ("table2,tran,reach-v3,himeta-cd,avg_success,0.7,0.1,x", "unknown split 'tran'"),
    ("table2,train,reach-v3,himeta-cdd,avg_success,0.7,0.1,x", "unknown method 'himeta-cdd'"),
    ("table2,train,reach-v3,himeta-cd,avg-success,0.7,0.1,x", "metric 'avg-success' is not one of table2's"),
    ("table2,train,reach-v3,himeta-cd,return,0.7,0.1,x", "metric 'return' is not one of table2's"),
    ("table2,test,reach-v3,himeta-cd,avg_success,0.7,0.1,x", "task 'reach-v3' is in ML10's 'train' split, not 'test'"),
    ("table1,train,reach-v3,himeta-cd,avg_success,0.7,0.1,x", "table1 rows leave 'task' empty"),
    ("table9,train,reach-v3,himeta-cd,avg_success,0.7,0.1,x", "unknown table 'table9'"),
    ("table2,train,reach-v3,himeta-cd,avg_success,high,0.1,x", "'mean' is 'high'"),
])
def test_paper_value_with_an_unknown_key_is_refused_naming_file_and_line(tmp_path, row, problem):
    path = tmp_path / "values.csv"
    path.write_text("# source comment\n" + HEADER + "table2,train,push-v3,sd,avg_success,0.1,,x\n" + row + "\n")
    with pytest.raises(CorruptRunFileError, match=rf"values\.csv: line 4: {problem}"):
        load_paper_values(tmp_path)


def test_paper_value_that_matches_no_cell_of_our_table_is_refused(tmp_path):
    (tmp_path / "values.csv").write_text(HEADER + "table2,train,push-v3,sd,avg_success,0.1,,x\n")
    paper = load_paper_values(tmp_path)
    ours = pd.DataFrame({"split": ["train"], "task": ["reach-v3"], "method": ["sd"], "metric": ["avg_success"],
                         "mean": [0.5]})
    with pytest.raises(CorruptRunFileError, match=r"values\.csv: line 2: table2 value .* matches no cell"):
        attach_paper_values(ours, paper, "table2")
    assert attach_paper_values(ours.assign(method="peach"), paper, "table2")["paper_mean"].isna().all()


def test_duplicate_paper_values_name_both_lines(tmp_path):
    (tmp_path / "values.csv").write_text(HEADER + "table2,train,push-v3,sd,avg_success,0.1,,x\n" * 2)
    with pytest.raises(CorruptRunFileError, match=r"more than one value .*values\.csv line 2, .*values\.csv line 3"):
        load_paper_values(tmp_path)


# Item 10: impossible values are refused, naming file and line.

@pytest.mark.parametrize("column, value, problem", [
    ("return", "inf", "column 'return' has a missing, non-numeric or infinite value on line 5"),
    ("return", -1.0, r"line 5 \(iteration 0, task 'door-open-v3'\): 'return' is negative"),
    ("return", 5000.5, "line 5 .*'return' exceeds 5000"),
    ("success", 1.5, "line 5 .*'success' lies outside"),
    ("avg_success", 0.99, "line 5 .*'avg_success' exceeds 'success'"),
])
def test_impossible_value_is_refused_naming_file_and_line(results, column, value, problem):
    path = results.runs[("sd", 0)].path / "eval.csv"
    edit_csv(path, set_where(column, lambda frame: frame.index != 3, lambda frame: value))
    with pytest.raises(CorruptRunFileError, match=problem) as error:
        load(results, partial=True)
    assert str(path) in str(error.value)


def test_return_bound_follows_the_manifest_episode_length(results):
    edit_manifest(results.runs[("sd", 0)].path / "manifest.json",
                  lambda manifest: manifest["config"].update(episode_length=100))
    with pytest.raises(CorruptRunFileError, match="'return' exceeds 1000"):
        load(results)


# Item 11: a run produced with other settings (another config_hash) is refused.

def test_run_with_another_config_hash_is_refused_naming_file_and_both_hashes(results):
    ref = results.runs[("sd", 1)]
    runs = {**results.runs, ("sd", 1): RunRef(ref.path, "f" * 64)}
    with pytest.raises(StaleRunError, match=rf"manifest\.json: config_hash is '{ref.config_hash}' but the study "
                       rf"expects '{'f' * 64}': the run was produced with other settings"):
        load_study(study="quick", methods=METHODS, seeds=SEEDS, runs=runs, chance=results.chance, partial=True)


def test_study_without_a_location_for_a_run_is_an_input_error(results):
    runs = {key: ref for key, ref in results.runs.items() if key != ("sd", 2)}
    with pytest.raises(ReportInputError, match=r"no location for \[\('sd', 2\)\]"):
        load_study(study="quick", methods=METHODS, seeds=SEEDS, runs=runs, chance=results.chance)


# Item 12: a run that stopped before its training budget is an error, or marked in a partial report.

def _stop_early(results, method, seed, budget=30):
    edit_manifest(results.runs[(method, seed)].path / "manifest.json",
                  lambda manifest: manifest["config"]["training"].update(iterations=budget))


def test_run_that_stopped_before_its_budget_is_an_error(results):
    _stop_early(results, "sd", 0)
    with pytest.raises(MissingDataError, match=r"sd seed 0: missing end of training \(stopped early: last "
                       r"evaluation at iteration 20 of 30\)"):
        load(results)


def test_partial_report_marks_a_run_that_stopped_early_in_tables_and_summary(results, tmp_path):
    for seed in SEEDS:
        _stop_early(results, "sd", seed)
    build_report(study="quick", methods=METHODS, seeds=SEEDS, settings=ReportSettings(partial=True,
                 bootstrap_resamples=20), runs=results.runs, chance=results.chance, paper_dir=PAPER_DIR,
                 out_dir=tmp_path / "report")
    table1 = (tmp_path / "report" / "table1.md").read_text()
    assert "| SD * |" in table1 and "| HiMeta-CD |" in table1
    assert "* Scored before the end of the training budget (partial report): SD seed 0 (stopped early: last " \
           "evaluation at iteration 20 of 30)" in table1
    assert "| Task | HiMeta-CD | SD * | Random |" in (tmp_path / "report" / "table2.md").read_text()
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "- sd seed 2: missing end of training (stopped early" in summary
    assert "| SD | 0 | 20 of 30 (**stopped early**) |" in summary


def test_evaluation_beyond_the_budget_is_corrupt(results):
    _stop_early(results, "sd", 0, budget=10)
    with pytest.raises(CorruptRunFileError, match="iteration 20, beyond the manifest's budget of 10"):
        load(results, partial=True)


# Item 13: the chance reference follows the same rules as the method runs.

def test_missing_chance_seed_is_an_error_or_a_gap_when_partial(results):
    (results.chance[1] / "eval.csv").unlink()
    with pytest.raises(MissingDataError, match=r"random seed 1: missing run \(no eval\.csv in .*seed_1\)"):
        load(results)
    study = load(results, partial=True)
    assert [str(gap).split(" (")[0] for gap in study.gaps] == ["random seed 1: missing run"]
    assert sorted(study.chance["seed"].unique()) == [0, 2]
    without = {seed: path for seed, path in results.chance.items() if seed != 2}
    with pytest.raises(MissingDataError, match="random seed 2: missing run .no eval.csv given for this seed"):
        load_study(study="quick", methods=METHODS, seeds=SEEDS, runs=results.runs, chance=without)


def test_chance_reference_lacking_a_task_is_a_gap(results):
    edit_csv(results.chance[0] / "eval.csv", lambda frame: frame.iloc[:-1])
    with pytest.raises(MissingDataError, match=r"random seed 0: missing task \(lever-pull-v3 at iteration 0\)"):
        load(results)


def test_corrupt_chance_value_is_an_error_even_when_partial(results):
    path = results.chance[2] / "eval.csv"
    edit_csv(path, set_where("return", lambda frame: frame.index != 0, lambda frame: "inf"))
    with pytest.raises(CorruptRunFileError, match="infinite value on line 2") as error:
        load(results, partial=True)
    assert str(path) in str(error.value)


def test_study_without_a_chance_reference_has_none(results):
    study = load_study(study="quick", methods=METHODS, seeds=SEEDS, runs=results.runs, chance={})
    assert study.chance is None and study.gaps == ()


# Item 15: env steps agree between eval.csv, train_log.csv and the manifest.

def test_eval_env_steps_that_differ_from_the_train_log_are_refused(results):
    path = results.runs[("sd", 0)].path / "eval.csv"
    edit_csv(path, set_where("env_steps", lambda frame: frame["iteration"] != 10,
                             lambda frame: frame["env_steps"] + 7))
    with pytest.raises(CorruptRunFileError, match=r"eval\.csv: env_steps at iteration 10 is \[250007\] but "
                       r".*train_log\.csv says 250000"):
        load(results, partial=True)


def test_untrained_point_with_env_steps_is_refused(results):
    edit_csv(results.runs[("sd", 0)].path / "eval.csv",
             set_where("env_steps", lambda frame: frame["iteration"] != 0, lambda frame: 5))
    with pytest.raises(CorruptRunFileError, match=r"env_steps at iteration 0 is \[5\] but .* says 0"):
        load(results)


def test_manifest_env_steps_that_differ_from_the_last_eval_point_are_refused(results):
    edit_manifest(results.runs[("sd", 2)].path / "manifest.json", lambda manifest: manifest.update(env_steps=1))
    with pytest.raises(CorruptRunFileError, match=r"eval\.csv: env_steps at the last evaluation \(iteration 20\) "
                       r"is 500000 but .*manifest\.json says 1"):
        load(results)


def test_eval_point_missing_from_the_train_log_is_refused(results):
    edit_csv(results.runs[("sd", 2)].path / "train_log.csv",
             lambda frame: frame[frame["iteration"] != 10])
    with pytest.raises(CorruptRunFileError, match=r"evaluation at iteration 10 but .*train_log\.csv has no row"):
        load(results)


# Item 16: Figure 4 says how many seeds a method and a point average.

def _legend_texts(figure) -> list[str]:
    return [text.get_text() for text in figure.legends[0].get_texts()]


def test_partial_figure4_marks_missing_seeds_in_the_legend_and_at_points(results):
    shutil.rmtree(results.runs[("sd", 2)].path)
    curves = learning_curves(load(results, partial=True).evaluations, ML10)
    figure = learning_figure(curves, METHODS, None, 3, ML10)
    assert _legend_texts(figure) == ["HiMeta-CD", "SD (n=2 of 3 seeds)"]  # every point of SD has its 2 seeds
    fewer = curves[~((curves["method"] == "himeta-cd") & (curves["seed"] == 1) & (curves["iteration"] == 20))]
    figure = learning_figure(fewer, METHODS, None, 3, ML10)
    assert _legend_texts(figure) == ["HiMeta-CD", "SD (n=2 of 3 seeds)", FEWER_SEEDS_LABEL]
    rings = [line for line in figure.axes[0].get_lines() if line.get_markerfacecolor() == "none"
             and len(line.get_xdata())]
    assert len(rings) == 1 and list(rings[0].get_xdata()) == [500.0]  # 20 iterations = 500 thousand steps


# Item 17: the paper's own precision; six methods drawn distinctly.

def test_paper_values_keep_the_papers_own_text(tmp_path):
    study = write_study(tmp_path, ["himeta-cm"], SEEDS, iterations=(0, 10, 20))
    scores = final_scores(load(study, methods=["himeta-cm"]).evaluations, ReportSettings())
    merged = attach_paper_values(task_table(scores, "avg_success", ["himeta-cm"], 3, ML10),
                                 load_paper_values(PAPER_DIR), "table2")
    reach = merged[merged["task"] == "reach-v3"].iloc[0]
    assert reach["paper_text"] == "0.64 ± 0.3" and reach["paper_std"] == 0.3
    comparison = to_markdown(task_layouts(merged, ["himeta-cm"], "T", "last", ML10, {})[1])
    assert f"| Reach | {reach['mean']:.2f} ± {reach['std']:.2f} / 0.64 ± 0.3 (Δ " in comparison
    assert "/ 0.0 ± 0.0 (Δ" in comparison  # Push: the paper prints one decimal


def test_six_methods_have_distinct_colours_markers_and_line_styles(tmp_path):
    six = ["himeta-cd", "himeta-cm", "himeta-st", "sd", "pearl", "peach"]
    styles = method_styles(six)
    assert len({style.colour for style in styles.values()}) == 6
    assert len({style.marker for style in styles.values()}) == 6
    assert len({str(style.linestyle) for style in styles.values()}) == 6
    study = write_study(tmp_path, six, [0, 1], iterations=(0, 10), chance=False)
    curves = learning_curves(load(study, methods=six, seeds=[0, 1]).evaluations, ML10)
    lines = [line for line in learning_figure(curves, six, None, 2, ML10).axes[0].get_lines()
             if line.get_linestyle() != "None"]
    assert len({(line.get_marker(), str(line.get_linestyle())) for line in lines}) == 6


# Suites: ML1 and ML45 task keys, labels and titles; the paper's values are ML10's.

def test_suite_tasks_of_ml10_ml1_and_ml45():
    assert suite_tasks("ml10") == ML10.tasks and len(ML10.tasks["train"]) == 10
    assert suite_tasks("ml1:reach-v3") == {"train": ("reach-v3/train",), "test": ("reach-v3/test",)}
    ml45 = suite_tasks("ml45")
    assert (len(ml45["train"]), len(ml45["test"])) == (45, 5) and "bin-picking-v3" in ml45["test"]
    for bad in ("ml5", "ml1:", "ML10"):
        with pytest.raises(ReportInputError, match="unknown suite"):
            suite_tasks(bad)


def test_suite_labels_and_titles():
    ml1, ml45 = Suite.named("ml1:reach-v3"), Suite.named("ml45")
    assert ml1.task_label("reach-v3/train") == "Reach (train variants)"
    assert ml1.split_title("test") == "test tasks (reach-v3, test variants)" and ml1.title == "ML1 (reach-v3)"
    assert ml45.task_label("pick-place-wall-v3") == "Pick-place-wall"
    assert ml45.task_label("button-press-topdown-v3") == "Button-press-topdown"
    assert ml45.split_title("train") == "train tasks (45 ML45 classes)"
    assert ML10.split_title("test") == "test tasks (5 ML10 classes)"


def test_ml1_report_follows_the_suite_and_has_no_paper_values(tmp_path):
    ml1 = Suite.named("ml1:reach-v3")
    study = write_study(tmp_path / "results", METHODS, [0, 1], iterations=(0, 10), suite=ml1)
    with pytest.raises(CorruptRunFileError, match="unknown task 'reach-v3/train' .not a task of ML10"):
        load(study, seeds=[0, 1])
    build_report(study="ml1", methods=METHODS, seeds=[0, 1], settings=ReportSettings(bootstrap_resamples=20),
                 runs=study.runs, chance=study.chance, paper_dir=PAPER_DIR, out_dir=tmp_path / "report",
                 suite="ml1:reach-v3")
    report = tmp_path / "report"
    table2 = (report / "table2.md").read_text()
    assert "Table 2: task-wise average success on ML1 (reach-v3)." in table2
    assert "| Reach (train variants) |" in table2 and "| Reach (test variants) |" in table2
    assert "Beside the paper" not in table2
    assert "on the ML1 (reach-v3) train and test tasks" in (report / "table1.md").read_text()
    assert len(pd.read_csv(report / "table5.csv")) == 2 * 3  # two tasks x (2 methods + random)
    summary = (report / "summary.md").read_text()
    assert "# Study `ml1`: ML1 (reach-v3) report" in summary
    assert "the paper has no numbers for ML1 (reach-v3)" in summary


def test_figure4_titles_follow_the_suite(tmp_path):
    ml1 = Suite.named("ml1:reach-v3")
    study = write_study(tmp_path, ["sd"], [0], iterations=(0, 10), suite=ml1, chance=False)
    curves = learning_curves(load(study, methods=["sd"], seeds=[0], suite=ml1).evaluations, ml1)
    figure = learning_figure(curves, ["sd"], None, 1, ml1)
    assert figure.axes[0].get_title() == "(a) Average success, train tasks (reach-v3, train variants)"
    assert figure._suptitle.get_text().startswith("ML1 (reach-v3) learning curves")


def test_table1_layout_marks_nothing_for_complete_runs(results):
    scores = final_scores(load(results).evaluations, ReportSettings())
    layout = overall_layouts(overall_table(scores, METHODS, 3, ML10), METHODS, "T", "last", {})[0]
    assert [row[0] for row in layout.sections[0][1]] == ["HiMeta-CD", "SD"]
    assert not any("training budget" in note for note in layout.notes)
