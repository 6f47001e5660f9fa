"""Wall time of one training iteration at the paper batch: sampling vs update, per method config.

    python benchmarks/iteration_cost.py [--method-config config/methods/himeta-cd.yaml] [--iterations 2]

Paper batch: 10 ML10 train classes x 5 episodes x 500 steps. The first iteration also builds the
workers' envs and is reported separately.
"""

from __future__ import annotations

import argparse
import time

import torch

from algorithms.himeta.agent import HiMetaAgent
from algorithms.himeta.config import load_himeta_config
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--method-config", default="config/methods/himeta-cd.yaml")
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    suite = ML10Suite(benchmark_seed=0)
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=5)
    agent = HiMetaAgent(suite.spec, load_himeta_config(args.method_config), seed=0)
    print(f"{args.method_config}: {available_cores()} cores, torch threads {torch.get_num_threads()}")
    with ParallelSampler(suite) as sampler:
        for iteration in range(args.iterations):
            start = time.perf_counter()
            rollout = sampler.collect(agent.policy, schedule.training_trials(iteration))
            sampled = time.perf_counter()
            agent.update(rollout, iteration)
            updated = time.perf_counter()
            note = " (includes building the envs)" if iteration == 0 else ""
            print(f"iteration {iteration}: {rollout.env_steps} env steps, sampling {sampled - start:.1f} s "
                  f"({rollout.env_steps / (sampled - start):,.0f} steps/s){note}, "
                  f"update {updated - sampled:.1f} s")


if __name__ == "__main__":
    main()
