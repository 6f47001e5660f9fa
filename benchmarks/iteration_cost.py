"""Wall time of one training iteration at the paper batch, sampling vs update, for any registered method.

    python benchmarks/iteration_cost.py [--method himeta-cd] [--iterations 3] [--device auto]
                                        [--learner-threads 1] [--set gradient_steps=50 ...]

Paper batch: 10 ML10 train classes x 5 episodes x 500 steps, through the shared sampler with the
method's own policy in the loop, then the method's full update (config/methods/<method>.yaml as is).
The first iteration also builds the workers' envs and is reported separately. On a GPU node
``--device auto`` times the learner on CUDA. ``--set KEY=VALUE`` changes a top-level hyper-parameter
(YAML value), e.g. PEARL's ``gradient_steps`` to time a few steps instead of 4,000.
"""

from __future__ import annotations

import argparse
import time

import torch
import yaml

from algorithms.device import resolve_device
from algorithms.registry import METHODS_DIR, method_from_values, read_method_file
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--method", default="himeta-cd", help="a config/methods/<method>.yaml name")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--learner-threads", type=int, default=1)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="hyper-parameter changes")
    args = parser.parse_args()
    values = read_method_file(METHODS_DIR / f"{args.method}.yaml")
    for change in args.set:
        key, _, value = change.partition("=")
        if key not in values:
            parser.error(f"--set {change}: {key!r} is not a top-level setting of {args.method}")
        values[key] = yaml.safe_load(value)
    method = method_from_values(args.method, values, f"{args.method} (+ --set {' '.join(args.set)})")
    torch.set_num_threads(args.learner_threads)
    device = resolve_device(args.device)
    suite = ML10Suite(benchmark_seed=0)
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=5)
    agent = method.build_agent(suite.spec, 0, device)
    print(f"{args.method} {' '.join(args.set)}: {available_cores()} cores, device {device}, "
          f"learner threads {args.learner_threads}")
    with ParallelSampler(suite) as sampler:
        for iteration in range(args.iterations):
            start = time.perf_counter()
            rollout = sampler.collect(agent.policy, schedule.training_trials(iteration))
            sampled = time.perf_counter()
            agent.update(rollout, iteration)
            if device.type == "cuda":
                torch.cuda.synchronize()
            updated = time.perf_counter()
            note = " (includes building the envs)" if iteration == 0 else ""
            print(f"iteration {iteration}: {rollout.env_steps} env steps, sampling {sampled - start:.1f} s "
                  f"({rollout.env_steps / (sampled - start):,.0f} steps/s){note}, "
                  f"update {updated - sampled:.1f} s")


if __name__ == "__main__":
    main()
