"""One trained checkpoint, evaluated under several evaluation settings, on the run's own test variants.

    python benchmarks/evaluation_modes.py RUN_DIR [RUN_DIR ...] [--checkpoint PATH]
                                          [--modes eval_y=sample eval_y=onehot ...]

``RUN_DIR`` is a finished run (``results/runs/<method>/seed_<s>/<run id>``; its ``manifest.json`` holds
every setting); the checkpoint defaults to ``checkpoints/<method>/seed_<s>/<run id>.pt``. Each mode
is a ``KEY=VALUE`` change of a top-level method setting that only evaluation reads (e.g. HiMeta's or
SD's ``eval_y``); the agent is rebuilt with it and loaded from the same checkpoint. Without
``--modes`` (or with the mode ``as-run``) the run's own settings are used. Every mode is
played with deterministic actions (the shared evaluation) and with sampled actions, on the run's
evaluation trials (same variants and episodes as its ``eval.csv``). Prints success and return per
split, so one can see how much of a score is the evaluation input rather than the policy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml

from algorithms.registry import method_from_values
from envs.benchmarks import build_suite
from envs.metrics import episode_table
from envs.policy import DETERMINISTIC_EVALUATION, STOCHASTIC_EVALUATION
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from envs.suite import all_classes, split_of

AS_RUN = "as-run"
"""The mode that changes nothing: the run's own method settings."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    parser.add_argument("--checkpoint", type=Path, help="with one RUN_DIR only")
    parser.add_argument("--modes", nargs="+", help="KEY=VALUE method settings (default: see above)")
    args = parser.parse_args()
    if args.checkpoint and len(args.run_dirs) > 1:
        parser.error("--checkpoint names the checkpoint of one run: give a single RUN_DIR with it")
    for run_dir in args.run_dirs:
        evaluate_run(run_dir, args.checkpoint, args.modes, parser)


def evaluate_run(run_dir: Path, checkpoint: Path | None, modes: list[str] | None,
                 parser: argparse.ArgumentParser) -> None:
    """Print the run's final checkpoint's scores under each mode, with deterministic and sampled actions."""
    manifest = run_dir / "manifest.json"
    if not manifest.exists():
        parser.error(f"{manifest} does not exist: RUN_DIR must be a finished run folder")
    job = json.loads(manifest.read_text())["config"]
    run_id = run_dir.name
    default_checkpoint = Path("checkpoints") / job["method"] / f"seed_{job['seed']}" / f"{run_id}.pt"
    checkpoint = checkpoint or default_checkpoint
    if not checkpoint.exists():
        parser.error(f"checkpoint {checkpoint} does not exist (give --checkpoint)")
    state = torch.load(checkpoint, weights_only=False, map_location="cpu")["agent"]
    torch.set_num_threads(1)
    suite = build_suite(job["benchmark"], benchmark_seed=job["benchmark_seed"],
                        episode_length=job["episode_length"])
    training = job["training"]
    schedule = TaskSchedule(suite, run_seed=job["seed"], episodes_per_task=training["episodes_per_task"],
                            trials_per_class=training["trials_per_class"],
                            task_sampling=job.get("task_sampling", "per_iteration"))  # older manifests: the only one
    evaluation = job["evaluation"]
    trials = schedule.evaluation_trials(all_classes(suite), evaluation["variants_per_class"],
                                        evaluation["episodes_per_variant"])
    print(f"{job['method']} seed {job['seed']} run {run_id}: {len(trials)} trials x "
          f"{evaluation['episodes_per_variant']} episodes, checkpoint {checkpoint}")
    with ParallelSampler(suite, max_slots=job["sampler"]["max_slots"],
                         pipeline_groups=job["sampler"]["pipeline_groups"]) as sampler:
        for mode in modes or [AS_RUN]:
            key, _, value = mode.partition("=")
            if mode != AS_RUN and key not in job["method_values"]:
                parser.error(f"{mode}: {key!r} is not a top-level setting of {job['method']}")
            changed = {} if mode == AS_RUN else {key: yaml.safe_load(value)}
            values = {**job["method_values"], **changed}
            agent = method_from_values(job["method"], values, f"{job['method']} ({mode})").build_agent(
                suite.spec, job["seed"], torch.device("cpu"))
            agent.load_state_dict(state)
            for acting in (DETERMINISTIC_EVALUATION, STOCHASTIC_EVALUATION):
                episodes = episode_table(sampler.collect(agent.policy, trials, acting))
                episodes["split"] = [split_of(suite, task) for task in episodes["task"]]
                means = episodes.groupby("split")[["success", "return"]].mean()
                cells = "  ".join(f"{split}: success {row['success']:.3f} return {row['return']:7.1f}"
                                  for split, row in means.iterrows())
                actions = "deterministic" if acting.deterministic else "sampled"
                print(f"{mode:16s} {actions:13s} {cells}", flush=True)


if __name__ == "__main__":
    main()
