"""The env-stepping side of the parallel sampler (runs in a spawned worker process).

A worker owns a slice of the sampler's env slots. It reads actions from, and writes observations,
rewards and flags to, arrays in shared memory; the pipe carries only tiny commands and replies. Any
exception is sent back as a traceback and ends the worker, so the main process can raise it.

Commands (tuples sent by :class:`envs.sampler.ParallelSampler`):

* ``("setup", [(slot, class_name, variant), ...], [group of each slot], n_groups)``: bind an env to
  each owned slot and remember which pipeline group it is stepped with.
* ``("reset",)``: reset every owned env, write the first observations.
* ``("step", group)``: step the owned envs of one pipeline group with the actions in shared memory.
* ``("begin", policy, acting, [(group, trial_keys, training_seed), ...])`` (acting in the workers): keep
  the policy replica and build the initial memory of each owned group.
* ``("episode", first_in_trial)`` (acting in the workers): play one episode in every owned group, acting
  on each group with one batched call per step, and reply with each group's record
  (:class:`~envs.rollout.Rollout` of one episode per slot, pickled after :data:`PAYLOAD_PREFIX`).
* ``("close",)``: exit.

Acting in a worker calls the policy on exactly the batches, in exactly the per-group order, that the
main process would (act, step, observe; groups are independent: each memory carries its own random
streams), so the trajectories are the same wherever the policy acts.
"""

from __future__ import annotations

import pickle
import signal
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from envs.policy import Acting, Transition, validated_actions
from envs.rollout import Rollout
from envs.suite import StepEnv, TaskSuite

READY = b"ready"
OK = b""
ERROR_PREFIX = b"error:"
PAYLOAD_PREFIX = b"payload:"
TERMINATION_ERROR = ("an env reported termination before the episode's last step; the shared protocol "
                     "plays every episode for its full length")


def truncation_error(steps: int) -> str:
    """The error of envs that did not end their episode at the suite's ``episode_length``."""
    return (f"envs did not truncate after {steps} steps; the suite's episode_length must equal the env's "
            "time limit")


@dataclass
class SharedStepBuffers:
    """Per-slot step data in shared memory (``multiprocessing`` raw arrays, viewed as numpy)."""

    obs: Any
    action: Any
    reward: Any
    success: Any
    terminated: Any
    truncated: Any
    capacity: int
    obs_dim: int
    action_dim: int

    @classmethod
    def allocate(cls, ctx, capacity: int, obs_dim: int, action_dim: int) -> SharedStepBuffers:
        return cls(
            obs=ctx.RawArray("f", capacity * obs_dim),
            action=ctx.RawArray("f", capacity * action_dim),
            reward=ctx.RawArray("d", capacity),
            success=ctx.RawArray("B", capacity),
            terminated=ctx.RawArray("B", capacity),
            truncated=ctx.RawArray("B", capacity),
            capacity=capacity,
            obs_dim=obs_dim,
            action_dim=action_dim,
        )

    def views(self) -> dict[str, np.ndarray]:
        """Numpy views (no copy) of the shared arrays, shaped per slot."""
        return {
            "obs": np.frombuffer(self.obs, dtype=np.float32).reshape(self.capacity, self.obs_dim),
            "action": np.frombuffer(self.action, dtype=np.float32).reshape(
                self.capacity, self.action_dim
            ),
            "reward": np.frombuffer(self.reward, dtype=np.float64),
            "success": np.frombuffer(self.success, dtype=np.uint8),
            "terminated": np.frombuffer(self.terminated, dtype=np.uint8),
            "truncated": np.frombuffer(self.truncated, dtype=np.uint8),
        }


class _EnvPool:
    """Envs kept per class across collections; envs of classes not in use are dropped over a limit."""

    def __init__(self, suite: TaskSuite, limit: int) -> None:
        self.suite = suite
        self.limit = limit
        self.free: dict[str, list[StepEnv]] = {}

    def bind(self, wanted: list[tuple[int, str, int]]) -> list[tuple[int, StepEnv]]:
        in_use: dict[str, list[StepEnv]] = {}
        bound = []
        for slot, class_name, variant in wanted:
            available = self.free.setdefault(class_name, [])
            env = available.pop() if available else self.suite.make_env(class_name)
            self.suite.set_variant(env, class_name, variant)
            in_use.setdefault(class_name, []).append(env)
            bound.append((slot, env))
        for class_name, envs in in_use.items():
            self.free[class_name].extend(envs)
        self._evict(Counter(class_name for _, class_name, _ in wanted))
        return bound

    def _evict(self, needed: Counter) -> None:
        total = sum(len(envs) for envs in self.free.values())
        for class_name in list(self.free):
            if total <= self.limit:
                return
            if needed[class_name] == 0:
                total -= len(self.free.pop(class_name))


