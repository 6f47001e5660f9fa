"""Loading a study: missing data raises the documented error naming it; corrupt files name the file."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from analysis.errors import CorruptRunFileError, MissingDataError, ReportInputError
from analysis.loading import load_study
from analysis.settings import ReportSettings
from analysis.synthetic import SyntheticStudy, write_study

STUDY, METHODS, SEEDS = "quick", ["himeta-cd", "sd"], [0, 1, 2]


@pytest.fixture()
def results(tmp_path) -> SyntheticStudy:
    return write_study(tmp_path, METHODS, SEEDS, iterations=(0, 10, 20))


def load(results: SyntheticStudy, partial: bool = False):
    return load_study(study=STUDY, methods=METHODS, seeds=SEEDS, runs=results.runs, chance=results.chance,
                      partial=partial)


def run_dir(results: SyntheticStudy, method: str, seed: int):
    return results.runs[(method, seed)].path


def _drop_rows(results, method, seed, keep):
    path = run_dir(results, method, seed) / "eval.csv"
    frame = pd.read_csv(path)
    frame[keep(frame)].to_csv(path, index=False)


def test_complete_study_loads_every_run_and_the_chance_reference(results):
    study = load(results)
    assert study.runs() == [(m, s) for m in METHODS for s in SEEDS]
    assert len(study.evaluations) == len(METHODS) * len(SEEDS) * 3 * 15
    assert study.gaps == () and sorted(study.chance["seed"].unique()) == SEEDS


def test_missing_seed_is_an_error_naming_method_seed_and_file(results):
    shutil.rmtree(run_dir(results, "sd", 1))
    with pytest.raises(MissingDataError, match=r"sd seed 1: missing run \(no eval\.csv, train_log\.csv, "
                       r"manifest\.json in .*runs/\w{12}\)") as error:
        load(results)
    assert "report.partial: true" in str(error.value)


def test_missing_task_is_an_error_naming_task_iteration_and_run(results):
    _drop_rows(results, "himeta-cd", 2, lambda f: ~((f["task"] == "lever-pull-v3") & (f["iteration"] == 20)))
    with pytest.raises(MissingDataError, match=r"himeta-cd seed 2: missing task \(lever-pull-v3 at iteration 20\)"):
        load(results)


def test_missing_eval_point_is_an_error_naming_the_iteration(results):
    _drop_rows(results, "sd", 0, lambda f: f["iteration"] != 10)
    with pytest.raises(MissingDataError, match=r"sd seed 0: missing eval point \(iteration 10\)"):
        load(results)


def test_partial_study_records_every_gap_instead(results):
    shutil.rmtree(run_dir(results, "sd", 1))
    _drop_rows(results, "himeta-cd", 2, lambda f: f["task"] != "reach-v3")
    study = load(results, partial=True)
    assert (("sd", 1) not in study.manifests) and len(study.runs()) == 5
    kinds = sorted((gap.method, gap.seed, gap.kind) for gap in study.gaps)
    assert kinds == [("himeta-cd", 2, "task")] * 3 + [("sd", 1, "run")]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("eval.csv", "iteration,env_steps\n1,2\n1,2,3,4\n", "not a readable CSV"),
        ("eval.csv", "iteration,split,task\n0,train,reach-v3\n", "lacks column"),
        ("train_log.csv", "", "not a readable CSV"),
        ("manifest.json", "{\"git_commit\": ", "not valid JSON"),
    ],
)
def test_corrupt_run_file_is_an_error_naming_the_file(results, name, content, message):
    path = run_dir(results, "sd", 2) / name
    path.write_text(content)
    with pytest.raises(CorruptRunFileError, match=message) as error:
        load(results, partial=True)  # corrupt is never "partial"
    assert str(path) in str(error.value)


def test_non_numeric_metric_names_file_column_and_line(results):
    path = run_dir(results, "himeta-cd", 0) / "eval.csv"
    frame = pd.read_csv(path).astype({"avg_success": object})
    frame.loc[4, "avg_success"] = "oops"
    frame.to_csv(path, index=False)
    with pytest.raises(CorruptRunFileError, match=r"eval\.csv: column 'avg_success' .* line 6"):
        load(results)


def test_task_in_the_wrong_split_is_corrupt(results):
    path = run_dir(results, "sd", 0) / "eval.csv"
    frame = pd.read_csv(path)
    frame.loc[frame["task"] == "reach-v3", "split"] = "test"
    frame.to_csv(path, index=False)
    with pytest.raises(CorruptRunFileError, match="'reach-v3' is labelled 'test'"):
        load(results)


def test_manifest_of_another_seed_is_rejected(results):
    path = run_dir(results, "sd", 0) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["config"]["seed"] = 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(CorruptRunFileError, match=r"config.seed is 1 but the study reads it as seed 0"):
        load(results)


@pytest.mark.parametrize(
    "block, message",
    [({"final_point": "best"}, "final_point"), ({"last_k": 0}, "last_k"), ({"lastk": 2}, "lastk"),
     ({"confidence": 1.5}, "confidence")],
)
def test_bad_report_settings_are_named(block, message):
    with pytest.raises(ReportInputError, match=message):
        ReportSettings.from_config(block)
