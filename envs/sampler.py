"""The parallel sampler every method trains and evaluates through.

Layout: the envs of one collection live in *slots*, dealt into ``pipeline_groups`` groups (slot
``k`` in group ``k % G``; trials arrive class-major and classes differ in physics cost by up to 4x,
so dealing gives every group the same mix of classes); each group belongs to one worker process
(group ``g`` to worker ``g % num_workers``), which balances the workers' load. The main process
batches the policy's inference over a group and serves the groups in a fixed order: as soon as group ``g`` has stepped,
its next actions are computed and sent while the workers step their other groups. Every worker
therefore holds a queue of work, inference overlaps physics, and no step waits for a barrier across
workers (a lock-step barrier costs ~25% on a virtualised 2-core machine: idle vCPUs are descheduled
and come back with cold caches; see docs/sampler.md).

Determinism: groups depend only on the trial list, the policy's memory scope and
``pipeline_groups``, never on the number of workers; the policy is called in the same order with
the same batches, so the same seed gives identical trajectories with 1 or N workers (tested).
``pipeline_groups`` is part of a run's configuration like a batch size: changing it regroups the
policy's batched calls (and its random draws), so it changes the numbers.

Failures: a worker that raises sends its traceback; a worker that dies is noticed through its process
sentinel; a worker that does not answer within ``timeout_s`` is an error too. All three raise
:class:`SamplerError` in the main process and shut the pool down, so nothing hangs.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import NamedTuple

import numpy as np

from envs.policy import MEMORY_SCOPES, TRAINING, Acting, RolloutPolicy, Transition, trial_key, validated_actions
from envs.rollout import Rollout
from envs.schedule import Trial
from envs.suite import TaskSuite, all_classes
from envs.worker import (
    ERROR_PREFIX,
    OK,
    PAYLOAD_PREFIX,
    READY,
    TERMINATION_ERROR,
    SharedStepBuffers,
    run_worker,
    truncation_error,
)

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
ACTING_LOCATIONS: tuple[str, ...] = ("main", "workers")


class SamplerError(RuntimeError):
    """A worker raised, died or stopped answering; the sampler is closed."""


def available_cores() -> int:
    """CPU cores this process may run on (respects affinity masks, e.g. SLURM cgroups)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Chunk(NamedTuple):
    """One chunk's layout: each group's slots, its worker, the workers in use, each slot's trial and
    first episode, and each group's (trial keys, training seed) (``None``: the policy is not keyed)."""

    groups: list[np.ndarray]
    owner: list[int]
    active: list[int]
    trial_index: np.ndarray
    first_episode: np.ndarray
    specs: list[tuple[np.ndarray, int]] | None


@dataclass(frozen=True)
class _Run:
    """Episodes ``first_episode .. first_episode + episodes`` of trial ``trial`` played in one slot."""

    trial: int
    first_episode: int
    episodes: int


