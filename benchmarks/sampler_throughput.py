"""Sampler throughput against the physics limit, measured in one run on identical work.

Prints (1) the raw single-env ML10 step rate: one process stepping the paper batch's 50 episodes
(10 train classes x 5 episodes, 500 steps each, resets included) with seeded uniform random actions;
(2) the sampler's steps/s on the same 50 episodes with the recurrent probe policy (embedding + GRU(256)
+ MLP head, batched over all envs) in the loop, playing the same kind of seeded uniform random actions;
(3) their ratio against workers x raw rate. Target: >= 0.9.

    python benchmarks/sampler_throughput.py [--workers N] [--repeats R] [--episode-length T]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from algorithms.probe import RecurrentProbePolicy
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule, Trial


def raw_steps_per_second(suite: ML10Suite, trials: list[Trial], seed: int) -> float:
    """One env at a time in this process: reset + full episodes with uniform random actions."""
    rng = np.random.default_rng(seed)
    spec = suite.spec
    envs = []
    for trial in trials:
        env = suite.make_env(trial.class_name)
        suite.set_variant(env, trial.class_name, trial.variant)
        envs.append((trial, env))
    steps, start = 0, time.perf_counter()
    for trial, env in envs:
        for _ in range(trial.episodes):
            env.reset()
            for _ in range(spec.episode_length):
                env.step(rng.uniform(spec.action_low, spec.action_high, spec.action_dim))
            steps += spec.episode_length
    return steps / (time.perf_counter() - start)


def sampler_steps_per_second(
    sampler: ParallelSampler, policy: RecurrentProbePolicy, trials: list[Trial], repeats: int
) -> float:
    sampler.collect(policy, trials)  # warm-up: builds the envs in the workers
    steps, start = 0, time.perf_counter()
    for _ in range(repeats):
        steps += sampler.collect(policy, trials).env_steps
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--episode-length", type=int, default=500)
    parser.add_argument("--pipeline-groups", type=int, default=2)
    args = parser.parse_args()

    suite = ML10Suite(benchmark_seed=0, episode_length=args.episode_length)
    trials = TaskSchedule(suite, run_seed=0, episodes_per_task=5).training_trials(0)
    raw = raw_steps_per_second(suite, trials, seed=0)
    policy = RecurrentProbePolicy(suite.spec, seed=0, uniform_actions=True)
    with ParallelSampler(suite, num_workers=args.workers, pipeline_groups=args.pipeline_groups) as sampler:
        sampled = sampler_steps_per_second(sampler, policy, trials, args.repeats)
    limit = args.workers * raw
    print(f"cores available           : {available_cores()}")
    print(f"workers                   : {args.workers}")
    print(f"pipeline groups           : {args.pipeline_groups}")
    print(f"batch                     : {len(trials)} classes x 5 episodes x {args.episode_length} steps")
    print(f"torch threads (learner)   : {torch.get_num_threads()}")
    print(f"raw single-env steps/s    : {raw:,.0f}")
    print(f"sampler steps/s (GRU in loop): {sampled:,.0f}")
    print(f"ratio sampler / (workers x raw): {sampled / limit:.3f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
