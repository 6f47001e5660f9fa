"""The study DAG for real: Snakemake runs on tiny configs, the paper config's dry run under the SLURM
profile, config validation, rerun triggers, a training job killed mid-run and resumed, and a run through
a real single-node SLURM cluster (tests/slurm_cluster.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from slurm_cluster import start_cluster

from algorithms.trainer import TIMING_COLUMNS
from analysis.labels import method_label
from analysis.report import REPORT_FILES

REPO = Path(__file__).resolve().parents[1]
METHODS = ["himeta-cd", "himeta-cm", "himeta-st", "sd", "pearl"]
FAST_OVERRIDES = {  # learner work sized for 20-step episodes; the protocol is untouched
    "pearl": {"gradient_steps": 5, "prior_episodes": 1, "meta_batch_size": 4, "batch_size": 32,
              "embedding_batch_size": 16},
    "sd": {"vae_updates": 2},
    "himeta-cd": {"him_updates": 2}, "himeta-cm": {"him_updates": 2}, "himeta-st": {"him_updates": 2},
}
TINY = {
    "study": "tiny",
    "methods": METHODS,
    "seeds": [3, 4],
    "benchmark": "ml10",
    "benchmark_seed": 0,
    "episode_length": 20,
    "training": {"iterations": 2, "episodes_per_task": 2, "eval_interval": 1, "checkpoint_interval": 1},
    "evaluation": {"variants_per_class": 1, "episodes_per_variant": 2, "scored_episodes": "all"},
    "sampler": {"num_workers": 2, "max_slots": 50, "pipeline_groups": 4},
    "device": "auto",
    "overrides": FAST_OVERRIDES,
    "report": {"final_point": "last", "bootstrap_resamples": 200},
    "metaworld_evaluation": {"enabled": False},  # on in test_tiny_ml1_study_end_to_end
}
RUN_FILES = ("eval.csv", "eval_episodes.csv", "train_log.csv", "manifest.json")


def _with(config: dict, **changes) -> dict:
    return {**config, **changes}


def _only(paths: list[Path]) -> Path:
    assert len(paths) == 1, paths
    return paths[0]


def _run_dir(workdir: Path, method: str, seed: int) -> Path:
    """The one run folder of (method, seed): results/runs/{method}/seed_{seed}/{run id}."""
    return _only(sorted((workdir / "results" / "runs" / method / f"seed_{seed}").glob("*/")))


def _run_log(workdir: Path, method: str, seed: int) -> Path:
    return _only(sorted((workdir / "logs" / "train" / method / f"seed_{seed}").glob("*.log")))


def _snakemake(workdir: Path, config: dict, *args: str, cwd: Path | None = None, timeout: int = 900,
               env: dict | None = None) -> subprocess.CompletedProcess:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(workdir / "config.yaml"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd or workdir, env=env,
    )


def _scheduled(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs, rule = [], None
    for line in dry_run_output.splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):", line):
            rule = match.group(1)
            jobs.append((rule, ""))
        elif match := re.match(r"^\s+wildcards: (.*)$", line):
            jobs[-1] = (rule, match.group(1))
    return jobs


def _train_jobs(dry_run_output: str) -> list[str]:
    """``method=..., seed=...`` of every training job a dry run lists (its run id left out)."""
    return sorted(re.sub(r", run_id=\w+", "", wildcards)
                  for rule, wildcards in _scheduled(dry_run_output) if rule == "train")


def test_tiny_study_produces_every_file_and_reruns_only_what_changed(tmp_path):
    result = _snakemake(tmp_path, TINY, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]

    for method in METHODS:
        for seed in (3, 4):
            run = _run_dir(tmp_path, method, seed)
            evaluation = pd.read_csv(run / "eval.csv")
            assert sorted(evaluation["iteration"].unique()) == [0, 1, 2]
            assert len(evaluation) == 3 * 15 and evaluation["avg_success"].between(0, 1).all()
            assert evaluation.groupby("iteration")["env_steps"].first().tolist() == [0, 400, 800]
            assert len(pd.read_csv(run / "eval_episodes.csv")) == 3 * 15 * 2
            train_log = pd.read_csv(run / "train_log.csv")
            assert train_log["iteration"].tolist() == [1, 2] and train_log.notna().all().all()
            manifest = json.loads((run / "manifest.json").read_text())
            assert manifest["config"]["method"] == method and manifest["config"]["seed"] == seed
            assert manifest["config"]["method_values"]["algorithm"] in {"himeta", "sd", "pearl"}
            assert manifest["packages"]["metaworld"] == "3.1.1" and manifest["env_steps"] == 800
            log = _run_log(tmp_path, method, seed).read_text()
            assert "iteration 2/2 | env steps 800" in log and "ETA" in log and "eval after 2" in log

    report = tmp_path / "reports" / "tiny"
    for name in REPORT_FILES:
        assert (report / name).stat().st_size > 0, name
    assert (report / "figure4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table1 = pd.read_csv(report / "table1.csv")
    assert set(METHODS) <= set(table1["method"])
    summary = (report / "summary.md").read_text()
    assert all(method in summary for method in METHODS)
    assert (report / "chance_summary.csv").exists()

    # python -m analysis finds the same runs through the same plan and writes the same tables
    cli = subprocess.run([sys.executable, "-m", "analysis", "--config", str(tmp_path / "config.yaml"),
                          "--results", str(tmp_path / "results"), "--out", str(tmp_path / "by-hand")],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert cli.returncode == 0, cli.stderr[-3000:]
    for name in ("table1.csv", "table2.csv", "final_scores.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "by-hand" / name), pd.read_csv(report / name))

    # nothing changed: nothing to do
    again = _snakemake(tmp_path, TINY, "--cores", "2", "-n")
    assert again.returncode == 0 and _scheduled(again.stdout) == [], again.stdout[-2000:]
    # one method's hyper-parameter changed: only that method's jobs and the report rerun
    edited = _with(TINY, overrides={**FAST_OVERRIDES, "sd": {"vae_updates": 2, "gamma": 0.98}})
    dry = _snakemake(tmp_path, edited, "--cores", "2", "-n")
    assert _train_jobs(dry.stdout) == ["method=sd, seed=3", "method=sd, seed=4"], dry.stdout[-3000:]
    assert {rule for rule, _ in _scheduled(dry.stdout)} == {"train", "report", "all"}
    # one more seed: only that seed's training jobs, its chance-level reference and re-aggregation
    dry = _snakemake(tmp_path, _with(TINY, seeds=[3, 4, 5]), "--cores", "2", "-n")
    assert _train_jobs(dry.stdout) == [f"method={method}, seed=5" for method in sorted(METHODS)]
    assert {rule for rule, _ in _scheduled(dry.stdout)} == {
        "train", "evaluate_random", "summarise_random", "report", "all"}

    # Snakemake's own HTML report shows the tables and figures with their captions
    html = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                           str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), "--report",
                           str(tmp_path / "report.html")], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert html.returncode == 0, html.stderr[-3000:]
    page = (tmp_path / "report.html").read_text()
    for shown in ("figure4.png", "table1.csv", "table2.csv", "iqm.png", "Learning curves", "Table 1"):
        assert shown.lower() in page.lower(), shown

    # a study with other settings for a cell gets its own run folder: nothing of this study is touched
    first_runs = {path: path.stat().st_mtime for path in (tmp_path / "results" / "runs").rglob("eval.csv")}
    other = _with(TINY, study="tiny-other", methods=["sd"], seeds=[3], overrides={"sd": {"vae_updates": 1}},
                  training={**TINY["training"], "iterations": 1})
    assert _snakemake(tmp_path, other, "--cores", "2").returncode == 0
    assert {path: path.stat().st_mtime for path in first_runs} == first_runs
    assert len(list((tmp_path / "results" / "runs" / "sd" / "seed_3").glob("*/eval.csv"))) == 2
    assert _scheduled(_snakemake(tmp_path, TINY, "--cores", "2", "-n").stdout) == []

    # the extended study (the added baseline, PEACH): only PEACH's runs, then a report of all six
    extended = _with(TINY, study="tiny-extended", methods=[*METHODS, "peach"],
                     overrides={**FAST_OVERRIDES, "peach": FAST_OVERRIDES["pearl"]})
    dry = _snakemake(tmp_path, extended, "--cores", "2", "-n")
    assert _train_jobs(dry.stdout) == ["method=peach, seed=3", "method=peach, seed=4"], dry.stdout[-3000:]
    # the chance reference is reused (same protocol id); only its per-study summary table is new
    assert {rule for rule, _ in _scheduled(dry.stdout)} == {"train", "summarise_random", "report", "all"}
    result = _snakemake(tmp_path, extended, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    table1 = pd.read_csv(tmp_path / "reports" / "tiny-extended" / "table1.csv")
    assert set(table1["method"]) >= {*METHODS, "peach"}
    assert "peach" in (tmp_path / "reports" / "tiny-extended" / "summary.md").read_text()


ALL_METHODS = [*METHODS, "peach"]


def test_tiny_ml1_study_end_to_end(tmp_path):
    """ML1 reach-v3 through the DAG with every method: several trials per class on distinct variants,
    its train and test variants evaluated, every run scored by MetaWorld's own evaluation too, a report
    whose tables and figure follow the suite (no paper values for ML1) with MetaWorld's numbers."""
    config = _with(TINY, study="tiny-ml1", benchmark="ml1:reach-v3", methods=ALL_METHODS, seeds=[0],
                   overrides={**FAST_OVERRIDES, "peach": {"gradient_steps": 2, "prior_episodes": 1,
                                                          "meta_batch_size": 2, "batch_size": 16, "lower_batch_size": 16,
                                                          "embedding_batch_size": 16}},
                   training={"iterations": 2, "episodes_per_task": 2, "trials_per_class": 3,
                             "eval_interval": 1, "checkpoint_interval": 1},
                   evaluation={"variants_per_class": 2, "episodes_per_variant": 2, "scored_episodes": "all",
                               "actions": "stochastic"},
                   metaworld_evaluation={"num_evals": 2, "adaptation_episodes": 1, "evaluation_episodes": 1})
    result = _snakemake(tmp_path, config, "--cores", "2")
    assert result.returncode == 0, result.stderr[-4000:]
    summary = (tmp_path / "reports" / "tiny-ml1" / "summary.md").read_text()
    assert "## MetaWorld's evaluation beside ours" in summary and "stochastic actions" in summary
    for method in ALL_METHODS:
        scores = pd.read_csv(_only(list(_run_dir(tmp_path, method, 0).glob("metaworld_*.csv"))))
        assert sorted(zip(scores["split"], scores["task"])) == [("test", "reach-v3/test"), ("train", "reach-v3/train")]
        assert scores["success"].between(0, 1).all() and (scores["split_return"] > 0).all()
        assert (scores["iteration"] == 2).all()
        row = next(line for line in summary.splitlines() if line.startswith(f"| {method_label(method)} | test"))
        assert f"{scores.loc[scores.split == 'test', 'split_success'].iloc[0]:.3f}" in row
        assert (tmp_path / "logs" / "metaworld" / method / "seed_0").is_dir()
    for method in ("himeta-cd", "sd"):
        run = _run_dir(tmp_path, method, 0)
        evaluation = pd.read_csv(run / "eval.csv")
        assert set(zip(evaluation["split"], evaluation["task"])) == {("train", "reach-v3/train"),
                                                                   ("test", "reach-v3/test")}
        assert evaluation.groupby("iteration")["env_steps"].first().tolist() == [0, 120, 240]  # 3 x 2 x 20
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["config"]["benchmark"] == "ml1:reach-v3"
        assert manifest["config"]["training"]["trials_per_class"] == 3
    report = tmp_path / "reports" / "tiny-ml1"
    assert (report / "figure4.png").exists()
    table2 = (report / "table2.md").read_text()
    assert "Reach (train variants)" in table2 and "Reach (test variants)" in table2
    assert "paper has no numbers for ML1" in (report / "summary.md").read_text()


