"""What a study costs, from iteration costs measured on this machine: the wall time of one run per
method on an N-core job, the study's core-hours and GPU-hours, and whether each run fits the workflow
profile's runtime x attempts.

    python benchmarks/study_cost.py [--config config/paper.yaml] [--cores 5 16] [--device auto]
                                    [--timed-gradient-steps 50] [--methods ...]

Measured here, per method of the study (its method file + the study's overrides, the study's batch):

* the update: two training iterations (collect, then ``agent.update``), the second one timed, on
  ``--device`` (CPU here; CUDA on a GPU node). PEARL/PEACH time ``--timed-gradient-steps`` SAC steps
  and scale to their ``gradient_steps`` (one step's cost does not depend on the step count);
* sampling: the acting cost per env step and the physics cost per env step, combined by the model of
  ``benchmarks/sampler_scaling.py`` for the study's ``sampler.acting`` (or ``--acting``) into the
  rate on an N-core job (in the main process ``R(N) = min(W / p, 1 / act, N / (p + act))``,
  ``W = min(N, pipeline groups)``; in the workers ``R(N) = min(N, groups) / (p + act)``), times
  the calibration measured here: the second iteration's measured sampling rate over the model's
  rate for this machine's cores (pipe round trips and scheduling, assumed to scale like here).

One run = ``iterations x (steps per iteration / R(N) + update)`` + its evaluations
(``iterations / eval_interval + 1`` of (train + test classes) x variants x episodes x episode length
env steps at ``R(N)``). The MetaWorld re-scoring is a separate one-core job and is not counted.
Sampling and update alternate in the trainer (no overlap), so the sum is the wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from algorithms.device import configure_learner, resolve_device
from algorithms.registry import method_from_values
from envs.benchmarks import build_suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule
from envs.suite import all_classes
from sampler_scaling import acting_seconds_per_step, method_layout, projected_rate  # benchmarks/
from sampler_throughput import build_envs, raw_steps_per_second  # benchmarks/
from study.config import REPO, load_study_config
from study.plan import study_methods


def profile_limits(path: Path) -> tuple[float, int]:
    """(runtime hours per attempt, attempts) of the train rule in a workflow profile."""
    profile = yaml.safe_load(path.read_text())
    runtime_min = float(profile["set-resources"]["train"]["runtime"])
    return runtime_min / 60.0, 1 + int(profile.get("retries", 0))


def update_seconds(name: str, values: dict, config: dict, suite, schedule, device, timed_steps: int,
                   pipeline_groups: int, acting: str) -> tuple[float, float, object]:
    """Seconds of one update at the study's batch (second iteration), scaled to the method's gradient
    steps; the second collection's sampling rate (steps/s); and the agent (for its acting cost)."""
    values = dict(values)
    steps = values.get("gradient_steps")
    if steps:
        values["gradient_steps"] = min(steps, timed_steps)
    agent = method_from_values(name, values, name).build_agent(suite.spec, 0, device)
    with ParallelSampler(suite, pipeline_groups=pipeline_groups, max_slots=config["sampler"]["max_slots"],
                         acting=acting) as sampler:
        for iteration in range(2):
            start = time.perf_counter()
            rollout = sampler.collect(agent.policy, schedule.training_trials(iteration))
            rate = rollout.env_steps / (time.perf_counter() - start)
            start = time.perf_counter()
            agent.update(rollout, iteration)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
    if steps:
        seconds *= steps / values["gradient_steps"]
    return seconds, rate, agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "config" / "paper.yaml"))
    parser.add_argument("--profile", default=str(REPO / "profiles" / "default" / "config.yaml"))
    parser.add_argument("--methods", nargs="+", help="a subset of the study's methods")
    parser.add_argument("--cores", type=int, nargs="+", help="job sizes (default: the study's job, and 16)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--timed-gradient-steps", type=int, default=50)
    parser.add_argument("--acting", choices=["main", "workers"],
                        help="where the policy acts (default: the study's sampler.acting)")
    args = parser.parse_args()
    config = load_study_config(args.config)
    methods = study_methods(config, args.config)
    names = args.methods or list(methods)
    unknown = sorted(set(names) - set(methods))
    if unknown:
        parser.error(f"--methods {unknown} are not in {args.config}'s methods {list(methods)}")
    configure_learner(config["learner_threads"])
    device = resolve_device(args.device)
    sampler = config["sampler"]
    groups_config = sampler["pipeline_groups"]
    acting = args.acting or sampler["acting"]
    job_cores = ParallelSampler.cpus_used(sampler["num_workers"] or groups_config, sampler["max_slots"],
                                          groups_config, acting)
    cores = args.cores or [job_cores, 16]
    runtime_h, attempts = profile_limits(Path(args.profile))

    training = config["training"]
    suite = build_suite(config["benchmark"], config["benchmark_seed"], config["episode_length"])
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=training["episodes_per_task"],
                            trials_per_class=training["trials_per_class"], task_sampling=config["task_sampling"])
    trials = schedule.training_trials(0)
    steps_per_iteration = sum(t.episodes for t in trials) * suite.spec.episode_length
    evaluation = config["evaluation"]
    evaluations = training["iterations"] // training["eval_interval"] + 1
    eval_steps = (evaluations * len(all_classes(suite)) * evaluation["variants_per_class"]
                  * evaluation["episodes_per_variant"] * suite.spec.episode_length)
    physics_s = 1.0 / raw_steps_per_second(suite, build_envs(suite, trials), round_robin=False, seed=0)
    print(f"{args.config}: {training['iterations']} iterations x {steps_per_iteration:,} env steps + "
          f"{eval_steps:,} evaluation steps per run; learner on {device}; acting in the {acting}; physics "
          f"{physics_s * 1e6:.0f} us per env step; profile: {runtime_h:.0f} h x {attempts} attempts", flush=True)

    rows = []
    for name in names:
        update_s, rate_here, agent = update_seconds(name, methods[name], config, suite, schedule, device,
                                         args.timed_gradient_steps, groups_config, acting)
        slots, groups = method_layout(agent.policy, trials, groups_config)
        act_s = acting_seconds_per_step(agent.policy, -(-slots // groups), suite.spec.obs_dim,
                                        suite.spec.episode_length)
        calibration = rate_here / projected_rate(available_cores(), groups, physics_s, act_s, acting)
        per_cores = {}
        for n in cores:
            rate = calibration * projected_rate(n, groups, physics_s, act_s, acting)
            hours = (training["iterations"] * (steps_per_iteration / rate + update_s) + eval_steps / rate) / 3600
            per_cores[n] = (rate, hours)
        rows.append((name, update_s, act_s, per_cores))
        print(f"{name}: update {update_s:.1f} s per iteration on {device}; act {act_s * 1e6:.0f} us per env "
              f"step; sampling here {rate_here:,.0f} steps/s (calibration {calibration:.2f}); "
              + "; ".join(f"{n} cores: {rate:,.0f} steps/s, {hours:,.1f} h per run"
                                    for n, (rate, hours) in per_cores.items()), flush=True)

    seeds = len(config["seeds"])
    gpu = "GPU" if device.type == "cuda" else "CPU learner"
    print(f"\n| method | update s/iteration ({gpu}) | " + " | ".join(
        f"{n} cores: steps/s, h per run, fits {runtime_h:.0f} h x {attempts}?" for n in cores) + " |")
    print("|---|---|" + "---|" * len(cores))
    totals = {n: [0.0, 0.0] for n in cores}  # core-hours, device-hours
    for name, update_s, _, per_cores in rows:
        cells = []
        for n, (rate, hours) in per_cores.items():
            fits = "yes" if hours <= runtime_h * attempts else f"no ({hours / (runtime_h * attempts):.1f} x)"
            cells.append(f"{rate:,.0f}, {hours:,.1f} h, {fits}")
            totals[n][0] += seeds * hours * n
            totals[n][1] += seeds * hours
        print(f"| {name} | {update_s:.1f} | " + " | ".join(cells) + " |")
    for n, (core_hours, job_hours) in totals.items():
        print(f"study ({len(rows)} methods x {seeds} seeds) on {n}-core jobs: {core_hours:,.0f} core-hours, "
              f"{job_hours:,.0f} job-hours" + (" = GPU-hours (one GPU per job)" if device.type == "cuda"
                                                 else " (CPU learner; GPU-hours need --device cuda on a GPU node)"))
    print(f"({np.datetime64('today')}; python benchmarks/study_cost.py --config {args.config})")


if __name__ == "__main__":
    main()
