"""Sampling at the paper batch against the physics limit, for every registered method: measured
here, projected to N-core nodes, in one run.

    python benchmarks/sampler_scaling.py [--methods himeta-cd sd ...] [--episodes 5] [--cores 8 16 32]
                                         [--pipeline-groups 4] [--probe-repeats 3] [--workers 1 2]

Both places the policy can act (``sampler.acting``) are measured and projected: ``main`` (one batched
call per group and step in the main process) and ``workers`` (each worker acts on its own groups with
a CPU replica of the policy).

Work: one training iteration of config/paper.yaml (ML10, 10 train classes, one trial of
``--episodes`` episodes each, 500 steps) through :class:`~envs.sampler.ParallelSampler` with each
method's own untrained policy (config/methods/<method>.yaml, CPU, one torch thread).

Measured, per method:

* ``slots`` (envs stepped at once: 50 for episode-memory methods, 10 for trial-memory ones, whose
  episodes run in sequence), ``groups`` = min(pipeline groups, slots) and the batch per policy call;
* ``act``: seconds per env step of one ``act`` + ``observe`` call on that batch, one torch thread
  (median of 200 calls after 50 warm-up calls, random observations); the same cost is paid in the
  main process or in a worker, wherever the policy acts;
* the sampling rate with each of ``--workers`` (default 1 and 2), acting in the main process and in
  the workers (one collection each, after a warm-up collection of the same trials, so that no env is
  built while timing). Up to 2 workers the paper's pipeline groups are used; with more (``--workers
  15`` on a 16-core node) the rate is measured with the paper's groups and with the groups scaled to
  the node (below), beside the model's rate for that node, so the projection is checked for real.

Measured once: ``p``, physics seconds per env step (one process stepping the batch's envs one at a
time with uniform random actions), and the GRU probe's ratio sampler / (workers x single-env rate)
of ``benchmarks/sampler_throughput.py`` on this machine's cores.

Projection (stated model, no overlap losses). The physics limit of an ``N``-core node is
``(N - 1) / p`` (every core but the main process's stepping envs); the printed ratio is the projected
rate over it.

* acting in the main process: the sampler starts ``W = min(N, groups)`` workers and the main process
  acts serially, so ``R(N) = min(W / p, 1 / act, N / (p + act))``;
* acting in the workers: ``W = min(N, groups)`` workers each step and act for their own groups; the
  main process only waits while they sample (and they wait while it learns), so it takes no core of
  its own and ``R(N) = W / (p + act)``.

``calibration`` = measured rate with 2 workers over the model's rate for 2 cores: what the model
leaves out here (pipe round trips, scheduling, load imbalance between workers). A measurement with
``W > 2`` workers is compared with the model for a ``W + 1``-core node (the main process on its own
core), and its ratio is the measured rate over that node's physics limit ``W / p``.

Two projections: with the paper's pipeline groups (a run's configuration: at most that many
workers), and with the groups scaled to the node (acting in the main process: ``min(slots,
2 (N - 1))``, two per worker so that inference overlaps physics; in the workers: ``min(slots, N)``,
one per worker), where the acting cost is measured again at the smaller batch per call. A
trial-memory method has only ``slots`` = one env per trial in flight, so at most ``slots`` workers
step at once and its ratio is at most ``min(slots, N) / (N - 1)`` in either place (the in-flight
ceiling, printed per method: 0.67 at 16 cores for the paper's 10 trials, whatever the sampler does).
The GRU probe's line also prints the raw lock-step rate over the single-env rate, the share of the
single-env rate a worker keeps before any policy runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from algorithms.probe import ProbePolicy
from algorithms.registry import METHODS_DIR, load_method
from envs.ml10 import ML10Suite
from envs.policy import TRAINING, Transition
from envs.sampler import ParallelSampler, available_cores
from envs.schedule import TaskSchedule, Trial
from sampler_throughput import build_envs, raw_steps_per_second, sampler_steps_per_second  # benchmarks/

ACT_CALLS = 200
WARMUP_CALLS = 50


def acting_seconds_per_step(policy, batch: int, obs_dim: int, episode_length: int) -> float:
    """Median main-process seconds per env step of one ``act`` + ``observe`` call on ``batch`` envs."""
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (batch, obs_dim)).astype(np.float32)
    reward = np.zeros(batch, np.float32)
    memory = policy.start_episode(policy.initial_memory(batch), first_in_trial=True)
    times = []
    for call in range(WARMUP_CALLS + ACT_CALLS):
        if call % episode_length == 0 and call:
            memory = policy.start_episode(memory, first_in_trial=False)
        start = time.perf_counter()
        action, _, memory = policy.act(obs, memory, TRAINING)
        memory = policy.observe(memory, Transition(obs, np.asarray(action, np.float32), reward, obs))
        if call >= WARMUP_CALLS:
            times.append(time.perf_counter() - start)
    return statistics.median(times) / batch


LOCATIONS = ("main", "workers")


def projected_rate(cores: int, groups: int, physics_s: float, act_s: float, acting: str = "main",
                   workers: int | None = None) -> float:
    """The modelled sampling rate on an ``cores``-core node (module docstring): acting in the ``main``
    process ``min(W / p, 1 / act, N / (p + act))``, ``W = min(N, groups)``; in the ``workers``
    ``min(N, groups) / (p + act)``. ``workers`` caps the stepping processes below ``N`` (a
    measurement with fewer workers than the node's cores)."""
    stepping = min(cores if workers is None else workers, groups)
    if acting == "workers":
        return stepping / (physics_s + act_s)
    return min(stepping / physics_s, 1.0 / act_s, cores / (physics_s + act_s))


def rate_with_workers(workers: int, groups: int, physics_s: float, act_s: float, acting: str) -> float:
    """The model's rate for ``workers`` workers on a node with one more core for the main process:
    :func:`projected_rate` on ``workers + 1`` cores with at most ``workers`` stepping."""
    return projected_rate(workers + 1, groups, physics_s, act_s, acting, workers=workers)


def node_groups_for_workers(workers: int, slots: int, acting: str) -> int:
    """Groups scaled to ``workers`` measured workers: :func:`scaled_groups` of the node on which that
    many workers step (``workers + 1`` cores acting in the main process, ``workers`` acting in the
    workers), i.e. two groups per worker or one."""
    return scaled_groups(workers + 1 if acting == "main" else workers, slots, acting)


def measure_rate(suite, policy, trials: list[Trial], workers: int, groups: int, acting: str) -> float:
    """Steps/s of one collection of ``trials`` after a warm-up collection (every env built)."""
    with ParallelSampler(suite, num_workers=workers, pipeline_groups=groups, acting=acting) as sampler:
        sampler.collect(policy, trials)
        return sampler_steps_per_second(sampler, policy, trials)


def scaled_groups(cores: int, slots: int, acting: str) -> int:
    """Groups scaled to a node: two per worker acting in the main process (``N - 1`` workers), one per
    worker acting in the workers (``N`` workers)."""
    return min(slots, 2 * (cores - 1) if acting == "main" else cores)


def in_flight_ceiling(cores: int, slots: int) -> float:
    """The highest ratio any sampler can reach on a ``cores``-core node when a collection has only
    ``slots`` envs in flight: an env waits for its own action before its next step, so at most
    ``min(slots, N)`` processes step physics at once, against the limit's ``N - 1``:
    ``min(slots, N) / (N - 1)`` (above 1 when the workers use the core the limit leaves to the main
    process)."""
    return min(slots, cores) / (cores - 1)


def _projection_cell(cores: int, groups: int, physics_s: float, act_s: float, acting: str) -> str:
    rate = projected_rate(cores, groups, physics_s, act_s, acting)
    return f"{rate:,.0f} ({rate * physics_s / (cores - 1):.2f})"


def _bound(cores: int, groups: int, physics_s: float, act_s: float, acting: str) -> str:
    """What limits :func:`projected_rate` on ``cores``."""
    workers = min(cores, groups)
    if acting == "main" and 1 / act_s < workers / physics_s:
        return "main process (act)"
    if workers < cores - 1:
        return f"{workers} workers ({groups} groups)"
    return "physics" if acting == "main" else "physics + act in the workers"


def method_layout(policy, trials: list[Trial], pipeline_groups: int) -> tuple[int, int]:
    """(slots, groups) of one collection of ``trials`` for ``policy``'s memory scope."""
    episodes = trials[0].episodes
    slots = len(trials) * (episodes if policy.memory_scope == "episode" else 1)
    return slots, min(pipeline_groups, slots)


def probe_ratios(suite, trials: list[Trial], envs: list, pipeline_groups: int, repeats: int) -> dict[str, float]:
    """The GRU probe's sampler / (2 x single-env rate) with 2 workers in each acting place (median of
    ``repeats`` rounds, each against its own single-env rate); empty when ``repeats`` is 0."""
    if repeats == 0:
        return {}
    probe = ProbePolicy(suite.spec, seed=0, recurrent=True, uniform_actions=True)
    ratios: dict[str, list[float]] = {acting: [] for acting in LOCATIONS}
    interleaving: list[float] = []
    samplers = {acting: ParallelSampler(suite, num_workers=2, pipeline_groups=pipeline_groups, acting=acting)
                for acting in LOCATIONS}
    try:
        for sampler in samplers.values():
            sampler.collect(probe, trials)  # warm-up: the workers build every env the measurement steps
        for repeat in range(repeats):
            single = raw_steps_per_second(suite, envs, round_robin=False, seed=repeat)
            interleaving.append(raw_steps_per_second(suite, envs, round_robin=True, seed=repeat) / single)
            for acting, sampler in samplers.items():
                ratios[acting].append(sampler_steps_per_second(sampler, probe, trials) / (2 * single))
    finally:
        for sampler in samplers.values():
            sampler.close()
    medians = {acting: statistics.median(values) for acting, values in ratios.items()}
    print("GRU probe, 2 workers: sampler / (2 x single-env rate) = " + ", ".join(
        f"{medians[acting]:.2f} acting in {acting}" for acting in LOCATIONS)
        + f" (median of {repeats}; target >= 0.8); with no policy at all, one process stepping the "
        f"batch's envs in lock-step runs at {statistics.median(interleaving):.2f} x its single-env rate "
        "(MetaWorld's cost of alternating between envs, a ceiling before any acting cost)", flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    registered = sorted(path.stem for path in METHODS_DIR.glob("*.yaml"))
    parser.add_argument("--methods", nargs="+", default=registered, choices=registered)
    parser.add_argument("--episodes", type=int, default=5, help="episodes per trial (config/paper.yaml: 5)")
    parser.add_argument("--pipeline-groups", type=int, default=4, help="config/paper.yaml: 4")
    parser.add_argument("--cores", type=int, nargs="+", default=[8, 16, 32], help="nodes to project to")
    parser.add_argument("--probe-repeats", type=int, default=3, help="0: skip the GRU probe")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to measure (a 16-core node: 15)")
    args = parser.parse_args()
    if args.episodes < 1 or args.pipeline_groups < 1 or min(args.cores) < 2 or min(args.workers) < 1 \
            or args.probe_repeats < 0:
        parser.error("--episodes, --pipeline-groups and --workers must be >= 1, --cores >= 2, --probe-repeats >= 0")
    torch.set_num_threads(1)

    suite = ML10Suite(benchmark_seed=0)
    spec = suite.spec
    trials = TaskSchedule(suite, run_seed=0, episodes_per_task=args.episodes).training_trials(0)
    envs = build_envs(suite, trials)
    physics_s = 1.0 / raw_steps_per_second(suite, envs, round_robin=False, seed=0)
    print(f"{available_cores()} cores here; paper batch {len(trials)} classes x {args.episodes} episodes x "
          f"{spec.episode_length} steps; physics p = {physics_s * 1e6:.0f} us per env step "
          f"({1 / physics_s:,.0f} steps/s on one core)", flush=True)

    probe_ratio = probe_ratios(suite, trials, envs, args.pipeline_groups, args.probe_repeats)

    rows = []
    for name in args.methods:
        agent = load_method(name).build_agent(spec, 0, torch.device("cpu"))
        policy = agent.policy
        slots, groups = method_layout(policy, trials, args.pipeline_groups)
        act_s = acting_seconds_per_step(policy, -(-slots // groups), spec.obs_dim, spec.episode_length)
        measured, node_measured = {}, {}
        for acting in LOCATIONS:
            for workers in args.workers:
                measured[acting, workers] = measure_rate(suite, policy, trials, workers, args.pipeline_groups,
                                                         acting)
                print(f"  {name} acting in {acting}, {workers} workers, {args.pipeline_groups} groups: "
                      f"{measured[acting, workers]:,.0f} steps/s", flush=True)
                if workers > 2:
                    node_groups = node_groups_for_workers(workers, slots, acting)
                    node_act_s = acting_seconds_per_step(policy, -(-slots // node_groups), spec.obs_dim,
                                                         spec.episode_length)
                    node_measured[acting, workers] = (node_groups, node_act_s, measure_rate(
                        suite, policy, trials, workers, node_groups, acting))
                    print(f"  {name} acting in {acting}, {workers} workers, {node_groups} groups: "
                          f"{node_measured[acting, workers][2]:,.0f} steps/s", flush=True)
        calibration = ({acting: measured[acting, 2] / projected_rate(2, groups, physics_s, act_s, acting)
                        for acting in LOCATIONS} if 2 in args.workers else {})
        scaled = {}
        for cores in args.cores:
            for acting in LOCATIONS:
                node_groups = scaled_groups(cores, slots, acting)
                scaled[cores, acting] = (node_groups, acting_seconds_per_step(
                    policy, -(-slots // node_groups), spec.obs_dim, spec.episode_length))
        rows.append((name, slots, groups, act_s, measured, scaled, node_measured))
        counts = " / ".join(str(workers) for workers in args.workers)
        print(f"{name}: {slots} slots in {groups} groups ({slots / groups:.1f} envs per call), act "
              f"{act_s * 1e6:.0f} us per env step; measured steps/s with {counts} workers: " + "; ".join(
                  f"acting in {acting} " + " / ".join(f"{measured[acting, w]:,.0f}" for w in args.workers)
                  + (f" (calibration {calibration[acting]:.2f})" if calibration else "")
                  for acting in LOCATIONS), flush=True)

    print(f"\nWith {args.pipeline_groups} pipeline groups (config/paper.yaml):")
    header = ("| method | acting in | envs per call | act us/step | "
              + " | ".join(f"{w} worker{'s' * (w > 1)}" for w in args.workers) + " | "
              + " | ".join(f"{n} cores: steps/s (ratio)" for n in args.cores) + " | bound at the largest node |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, slots, groups, act_s, measured, _, _ in rows:
        for acting in LOCATIONS:
            cells = [_projection_cell(cores, groups, physics_s, act_s, acting) for cores in args.cores]
            print(f"| {name} | {acting} | {slots / groups:.1f} | {act_s * 1e6:.0f} | "
                  + " | ".join(f"{measured[acting, w]:,.0f}" for w in args.workers) + " | " + " | ".join(cells)
                  + f" | {_bound(max(args.cores), groups, physics_s, act_s, acting)} |")
    for workers in (w for w in args.workers if w > 2):
        print(f"\nMeasured with {workers} workers (a {workers + 1}-core node), against the model; ratio = "
              f"measured / ({workers} / p):")
        print("| method | acting in | groups | envs per call | act us/step | measured steps/s | model steps/s "
              "| measured / model | ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, slots, groups, act_s, measured, _, node_measured in rows:
            for acting in LOCATIONS:
                node_groups, node_act_s, node_rate = node_measured[acting, workers]
                for cell_groups, cell_act_s, rate in ((groups, act_s, measured[acting, workers]),
                                                      (node_groups, node_act_s, node_rate)):
                    model = rate_with_workers(workers, cell_groups, physics_s, cell_act_s, acting)
                    print(f"| {name} | {acting} | {cell_groups} | {slots / cell_groups:.1f} | "
                          f"{cell_act_s * 1e6:.0f} | {rate:,.0f} | {model:,.0f} | {rate / model:.2f} | "
                          f"{rate * physics_s / workers:.2f} |")
    print("\nWith the groups scaled to the node (acting in main: min(slots, 2 (N - 1)); in the workers: "
          "min(slots, N); act measured at that batch):")
    header = "| method | acting in | " + " | ".join(
        f"{n} cores: groups, act us/step, steps/s (ratio)" for n in args.cores) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, _, _, _, _, scaled, _ in rows:
        for acting in LOCATIONS:
            cells = []
            for cores in args.cores:
                node_groups, node_act_s = scaled[cores, acting]
                cells.append(f"{node_groups}, {node_act_s * 1e6:.0f}, "
                             f"{_projection_cell(cores, node_groups, physics_s, node_act_s, acting)}")
            print(f"| {name} | {acting} | " + " | ".join(cells) + " |")
    print("\nIn-flight ceiling min(slots, N) / (N - 1) (an env waits for its own action, so no sampler "
          "steps more envs at once than a collection has slots): " + "; ".join(
              f"{name} ({slots} slots) " + " / ".join(f"{in_flight_ceiling(cores, slots):.2f}" for cores in args.cores)
              for name, slots, *_ in rows) + f" at {' / '.join(str(n) for n in args.cores)} cores")
    print("\nratio = projected / ((N - 1) / p), target >= 0.9 at 16 cores" + ("; GRU probe ratio here " + ", ".join(
        f"{probe_ratio[acting]:.2f} acting in {acting}" for acting in LOCATIONS) + " (target >= 0.8)"
        if probe_ratio else ""))


if __name__ == "__main__":
    main()