def test_extended_study_is_the_paper_study_plus_peach():
    """Same settings as config/paper.yaml, so its dry run after the paper study schedules only the
    added methods (SD with Table 4's learning rates, PEACH)."""
    paper, extended = (yaml.safe_load((REPO / "config" / name).read_text())
                       for name in ("paper.yaml", "extended.yaml"))
    assert extended["methods"] == [*paper["methods"], "sd-table4", "peach"]
    assert {k: v for k, v in extended.items() if k not in ("study", "methods")} == \
        {k: v for k, v in paper.items() if k not in ("study", "methods")}


@pytest.mark.parametrize("profile", ["slurm", "profiles/slurm"])
def test_paper_config_schedules_one_gpu_training_job_per_method_and_seed(tmp_path, profile):
    """`--profile slurm` finds the user's site profile (here a copy of the template in the working
    directory); `--profile profiles/slurm` is the template itself. Both add the workflow profile."""
    shutil.copytree(REPO / "profiles" / "slurm", tmp_path / "slurm")
    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    cwd = tmp_path if profile == "slurm" else REPO
    result = _snakemake(tmp_path, config, "--cores", "all", "--profile", profile, "-n", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    blocks = re.findall(r"^rule train:\n(.*?)(?=^\S)", result.stdout, flags=re.M | re.S)
    assert len(blocks) == 25
    cells = sorted(re.search(r"wildcards: method=(.*), seed=(\d+), run_id", block).groups() for block in blocks)
    assert cells == sorted((m, str(s)) for m in METHODS for s in range(5))
    assert all(re.search(r"resources: .*\bgpu=1\b", block) for block in blocks)
    # 4 sampler workers (pipeline_groups), acting themselves: the main process, which only waits while
    # they sample, needs no core of its own; whatever the submit host's --cores
    assert all(re.search(r"resources: .*\bcpus_per_task=4\b", block) for block in blocks)
    assert "executor: slurm" in (tmp_path / "slurm" / "config.yaml").read_text()


def _merged(method: str, overrides: dict) -> dict:
    values = yaml.safe_load((REPO / "config" / "methods" / f"{method}.yaml").read_text())
    for key, value in overrides.get(method, {}).items():
        values[key] = {**values[key], **value} if isinstance(value, dict) else value
    return values


def _expected_run_ids(config: dict) -> dict[tuple[str, int], str]:
    """Each training job's run id computed straight from the files: method file + this config's overrides."""
    from study.jobs import TrainingJob

    shared = {key: config[key] for key in ("benchmark", "benchmark_seed", "episode_length", "device")}
    training = {"trials_per_class": 1, **config["training"]}
    return {(method, seed): TrainingJob(
        method=method, method_values=_merged(method, config.get("overrides") or {}), seed=seed,
        training=training, task_sampling=config.get("task_sampling", "per_iteration"),
        evaluation={"scored_episodes": "all", "actions": "deterministic", **config["evaluation"]},
        sampler={key: config["sampler"][key] for key in ("max_slots", "pipeline_groups")},
        learner_threads=config.get("learner_threads", 1), **shared).run_id
        for method in config["methods"] for seed in config["seeds"]}


def _planned_run_ids(dry_run_output: str) -> dict[tuple[str, int], str]:
    found = re.findall(r"results/runs/([\w-]+)/seed_(\d+)/([0-9a-f]{12})/eval\.csv", dry_run_output)
    return {(method, int(seed)): run_id for method, seed, run_id in found}


def _from_repo_root(*args: str) -> subprocess.CompletedProcess:
    """`snakemake ...` exactly as a user types it in the repository root (no -s, no --directory)."""
    return subprocess.run([sys.executable, "-m", "snakemake", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def test_paper_config_from_the_repo_root_gives_each_job_its_method_file_and_nothing_else():
    """config/config.yaml (with its PEARL override) must not be merged under the config a user names."""
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    result = _from_repo_root("--configfile", "config/paper.yaml", "--cores", "all", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    planned = _planned_run_ids(result.stdout)
    assert planned == _expected_run_ids(paper)
    quick = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert planned != _expected_run_ids({**paper, "overrides": quick["overrides"]})  # the old merge's PEARL


def test_a_users_own_config_is_the_whole_config(tmp_path):
    """From the repo root: a study without PEARL and without overrides runs as written (the old merge
    refused it for the quick study's PEARL override); a partial section is refused, not filled in."""
    mine = _with(TINY, methods=["himeta-cd", "sd"], overrides={}, seeds=[0])
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(mine))
    result = _from_repo_root("--configfile", str(tmp_path / "mine.yaml"), "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _planned_run_ids(result.stdout) == _expected_run_ids(mine)

    partial = _with(mine, training={"iterations": 8000})
    (tmp_path / "partial.yaml").write_text(yaml.safe_dump(partial))
    result = _from_repo_root("--configfile", str(tmp_path / "partial.yaml"), "--cores", "2", "-n")
    assert result.returncode != 0 and "'episodes_per_task' is a required property" in result.stdout + result.stderr


def test_seeds_given_on_the_command_line_plan_those_seeds(tmp_path):
    """`--config 'seeds=[1]'` (Snakemake reads list items as strings) plans seed 1's runs, exactly as
    a config file with `seeds: [1]`; a seed that is not a whole number is refused by name."""
    mine = _with(TINY, methods=["himeta-cd", "sd"], overrides={}, seeds=[0])
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(mine))
    result = _from_repo_root("--configfile", str(tmp_path / "mine.yaml"), "--config", "seeds=[1, 2]",
                             "study=mine-later", "--cores", "2", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _planned_run_ids(result.stdout) == _expected_run_ids(_with(mine, seeds=[1, 2], study="mine-later"))
    result = _from_repo_root("--configfile", str(tmp_path / "mine.yaml"), "--config", "seeds=[1.5]", "--cores", "2", "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "'1.5' is not of type 'integer'" in output and "seeds" in output, output[-2000:]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sedes": [1]}, "sedes"),  # a typo'd key
        ({"overrides": {"sd": {"vae_updates": "two"}}}, "'vae_updates' in"),
        ({"overrides": {"sd": {"vae_updates": 2.5}}}, "expected an integer, got 2.5"),
        ({"overrides": {"sd": {"vae_updates": True}}}, "expected an integer, got True"),
        ({"overrides": {"sd": {"gamma": "0.99"}}}, "'gamma' in"),
        ({"overrides": {"sd": {"normalize_rewards": "no"}}}, "expected true or false, got 'no'"),
        ({"benchmark": "ml1:reach-v9"}, "unknown MetaWorld class 'reach-v9'"),
        ({"methods": ["pearl"], "overrides": {"pearl": {"prior_episodes": 2}}},
         "prior_episodes (2) must be smaller than the study's training.episodes_per_task (2)"),
        ({"training": {"iterations": 2, "episodes_per_task": 1, "eval_interval": 1,
                       "checkpoint_interval": 1, "trials_per_class": 0}}, "trials_per_class"),
        ({"seeds": []}, "seeds"),  # no seed
        ({"episode_length": 501}, "501"),
        ({"methods": ["himeta-xx"]}, "config/methods/himeta-xx.yaml does not exist"),
        ({"overrides": {"sd": {"gama": 0.9}}}, "'gama' is not a setting"),
        ({"overrides": {"pearll": {"gradient_steps": 1}}}, "overrides name methods that do not exist: ['pearll']"),
        ({"overrides": {"pearl": {"gradient_stepz": 1}}}, "'gradient_stepz' is not a setting"),  # outside the study
        ({"study": "paper"}, "paper"),
    ],
)
def test_malformed_config_fails_before_any_job(tmp_path, change, message):
    config = _with(TINY, **{"methods": ["himeta-cd", "sd"], "overrides": {}, **change})
    result = _snakemake(tmp_path, config, "--cores", "2")
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def _training_processes(workdir: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline", "cwd"])
            if p.info["cwd"] == str(workdir) and any("train.py" in part for part in p.info["cmdline"] or [])]


def _wait_in_log(workdir: Path, after: str, timeout: float = 300) -> Path:
    """The run log of the one training job under ``workdir`` once ``after`` appears in it."""
    deadline = time.monotonic() + timeout
    while True:
        logs = sorted((workdir / "logs" / "train").rglob("*.log"))
        if logs and after in logs[0].read_text():
            return logs[0]
        assert time.monotonic() < deadline, f"{after!r} never appeared in {logs}"
        time.sleep(0.2)


def _signal_training_job(workdir: Path, number: signal.Signals, tree: bool) -> None:
    jobs = _training_processes(workdir)
    assert jobs, "no training process found"
    for process in jobs:
        for child in (process.children(recursive=True) if tree else []):
            child.send_signal(number)
        process.send_signal(number)


def test_stopped_and_killed_training_job_resumes_to_the_uninterrupted_numbers(tmp_path):
    """SIGTERM (what SLURM sends at a time limit or preemption, to every process of the job): checkpoint
    at the next safe point, exit 75; then SIGKILL mid-run; then a rerun finishes with the numbers of an
    uninterrupted run. The log keeps every attempt; the final checkpoint spares the last iteration."""
    config = _with(TINY, methods=["sd"], seeds=[0], overrides={"sd": FAST_OVERRIDES["sd"]},
                   training={"iterations": 6, "episodes_per_task": 2, "eval_interval": 2,
                             "checkpoint_interval": 2})
    command = ("--cores", "2", "--retries", "0")  # the same command again: no automatic retry
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    for workdir in (reference, interrupted):
        workdir.mkdir()
    assert _snakemake(reference, config, *command).returncode == 0

    (interrupted / "config.yaml").write_text(yaml.safe_dump(config))
    args = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(interrupted),
            "--configfile", str(interrupted / "config.yaml"), *command]

    def start() -> subprocess.Popen:
        return subprocess.Popen(args, cwd=interrupted, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    first = start()
    _wait_in_log(interrupted, "iteration 1/6")
    _signal_training_job(interrupted, signal.SIGTERM, tree=True)  # workers too, as SLURM does
    output = first.communicate(timeout=300)[0]
    log = _wait_in_log(interrupted, "rerun the job to resume")
    text = log.read_text()
    assert first.returncode != 0 and "Error in rule train" in output
    assert "received SIGTERM" in text and "exit status 75" in output, output[-3000:]
    assert re.search(r"checkpoint after iteration [1-5] written", text)

    second = start()
    _wait_in_log(interrupted, "checkpoint after iteration 4")
    _signal_training_job(interrupted, signal.SIGKILL, tree=True)
    assert second.communicate(timeout=300)[0] and second.returncode != 0
    reference_run = _run_dir(reference, "sd", 0)
    run = interrupted / reference_run.relative_to(reference)  # same settings, same run id
    assert not (run / "eval.csv").exists()

    third = subprocess.run(args, cwd=interrupted, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    text = log.read_text()
    assert text.count("===== attempt: host") == 3 and text.count("resuming from checkpoints/sd/seed_0/") == 2
    assert "checkpoint after iteration 6 written" in text  # the final one
    assert _run_dir(interrupted, "sd", 0) == run
    for name, drop in (("eval.csv", ["wall_time"]), ("eval_episodes.csv", []),
                       ("train_log.csv", list(TIMING_COLUMNS))):
        expected = pd.read_csv(reference_run / name).drop(columns=drop)
        pd.testing.assert_frame_equal(pd.read_csv(run / name).drop(columns=drop), expected)
    assert json.loads((run / "manifest.json").read_text())["resumes"] == 2

    # outputs lost after the run finished: the rerun resumes after the final iteration, trains nothing
    (run / "eval.csv").unlink()
    rerun = subprocess.run([*args, str((run / "eval.csv").relative_to(interrupted))], cwd=interrupted, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    last_attempt = log.read_text().rsplit("===== attempt", 1)[1]
    assert "after iteration 6" in last_attempt and "iteration 6/6 |" not in last_attempt
    pd.testing.assert_frame_equal(pd.read_csv(run / "eval.csv").drop(columns=["wall_time"]),
                                  pd.read_csv(reference_run / "eval.csv").drop(columns=["wall_time"]))


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    cluster.stop()


SITE_PROFILE = {  # what a user of a cluster without accounting puts in ~/.config/snakemake/slurm
    "executor": "slurm",
    "jobs": 4,
    "latency-wait": 5,
    "slurm-status-command": "squeue",
    "slurm-no-account": True,
    "slurm-init-seconds-before-status-checks": 2,
    "slurm-keep-successful-logs": True,
    "default-resources": {"slurm_partition": "debug", "mem_mb": 1000, "runtime": 30},
}


def test_tiny_study_through_a_real_slurm_cluster(tmp_path, slurm_cluster):
    (tmp_path / "slurm").mkdir()
    (tmp_path / "slurm" / "config.yaml").write_text(yaml.safe_dump(SITE_PROFILE))
    # one sampler worker, the main process acting: each job asks for 2 CPUs (worker + main process),
    # all the node has
    config = _with(TINY, methods=["himeta-cd", "sd"], seeds=[0], overrides={"sd": {"vae_updates": 2}},
                   training={"iterations": 1, "episodes_per_task": 1, "eval_interval": 1,
                             "checkpoint_interval": 1},
                   sampler={**TINY["sampler"], "num_workers": 1, "acting": "main"})
    # the node has a few GB: the workflow profile's 16 GB do not fit
    fit = ("--set-resources", "train:gpu=1", "train:mem_mb=2000", "train:runtime=30",
           "evaluate_random:mem_mb=2000", "evaluate_random:runtime=30")
    env = {**slurm_cluster.env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    # --cores 1 on the "login node": the CPU request of the jobs must not shrink with it
    result = _snakemake(tmp_path, config, "--cores", "1", "--profile", "slurm", *fit, env=env, timeout=900)
    assert result.returncode == 0, (result.stderr[-4000:], slurm_cluster.controller_log()[-3000:])

    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", result.stderr)
    assert len(submitted) == 3  # 2 training jobs + 1 chance-level evaluation; report is local
    for method in ("himeta-cd", "sd"):
        run = _run_dir(tmp_path, method, 0)
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["config_hash"][:12] == run.name  # the job inside SLURM saw the driver's config
        job_id = manifest["slurm_job_id"]
        assert job_id in submitted
        job = subprocess.run(["scontrol", "show", "job", job_id], env=slurm_cluster.env,
                             capture_output=True, text=True).stdout
        assert "gpu" in job and "JobState=COMPLETED" in job and "NumCPUs=2" in job, job
    slurm_logs = list((tmp_path / ".snakemake" / "slurm_logs" / "rule_train").rglob("*.log"))
    assert len(slurm_logs) == 2
    assert all((tmp_path / "reports" / "tiny" / name).exists() for name in REPORT_FILES)


def test_site_profile_and_docs_say_what_a_cluster_user_must_know():
    head = "\n".join((REPO / "profiles" / "slurm" / "config.yaml").read_text().splitlines()[:8])
    assert "sacct" in head and "slurm-status-command: squeue" in head and "logs/train/" in head
    workflow_doc = (REPO / "docs" / "workflow.md").read_text()
    assert "--cpus-per-gpu" not in workflow_doc and "--cpus-per-task" in workflow_doc