def run_worker(worker_id: int, conn: Connection, buffers: SharedStepBuffers, pool_limit: int) -> None:
    """Entry point of a worker process: receive the suite, then serve commands until ``close``.

    The suite arrives over the pipe rather than as a process argument: CPython's spawn writes the
    arguments into a pipe whose read end the parent keeps open until the write ends, so a child that
    dies while bootstrapping would block ``Process.start()`` forever on a large argument.

    SIGTERM and SIGUSR1 are ignored: a scheduler signals every process of a job, and the main process
    stops at its next safe point (algorithms/stopping.py), which needs its workers until then. A
    worker still ends when the main process goes: its pipe closes and ``recv`` raises.
    """
    for number in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(number, signal.SIG_IGN)
    try:
        suite: TaskSuite = conn.recv()
        views = buffers.views()
        pool = _EnvPool(suite, pool_limit)
        groups: list[list[tuple[int, StepEnv]]] = []
        actor: _GroupActor | None = None
        conn.send_bytes(READY)
        while True:
            command = conn.recv()
            kind = command[0]
            if kind == "step":
                _step(groups[command[1]], views)
            elif kind == "begin":
                _, policy, acting, memory_specs = command
                actor = _GroupActor(policy, acting, suite, {g: groups[g] for g, _, _ in memory_specs})
                actor.begin(memory_specs)
            elif kind == "episode":
                conn.send_bytes(PAYLOAD_PREFIX + pickle.dumps(actor.play_episode(command[1]), protocol=5))
                continue
            elif kind == "reset":
                _reset(groups, views)
            elif kind == "setup":
                _, wanted, slot_groups, n_groups = command
                groups = [[] for _ in range(n_groups)]
                for (slot, env), group in zip(pool.bind(wanted), slot_groups):
                    groups[group].append((slot, env))
            elif kind == "close":
                return
            else:
                raise ValueError(f"unknown sampler command {kind!r}")
            conn.send_bytes(OK)
    except BaseException:  # noqa: BLE001 - everything must reach the main process
        message = f"sampler worker {worker_id} failed:\n{traceback.format_exc()}"
        try:
            conn.send_bytes(ERROR_PREFIX + message.encode())
        except OSError:
            pass


def _reset(groups: list[list[tuple[int, StepEnv]]], views: dict[str, np.ndarray]) -> None:
    for group in groups:
        for slot, env in group:
            obs, _ = env.reset()
            views["obs"][slot] = obs


def _step(group: list[tuple[int, StepEnv]], views: dict[str, np.ndarray]) -> None:
    obs_buf, action_buf = views["obs"], views["action"]
    reward_buf, success_buf = views["reward"], views["success"]
    terminated_buf, truncated_buf = views["terminated"], views["truncated"]
    for slot, env in group:
        obs, reward, terminated, truncated, info = env.step(action_buf[slot].astype(np.float64))
        obs_buf[slot] = obs
        reward_buf[slot] = reward
        success_buf[slot] = bool(info["success"])
        terminated_buf[slot] = terminated
        truncated_buf[slot] = truncated


class _GroupActor:
    """Acting inside a worker: the policy replica, the owned groups' envs and memories."""

    def __init__(self, policy, acting: Acting, suite: TaskSuite,
                 groups: dict[int, list[tuple[int, StepEnv]]]) -> None:
        self.policy, self.acting, self.spec, self.groups = policy, acting, suite.spec, groups
        self.memories: dict[int, Any] = {}

    def begin(self, memory_specs: list[tuple[int, np.ndarray, int]]) -> None:
        """Each owned group's initial memory, from its slots' trial keys and its training seed."""
        for group, keys, seed in memory_specs:
            self.memories[group] = self.policy.initial_memory(len(keys), trial_keys=keys, training_seed=seed)

    def play_episode(self, first_in_trial: bool) -> dict[int, Rollout]:
        """One full episode in every owned group; returns each group's record."""
        spec, steps = self.spec, self.spec.episode_length
        records = {g: Rollout.for_slots(len(envs), steps, spec.obs_dim, spec.action_dim)
                   for g, envs in self.groups.items()}
        for g, envs in self.groups.items():
            self.memories[g] = self.policy.start_episode(self.memories[g], first_in_trial=first_in_trial)
            for k, (_, env) in enumerate(envs):
                records[g].observations[k, 0, 0] = env.reset()[0]
        for t in range(steps):
            for g, envs in self.groups.items():
                self.memories[g] = self._step_group(envs, records[g], t, self.memories[g])
        for g, record in records.items():
            if not record.truncated[:, 0, steps - 1].all():
                raise RuntimeError(truncation_error(steps))
        return records

    def _step_group(self, envs: list[tuple[int, StepEnv]], record: Rollout, t: int, memory: Any) -> Any:
        """Act on the group (one batched call), step its envs, let the policy observe the step; the
        dtypes are those of the main-process path (float32 observations and actions, float64 rewards)."""
        obs = np.ascontiguousarray(record.observations[:, 0, t])
        action, extras, memory = self.policy.act(obs, memory, self.acting)
        action = validated_actions(self.policy, action, len(envs), self.spec.action_dim)
        record.actions[:, 0, t] = action
        record.record_extras(np.arange(len(envs)), 0, t, extras)
        commanded = self.spec.clip_action(action).astype(np.float32)
        for k, (_, env) in enumerate(envs):
            next_obs, reward, terminated, truncated, info = env.step(commanded[k].astype(np.float64))
            if terminated:
                raise RuntimeError(TERMINATION_ERROR)
            record.observations[k, 0, t + 1] = next_obs
            record.rewards[k, 0, t] = reward
            record.successes[k, 0, t] = bool(info["success"])
            record.truncated[k, 0, t] = truncated
        transition = Transition(obs, action, np.ascontiguousarray(record.rewards[:, 0, t]),
                                np.ascontiguousarray(record.observations[:, 0, t + 1]))
        return self.policy.observe(memory, transition)
