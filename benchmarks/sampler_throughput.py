"""Sampler throughput against the physics limit, measured in one run on identical work.

Work: the paper batch of one training iteration, 10 ML10 train classes x 5 episodes x 500 steps
(resets included), with seeded uniform random actions everywhere (the action distribution alone
changes MuJoCo's cost by ~30%, so every loop plays the same kind of actions).

Printed, as medians over ``--repeats`` alternating rounds (this machine's speed drifts by ~10%;
each round's ratio uses that round's own raw rates):

* raw single-env rate: one process plays the 50 episodes one env at a time;
* raw round-robin rate: one process steps the same 50 envs in lock-step, one step each per round
  (what any batched sampler must do, since the policy needs every env's observation each step);
* sampler rate with a probe policy in the loop, batched over each pipeline group, acting in the main
  process and acting in the workers (``sampler.acting``; ``--acting`` picks one or both):
  ``--policy gru`` (default; embedding + GRU(256) + MLP head, the cost of the agents under study)
  or ``--policy mlp`` (MLP 2x256 on the observation);
* ratio = sampler / (workers x raw single-env rate), the target (>= 0.9 for the paper's node; >= 0.8
  here with the GRU probe), and the same ratio against the round-robin rate, which isolates the
  sampler's own overhead from the interpreter/cache cost of alternating between env classes.

    python benchmarks/sampler_throughput.py [--policy gru|mlp] [--workers N] [--repeats R]
        [--pipeline-groups G] [--acting main|workers|both]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from algorithms.probe import ProbePolicy
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule, Trial


def build_envs(suite: ML10Suite, trials: list[Trial]) -> list:
    envs = []
    for trial in trials:
        for _ in range(trial.episodes):
            env = suite.make_env(trial.class_name)
            suite.set_variant(env, trial.class_name, trial.variant)
            envs.append(env)
    return envs


def raw_steps_per_second(suite: ML10Suite, envs: list, round_robin: bool, seed: int) -> float:
    """One process, no policy: every env plays one full episode with uniform random actions."""
    spec = suite.spec
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for env in envs:
        env.reset()
    if round_robin:
        for _ in range(spec.episode_length):
            for env in envs:
                env.step(rng.uniform(spec.action_low, spec.action_high, spec.action_dim))
    else:
        for env in envs:
            for _ in range(spec.episode_length):
                env.step(rng.uniform(spec.action_low, spec.action_high, spec.action_dim))
    return len(envs) * spec.episode_length / (time.perf_counter() - start)


def sampler_steps_per_second(sampler: ParallelSampler, policy, trials: list[Trial]) -> float:
    start = time.perf_counter()
    steps = sampler.collect(policy, trials).env_steps
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline-groups", type=int, default=4)
    parser.add_argument("--policy", choices=["gru", "mlp"], default="gru",
                        help="gru: embedding + GRU(256) + MLP head; mlp: MLP 2x256 on the observation")
    parser.add_argument("--acting", choices=["main", "workers", "both"], default="both",
                        help="where the probe acts (sampler.acting); both: each in every round")
    args = parser.parse_args()
    locations = ["main", "workers"] if args.acting == "both" else [args.acting]

    suite = ML10Suite(benchmark_seed=0)
    trials = TaskSchedule(suite, run_seed=0, episodes_per_task=5).training_trials(0)
    envs = build_envs(suite, trials)
    policy = ProbePolicy(suite.spec, seed=0, recurrent=args.policy == "gru", uniform_actions=True)
    rates: dict[str, list[float]] = {"single": [], "round_robin": [], **{name: [] for name in locations}}
    samplers = {name: ParallelSampler(suite, num_workers=args.workers, pipeline_groups=args.pipeline_groups,
                                      acting=name) for name in locations}
    try:
        for sampler in samplers.values():
            sampler.collect(policy, trials)  # warm-up: the workers build their envs
        for repeat in range(args.repeats):
            rates["single"].append(raw_steps_per_second(suite, envs, round_robin=False, seed=repeat))
            rates["round_robin"].append(raw_steps_per_second(suite, envs, round_robin=True, seed=repeat))
            for name, sampler in samplers.items():
                rates[name].append(sampler_steps_per_second(sampler, policy, trials))
            print(f"round {repeat + 1}/{args.repeats}: " + ", ".join(
                f"{name} {values[-1]:,.0f}" for name, values in rates.items()), flush=True)
    finally:
        for sampler in samplers.values():
            sampler.close()
    print(f"cores available                      : {available_cores()}")
    print(f"workers x pipeline groups            : {args.workers} x {args.pipeline_groups}")
    print(f"batch                                : {len(trials)} classes x 5 episodes x "
          f"{suite.spec.episode_length} steps, uniform random actions")
    print(f"raw single-env steps/s               : {statistics.median(rates['single']):,.0f}")
    print(f"raw round-robin steps/s (50 envs)    : {statistics.median(rates['round_robin']):,.0f}")
    for name in locations:
        ratio_single = statistics.median(
            s / (args.workers * r) for s, r in zip(rates[name], rates["single"]))
        ratio_round_robin = statistics.median(
            s / (args.workers * r) for s, r in zip(rates[name], rates["round_robin"]))
        print(f"acting in {name:<8}: sampler steps/s ({args.policy} probe) {statistics.median(rates[name]):,.0f}; "
              f"ratio / (workers x single) {ratio_single:.3f} (target >= 0.8 here, median of rounds); "
              f"/ (workers x round-robin) {ratio_round_robin:.3f}")


if __name__ == "__main__":
    main()