class ParallelSampler:
    """Steps many envs of a :class:`TaskSuite` in worker processes with batched policy inference.

    Args:
        suite: the benchmark; pickled once to every worker.
        num_workers: worker processes (default: available cores).
        max_slots: envs stepped at once; larger collections run in consecutive chunks.
            The paper batch is 10 classes x 5 episodes = 50.
        pipeline_groups: groups the slots are cut into; each is stepped by one worker and gets one
            batched policy call per step. At least 2 per worker overlaps inference with physics;
            workers beyond this number would idle and are not started. Part of the run's
            configuration: it fixes the batches the policy is called on.
        inference_threads: torch threads in the main process while collecting (the cores belong
            to the workers).
        timeout_s: longest wait for one worker reply before it is declared hung (acting in the
            workers, one reply is one episode of every slot the worker owns).
        start_method: multiprocessing start method; ``spawn`` is safe with torch/CUDA.
        acting: where the policy acts. ``"main"``: one batched call per group and step in the main
            process (on the learner's device). ``"workers"``: each worker acts on its own groups with
            a CPU replica of the policy (``policy.for_workers()``, sent once per chunk), so the main
            process does no per-step work and sampling scales with the workers. On a CPU learner both
            give identical trajectories (tested); the policy must be ``trial_keyed``.
    """

    def __init__(
        self,
        suite: TaskSuite,
        num_workers: int | None = None,
        max_slots: int = 50,
        pipeline_groups: int = 4,
        inference_threads: int = 1,
        timeout_s: float = 600.0,
        start_method: str = "spawn",
        acting: str = "main",
    ) -> None:
        if acting not in ACTING_LOCATIONS:
            raise ValueError(f"sampler acting must be one of {ACTING_LOCATIONS}, got {acting!r}")
        self.acting_location = acting
        num_workers = num_workers or available_cores()
        if num_workers < 1 or max_slots < 1 or pipeline_groups < 1:
            raise ValueError(
                f"num_workers ({num_workers}), max_slots ({max_slots}) and pipeline_groups "
                f"({pipeline_groups}) must all be >= 1"
            )
        self.suite = suite
        self.spec = suite.spec
        self.num_workers = self.workers_used(num_workers, max_slots, pipeline_groups)
        self.max_slots = max_slots
        self.pipeline_groups = pipeline_groups
        self.inference_threads = inference_threads
        self.timeout_s = timeout_s
        self._closed = False
        ctx = mp.get_context(start_method)
        self._buffers = SharedStepBuffers.allocate(
            ctx, max_slots, self.spec.obs_dim, self.spec.action_dim
        )
        self._views = self._buffers.views()
        pool_limit = 2 * -(-max_slots // self.num_workers)
        self._conns = []
        self._procs = []
        with _single_threaded_children():
            for worker_id in range(self.num_workers):
                parent_conn, child_conn = ctx.Pipe()
                proc = ctx.Process(
                    target=run_worker,
                    args=(worker_id, child_conn, self._buffers, pool_limit),
                    name=f"sampler-worker-{worker_id}",
                    daemon=True,
                )
                proc.start()
                child_conn.close()
                self._conns.append(parent_conn)
                self._procs.append(proc)
        for worker_id, conn in enumerate(self._conns):
            try:
                conn.send(suite)
            except OSError:
                pass  # the worker is gone; _receive reports how it ended
            self._receive(worker_id, "starting", expected=READY)

    @staticmethod
    def workers_used(num_workers: int, max_slots: int, pipeline_groups: int) -> int:
        """Worker processes a sampler of these settings starts: a group has one worker, a slot one group."""
        return min(num_workers, max_slots, pipeline_groups)

    @classmethod
    def cpus_used(cls, num_workers: int, max_slots: int, pipeline_groups: int, acting: str) -> int:
        """CPUs a training job of these settings keeps busy: its workers, plus one for the main process
        when it acts. Acting in the workers, the main process only waits while they sample and they
        only wait while it learns, so it needs no core of its own."""
        return cls.workers_used(num_workers, max_slots, pipeline_groups) + (acting == "main")

    # ------------------------------------------------------------------ public API
    def collect(
        self, policy: RolloutPolicy, trials: Sequence[Trial], acting: Acting = TRAINING
    ) -> Rollout:
        """Play every trial to the end and return the recorded rollout.

        All trials must have the same number of episodes. Under ``memory_scope == "episode"`` the
        episodes of a trial run side by side in separate slots; under ``"trial"`` they run in
        sequence in one slot with the policy's memory carried across them.
        """
        if self._closed:
            raise SamplerError("the sampler is closed (a worker failed earlier or close() was called)")
        trials = list(trials)
        self._validate(policy, trials)
        collect_chunk = self._collect_chunk if self.acting_location == "main" else self._collect_chunk_in_workers
        rollout = Rollout.allocate(
            trials, self.spec.episode_length, self.spec.obs_dim, self.spec.action_dim
        )
        if policy.memory_scope == "episode":
            runs = [_Run(i, e, 1) for i, t in enumerate(trials) for e in range(t.episodes)]
        else:
            runs = [_Run(i, 0, t.episodes) for i, t in enumerate(trials)]
        try:
            with _torch_threads(self.inference_threads):
                for start in range(0, len(runs), self.max_slots):
                    collect_chunk(policy, trials, runs[start : start + self.max_slots], rollout, acting)
        except BaseException:
            self._abort()  # commands may be in flight: the pool cannot be reused consistently
            raise
        return rollout

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for conn, proc in zip(self._conns, self._procs):
            if proc.is_alive():
                try:
                    conn.send(("close",))
                except OSError:
                    pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> ParallelSampler:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()

    @property
    def worker_pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]

    # ------------------------------------------------------------------ internals
    def _validate(self, policy: RolloutPolicy, trials: list[Trial]) -> None:
        if not trials:
            raise ValueError("collect() needs at least one trial")
        if getattr(policy, "memory_scope", None) not in MEMORY_SCOPES:
            raise ValueError(
                f"{type(policy).__name__}.memory_scope must be one of {MEMORY_SCOPES}, "
                f"got {getattr(policy, 'memory_scope', None)!r}"
            )
        if len({t.episodes for t in trials}) != 1:
            raise ValueError(
                "all trials of one collection need the same number of episodes, got "
                f"{sorted({t.episodes for t in trials})}"
            )
        able = getattr(policy, "trial_keyed", False) and all(
            hasattr(policy, name) for name in ("for_workers", "training_seed"))
        if self.acting_location == "workers" and not able:
            raise ValueError(
                f"{type(policy).__name__} cannot act in the sampler's workers: it needs trial_keyed = True, "
                "training_seed() and for_workers() (envs/policy.py); run it with sampler acting 'main'"
            )
        known = set(all_classes(self.suite))
        for trial in trials:
            if trial.class_name not in known:
                raise ValueError(
                    f"unknown task class {trial.class_name!r} for suite {self.suite.name}; "
                    f"known: {', '.join(all_classes(self.suite))}"
                )
            if trial.variant >= self.suite.variants_per_class:
                raise ValueError(
                    f"variant {trial.variant} of {trial.class_name} is outside "
                    f"[0, {self.suite.variants_per_class})"
                )

    def _prepare_chunk(self, policy: RolloutPolicy, trials: list[Trial], runs: list[_Run],
                       acting: Acting) -> _Chunk:
        """Bind the chunk's envs in the workers and lay out what both acting places need."""
        groups, owner, active = self._bind_groups(trials, runs)
        return _Chunk(groups, owner, active, np.array([r.trial for r in runs]),
                      np.array([r.first_episode for r in runs]),
                      self._memory_specs(policy, trials, runs, groups, acting))

    def _bind_groups(self, trials: list[Trial], runs: list[_Run]) -> tuple[list[np.ndarray], list[int], list[int]]:
        """Deal the chunk's slots into groups, bind an env to every slot in its group's worker; returns
        the groups' slots, the worker of each group and the workers in use."""
        n_groups = min(self.pipeline_groups, len(runs))
        groups = [np.arange(g, len(runs), n_groups) for g in range(n_groups)]
        owner = [g % self.num_workers for g in range(len(groups))]  # the one worker of each group
        active = sorted(set(owner))
        for w in active:
            mine = [(g, int(slot)) for g, slots in enumerate(groups) if owner[g] == w for slot in slots]
            wanted = [(slot, trials[runs[slot].trial].class_name, trials[runs[slot].trial].variant)
                      for _, slot in mine]
            self._send(w, ("setup", wanted, [g for g, _ in mine], len(groups)), "binding envs")
        self._receive_all(active, "binding envs")
        return groups, owner, active

    @staticmethod
    def _memory_specs(policy: RolloutPolicy, trials: list[Trial], runs: list[_Run], groups: list[np.ndarray],
                      acting: Acting) -> list[tuple[np.ndarray, int]] | None:
        """Per group, in group order: its slots' trial keys and its training seed (drawn from the policy
        here, in the main process; an evaluation draws nothing from a training stream, so its groups get
        the unused seed 0); ``None`` for a policy that is not ``trial_keyed``."""
        if not getattr(policy, "trial_keyed", False):
            return None
        keys = np.array([trial_key(trials[r.trial].class_name, trials[r.trial].variant, r.first_episode)
                         for r in runs], dtype=np.int64)
        return [(keys[slots], 0 if acting.evaluation else policy.training_seed()) for slots in groups]

    def _collect_chunk(
        self,
        policy: RolloutPolicy,
        trials: list[Trial],
        runs: list[_Run],
        rollout: Rollout,
        acting: Acting,
    ) -> None:
        groups, owner, active, trial_index, first_episode, specs = self._prepare_chunk(
            policy, trials, runs, acting)
        if specs is None:
            memories = [policy.initial_memory(len(slots)) for slots in groups]
        else:
            memories = [policy.initial_memory(len(keys), trial_keys=keys, training_seed=seed) for keys, seed in specs]
        steps = self.spec.episode_length

        for episode in range(runs[0].episodes):
            memories = [policy.start_episode(m, first_in_trial=episode == 0) for m in memories]
            for w in active:
                self._send(w, ("reset",), "resetting envs")
            self._receive_all(active, "resetting envs")
            episode_index = first_episode + episode
            rollout.observations[trial_index, episode_index, 0] = self._views["obs"][: len(runs)]
            actions: list[np.ndarray] = [None] * len(groups)  # type: ignore[list-item]
            for g, slots in enumerate(groups):
                actions[g], memories[g] = self._act(policy, memories[g], rollout, slots, trial_index,
                                                    episode_index, 0, acting)
                self._send(owner[g], ("step", g), f"stepping group {g} at step 0")
            for t in range(steps):
                for g, slots in enumerate(groups):
                    self._receive(owner[g], f"stepping group {g} at step {t}")
                    ti, ei = trial_index[slots], episode_index[slots]
                    obs = rollout.observations[ti, ei, t]
                    next_obs = self._views["obs"][slots]
                    reward = self._views["reward"][slots]
                    rollout.observations[ti, ei, t + 1] = next_obs
                    rollout.rewards[ti, ei, t] = reward
                    rollout.successes[ti, ei, t] = self._views["success"][slots]
                    rollout.truncated[ti, ei, t] = self._views["truncated"][slots]
                    if self._views["terminated"][slots].any():
                        self._fail(TERMINATION_ERROR)
                    memories[g] = policy.observe(
                        memories[g], Transition(obs, actions[g], reward, next_obs)
                    )
                    if t + 1 < steps:
                        actions[g], memories[g] = self._act(policy, memories[g], rollout, slots,
                                                            trial_index, episode_index, t + 1,
                                                            acting)
                        self._send(owner[g], ("step", g), f"stepping group {g} at step {t + 1}")
            last = rollout.truncated[trial_index, episode_index, steps - 1]
            if not last.all():
                self._fail(truncation_error(steps))

    def _collect_chunk_in_workers(
        self,
        policy: RolloutPolicy,
        trials: list[Trial],
        runs: list[_Run],
        rollout: Rollout,
        acting: Acting,
    ) -> None:
        """The chunk with every group acted on by its worker: the main process sends the policy replica
        and each group's memory seeds, then one command per episode, and places the records."""
        groups, owner, active, trial_index, first_episode, specs = self._prepare_chunk(
            policy, trials, runs, acting)
        replica = policy.for_workers()
        for w in active:
            mine = [(g, keys, seed) for g, (keys, seed) in enumerate(specs) if owner[g] == w]
            self._send(w, ("begin", replica, acting, mine), "receiving the policy")
        self._receive_all(active, "receiving the policy")
        for episode in range(runs[0].episodes):
            for w in active:
                self._send(w, ("episode", episode == 0), f"acting in episode {episode}")
            for w in active:
                for g, record in self._receive_payload(w, f"acting in episode {episode}").items():
                    slots = groups[g]
                    rollout.place(trial_index[slots], first_episode[slots] + episode, record)

    def _act(self, policy, memory, rollout, slots, trial_index, episode_index, t, acting):
        ti, ei = trial_index[slots], episode_index[slots]
        obs = rollout.observations[ti, ei, t]
        action, extras, memory = policy.act(obs, memory, acting)
        action = validated_actions(policy, action, len(slots), self.spec.action_dim)
        rollout.actions[ti, ei, t] = action
        rollout.record_extras(ti, ei, t, extras)
        self._views["action"][slots] = self.spec.clip_action(action)
        return action, memory

    def _send(self, worker_id: int, command: tuple, doing: str) -> None:
        """Send ``command``; a worker that died since its last reply is reported like in :meth:`_receive`."""
        try:
            self._conns[worker_id].send(command)
        except (BrokenPipeError, ConnectionResetError):
            self._worker_died(worker_id, doing)

    def _receive_all(self, workers: list[int], doing: str) -> None:
        for w in workers:
            self._receive(w, doing)

    def _receive_payload(self, worker_id: int, doing: str):
        """The object a worker sent after :data:`PAYLOAD_PREFIX` (errors as in :meth:`_receive`)."""
        return pickle.loads(self._receive(worker_id, doing, expected=PAYLOAD_PREFIX)[len(PAYLOAD_PREFIX):])

    def _receive(self, worker_id: int, doing: str, expected: bytes = OK) -> bytes:
        """Wait for the worker's reply: ``expected`` itself, or a message starting with
        :data:`PAYLOAD_PREFIX` when that is expected; anything else, a death or a timeout raises."""
        conn, proc = self._conns[worker_id], self._procs[worker_id]
        ready = wait([conn, proc.sentinel], timeout=self.timeout_s)
        message = _read_reply(conn) if ready else None
        if message is not None:
            if message == expected or expected == PAYLOAD_PREFIX and message.startswith(PAYLOAD_PREFIX):
                return message
            self._fail(
                message[len(ERROR_PREFIX):].decode()
                if message.startswith(ERROR_PREFIX)
                else f"unexpected reply {message!r} from worker {worker_id} while {doing}"
            )
        if not ready:
            self._fail(f"sampler worker {worker_id} did not answer within {self.timeout_s:.0f} s "
                       f"while {doing}")
        self._worker_died(worker_id, doing)

    def _worker_died(self, worker_id: int, doing: str) -> None:
        proc = self._procs[worker_id]
        proc.join(timeout=10)  # the pipe can report EOF a moment before the exit code is set
        self._fail(f"sampler worker {worker_id} (pid {proc.pid}) died with exit code "
                   f"{proc.exitcode} while {doing}")

    def _fail(self, message: str) -> None:
        self._abort()
        raise SamplerError(message)

    def _abort(self) -> None:
        """Kill the workers after an error; the sampler is closed afterwards."""
        if self._closed:
            return
        self._closed = True
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
        for proc in self._procs:
            proc.join(timeout=5)
        for conn in self._conns:
            conn.close()


def _read_reply(conn) -> bytes | None:
    """The worker's reply if one is waiting; ``None`` if the pipe is empty or closed (worker died)."""
    try:
        return conn.recv_bytes() if conn.poll() else None
    except (EOFError, OSError):
        return None


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Spawned workers inherit the environment: one BLAS/OpenMP thread each (they own a core)."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: "1" for name in _THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """Limit torch's intra-op threads in the main process while workers own the cores."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
