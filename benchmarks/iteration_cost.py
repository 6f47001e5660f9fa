"""Wall time of one training iteration at the paper batch, sampling vs update, for registered methods.

    python benchmarks/iteration_cost.py [--method himeta-cd [sd ...]] [--iterations 3] [--device auto]
                                        [--learner-threads 1] [--pipeline-groups 4] [--set KEY=VALUE ...]
                                        [--sampling-only] [--acting workers|main]

Paper batch: 10 ML10 train classes x 5 episodes x 500 steps, through the shared sampler with the
method's own policy in the loop, then the method's full update (config/methods/<method>.yaml as is).
The first iteration also builds the workers' envs and is reported separately. With several methods,
each is timed in turn on the same machine in the same run, and the last lines give each method's
sampling steps/s and update time as a ratio of the first method's (iterations after the first).
On a GPU node ``--device auto`` times the learner on CUDA. ``--set KEY=VALUE`` changes a top-level
hyper-parameter of every method given (YAML value), e.g. PEARL's ``gradient_steps`` to time a few
steps instead of 500. For a method with ``gradient_steps`` (PEARL, PEACH) it also prints the time
per gradient step and the projected learner hours of one paper-budget run (config/paper.yaml's
iterations) under each documented reading of the paper's budget (:data:`GRADIENT_STEP_READINGS`).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import yaml

from algorithms.device import configure_learner, resolve_device
from algorithms.registry import METHODS_DIR, method_from_values, read_method_file
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule
from study.config import REPO, read_yaml

GRADIENT_STEP_READINGS: dict[str, int] = {
    "literal: the paper's 40 epochs x garage's 4,000 steps (1.6e5 in all)": 20,
    "default: garage's whole run, 1,000 epochs x 4,000 steps (4e6 in all)": 500,
    "sensitivity: garage's 4,000 steps per iteration (3.2e7 in all)": 4000,
}
"""SAC gradient steps per iteration for each reading of the paper's PEARL budget (docs/pearl.md)."""


def print_gradient_step_cost(name: str, steps: int, update_s: float) -> None:
    """Seconds per gradient step and the learner hours of a paper-budget run under every reading."""
    iterations = read_yaml(REPO / "config" / "paper.yaml")["training"]["iterations"]
    per_step = update_s / steps
    print(f"{name}: {per_step * 1e3:.1f} ms per gradient step ({steps} steps in {update_s:.1f} s)")
    for reading, per_iteration in GRADIENT_STEP_READINGS.items():
        hours = per_step * per_iteration * iterations / 3600
        print(f"  {reading}: {per_iteration} steps/iteration -> {hours:,.1f} learner hours per "
              f"{iterations}-iteration run")


def time_method(name: str, changes: list[str], args: argparse.Namespace,
                parser: argparse.ArgumentParser) -> tuple[float, float]:
    """Print each iteration of ``name``; return its mean sampling steps/s and update seconds after
    the first iteration."""
    values = read_method_file(METHODS_DIR / f"{name}.yaml")
    for change in changes:
        key, _, value = change.partition("=")
        if key not in values:
            parser.error(f"--set {change}: {key!r} is not a top-level setting of {name}")
        values[key] = yaml.safe_load(value)
    method = method_from_values(name, values, f"{name} (+ --set {' '.join(changes)})")
    device = resolve_device(args.device)
    suite = ML10Suite(benchmark_seed=0)
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=5)
    agent = method.build_agent(suite.spec, 0, device)
    print(f"{name} {' '.join(changes)}: {available_cores()} cores, device {device}, "
          f"learner threads {args.learner_threads}, pipeline groups {args.pipeline_groups}")
    speeds, updates = [], []
    with ParallelSampler(suite, pipeline_groups=args.pipeline_groups, acting=args.acting) as sampler:
        for iteration in range(args.iterations):
            start = time.perf_counter()
            rollout = sampler.collect(agent.policy, schedule.training_trials(iteration))
            sampled = time.perf_counter()
            if not args.sampling_only:
                agent.update(rollout, iteration)
            if device.type == "cuda":
                torch.cuda.synchronize()
            updated = time.perf_counter()
            note = " (includes building the envs)" if iteration == 0 else ""
            print(f"iteration {iteration}: {rollout.env_steps} env steps, sampling {sampled - start:.1f} s "
                  f"({rollout.env_steps / (sampled - start):,.0f} steps/s){note}, "
                  f"update {updated - sampled:.1f} s", flush=True)
            if iteration > 0 or args.iterations == 1:
                speeds.append(rollout.env_steps / (sampled - start))
                updates.append(updated - sampled)
    if "gradient_steps" in values and values["gradient_steps"] > 0 and not args.sampling_only:
        print_gradient_step_cost(name, values["gradient_steps"], statistics.mean(updates))
    return statistics.mean(speeds), statistics.mean(updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--method", nargs="+", default=["himeta-cd"],
                        help="config/methods/<method>.yaml names")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--learner-threads", type=int, default=1)
    parser.add_argument("--pipeline-groups", type=int, default=4, help="the sampler's (config/paper.yaml: 4)")
    parser.add_argument("--acting", choices=["workers", "main"], default="workers",
                        help="where the policy acts (sampler.acting; config/paper.yaml: workers)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="hyper-parameter changes")
    parser.add_argument("--sampling-only", action="store_true",
                        help="skip the updates (time the sampler with the untrained policy)")
    args = parser.parse_args()
    if args.iterations < 1 or args.pipeline_groups < 1:
        parser.error("--iterations and --pipeline-groups must be >= 1")
    configure_learner(args.learner_threads)
    results = {name: time_method(name, args.set, args, parser) for name in args.method}
    if len(results) > 1:
        first = args.method[0]
        base_speed, base_update = results[first]
        for name, (speed, update) in results.items():
            updates = ("" if args.sampling_only
                       else f"; update {update:.1f} s = {update / base_update:.2f} x {first}'s")
            print(f"{name}: sampling {speed:,.0f} steps/s = {speed / base_speed:.2f} x {first}'s{updates}")


if __name__ == "__main__":
    main()
