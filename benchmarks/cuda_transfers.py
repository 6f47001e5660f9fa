"""Host-device traffic of every registered method on a CUDA learner, counted by the CUDA profiler.

    python benchmarks/cuda_transfers.py [--methods sd pearl ...] [--calls 20] [--update-steps 5 20]

Needs a GPU: it counts the copies the CUDA driver actually made (``Memcpy HtoD`` / ``Memcpy DtoH``
activities of ``torch.profiler``), which the CPU tests can only approximate by counting the
harness's own conversions (tests/test_sd_agent.py, tests/test_pearl_agent.py).

Per method, at its paper batch per call (50 slots for episode-memory methods, 10 for trial-memory
ones, over 4 pipeline groups), acting in the main process on the learner's device:

* copies per ``act`` + ``observe`` call, host to device and device to host, beside the arrays the
  call must move: the observation in (and the reward and next observation ``observe`` records), the
  action and the method's extras out. A normaliser, generator or network kept on the host would add
  copies each call;
* for a method with ``gradient_steps`` (PEARL, PEACH): the copies of one whole ``update`` with two
  different step counts on a small real ML10 rollout. The counts must not grow with the steps: every
  meta-batch is drawn on the device and the statistics are read once per update.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from algorithms.device import resolve_device
from algorithms.registry import METHODS_DIR, load_method, method_from_values, read_method_file
from envs.ml10 import ML10Suite
from envs.policy import TRAINING, Transition
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule

PAPER_SLOTS = {"episode": 50, "trial": 10}
PIPELINE_GROUPS = 4
ACTIVITIES = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def copies(prof) -> Counter:
    """Number of host-to-device and device-to-host copies the driver made inside ``prof``."""
    counted: Counter = Counter()
    for event in prof.events():
        for kind in ("HtoD", "DtoH"):
            if event.name.startswith(f"Memcpy {kind}"):
                counted[kind] += 1
    return counted


def act_copies(policy, batch: int, obs_dim: int, calls: int) -> tuple[Counter, int]:
    """Copies per ``act`` + ``observe`` call on ``batch`` envs, and the arrays one call returns."""
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (batch, obs_dim)).astype(np.float32)
    reward = np.zeros(batch, np.float32)
    memory = policy.start_episode(policy.initial_memory(batch), first_in_trial=True)
    for _ in range(3):  # warm-up: lazy initialisation is not per-call traffic
        action, extras, memory = policy.act(obs, memory, TRAINING)
        memory = policy.observe(memory, Transition(obs, np.asarray(action, np.float32), reward, obs))
    synchronize()
    with profile(activities=ACTIVITIES) as prof:
        for _ in range(calls):
            action, extras, memory = policy.act(obs, memory, TRAINING)
            memory = policy.observe(memory, Transition(obs, np.asarray(action, np.float32), reward, obs))
        synchronize()
    counted = copies(prof)
    return Counter({kind: n / calls for kind, n in counted.items()}), 1 + len(extras or {})


def update_copies(name: str, suite: ML10Suite, device: torch.device, steps: int) -> Counter:
    """Copies of one ``update`` with ``steps`` gradient steps, after one unprofiled update."""
    values = read_method_file(METHODS_DIR / f"{name}.yaml")
    values["gradient_steps"] = steps
    agent = method_from_values(name, values, f"{name} ({steps} gradient steps)").build_agent(suite.spec, 0, device)
    schedule = TaskSchedule(suite, run_seed=0, episodes_per_task=values.get("prior_episodes", 1) + 1)
    with ParallelSampler(suite, num_workers=1, pipeline_groups=1) as sampler:
        for iteration in range(2):
            rollout = sampler.collect(agent.policy, schedule.training_trials(iteration)[:3])
            synchronize()
            if iteration == 0:
                agent.update(rollout, iteration)
                continue
            with profile(activities=ACTIVITIES) as prof:
                agent.update(rollout, iteration)
                synchronize()
    return copies(prof)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    registered = sorted(path.stem for path in METHODS_DIR.glob("*.yaml"))
    parser.add_argument("--methods", nargs="+", default=registered, choices=registered)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--update-steps", type=int, nargs=2, default=[5, 20])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: a smoke run of the script itself (no copies exist to count)")
    args = parser.parse_args()
    device = resolve_device(args.device)  # cuda without a GPU: a clear error
    suite = ML10Suite(benchmark_seed=0)
    spec = suite.spec
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (smoke run: every count is 0)"
    print(f"device {where}; copies per act + observe call at the paper batch; "
          f"expected: the observation, reward and next observation in, the action and extras out")
    print("| method | envs per call | HtoD per call | DtoH per call | arrays returned per call |")
    print("|---|---|---|---|---|")
    update_methods = []
    for name in args.methods:
        method = load_method(name)
        agent = method.build_agent(spec, 0, device)
        batch = -(-PAPER_SLOTS[agent.policy.memory_scope] // PIPELINE_GROUPS)
        per_call, returned = act_copies(agent.policy, batch, spec.obs_dim, args.calls)
        print(f"| {name} | {batch} | {per_call['HtoD']:.1f} | {per_call['DtoH']:.1f} | {returned} |", flush=True)
        if method.values.get("gradient_steps"):
            update_methods.append(name)
    for name in update_methods:
        counted = {steps: update_copies(name, suite, device, steps) for steps in args.update_steps}
        fewer, more = counted.values()
        print(f"{name}: copies in one update with " + "; ".join(
            f"{steps} gradient steps: HtoD {c['HtoD']}, DtoH {c['DtoH']}" for steps, c in counted.items())
            + (" (the same: none per step)" if fewer == more else " (grows with the steps)"), flush=True)


if __name__ == "__main__":
    main()
