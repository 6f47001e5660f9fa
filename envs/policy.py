"""The contract between the sampler and an agent acting in the environment.

The sampler calls an agent on *batches* of env slots (all slots of one pipeline group at once) and
keeps the agent's memory for it, so inference is batched across envs and the agent itself stays
stateless with respect to rollouts::

    memory = policy.initial_memory(batch)                 # once per group and collection
    for episode in trial:
        memory = policy.start_episode(memory, first_in_trial=episode == 0)
        for t in range(T):
            action, extras, memory = policy.act(obs_t, memory, acting)
            memory = policy.observe(memory, Transition(obs_t, action, reward_t, next_obs_t))

``acting`` (:class:`Acting`) says whether the collection trains or evaluates and whether actions are
the distributions' means. Evaluation draws nothing from a training stream: its noise (stochastic
actions, sampled latents) comes from per-trial streams, so an evaluation is a function of the weights
and the trials alone.

``memory_scope`` says how memory behaves inside a trial of several episodes on one variant:

* ``"episode"``: ``start_episode`` forgets everything (HiMeta's per-episode GRU). The episodes of a
  trial are then independent, and the sampler runs them side by side in separate env slots.
* ``"trial"``: memory is carried across the episodes of a trial and reset only at a new trial
  (SD's recurrent belief, PEARL's accumulated context). The sampler runs those episodes in sequence.

``start_episode(memory, first_in_trial, rows)`` takes an optional boolean mask: only those rows start
an episode (or a trial), the others keep their memory untouched. The sampler starts every row at
once; MetaWorld's vector envs end each env's episode at its own first success
(:mod:`envs.metaworld_evaluation`).

``extras`` are per-slot arrays the sampler records next to each step (log-probs, latents, values).

A policy that sets ``trial_keyed = True`` is called ``initial_memory(batch, trial_keys=keys,
training_seed=seed)`` once per pipeline group and collection chunk:

* ``trial_keys``: one integer per slot, :func:`trial_key` of the slot's trial and first episode, so it
  can draw noise that belongs to a trial wherever the trial is played (slot, group, chunk and worker
  count do not matter). Every method's evaluation noise (HiMeta's and SD's ``y``, PEARL's and PEACH's
  ``z``, and every sampled action of a stochastic evaluation) comes from streams seeded by these keys
  (:mod:`algorithms.common.keyed_noise`).
* ``training_seed``: the seed of the group's training stream, which the memory carries and every
  training draw of the group uses. The sampler gets it from ``policy.training_seed()`` in the main
  process, in group order (the methods draw it from their checkpointed acting generator; an evaluation
  collection draws none and passes 0). No training draw touches state shared between groups, so the
  groups can act in any process.

Acting in the sampler's workers (``sampler.acting: workers``) also needs ``policy.for_workers()``: a
picklable copy on the CPU holding only what acting reads (:mod:`algorithms.common.acting_replica`),
sent to every worker once per collection chunk. Every policy in this repository is trial-keyed and
has both methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import hashlib

import numpy as np

MemoryScope = Literal["episode", "trial"]
MEMORY_SCOPES: tuple[str, ...] = ("episode", "trial")
EvaluationActions = Literal["deterministic", "stochastic"]
EVALUATION_ACTIONS: tuple[str, ...] = ("deterministic", "stochastic")


@dataclass(frozen=True)
class Acting:
    """How one collection acts.

    ``evaluation``: the evaluation protocol. No training random stream is drawn from (every draw
    comes from the slot's trial stream), no exploration device is used (HAC subgoal tests), and
    context-based agents follow their evaluation schedule (PEARL: prior z for episode 0 of a trial,
    then the posterior). ``deterministic``: actions are the policy distributions' means; only
    evaluation acts deterministically.
    """

    evaluation: bool
    deterministic: bool

    def __post_init__(self) -> None:
        if self.deterministic and not self.evaluation:
            raise ValueError("training collections sample their actions; deterministic acting is evaluation")

    @classmethod
    def evaluating(cls, actions: EvaluationActions) -> Acting:
        """The evaluation mode of ``evaluation.actions``."""
        if actions not in EVALUATION_ACTIONS:
            raise ValueError(f"evaluation actions must be one of {EVALUATION_ACTIONS}, got {actions!r}")
        return cls(evaluation=True, deterministic=actions == "deterministic")


TRAINING = Acting(evaluation=False, deterministic=False)
DETERMINISTIC_EVALUATION = Acting(evaluation=True, deterministic=True)
STOCHASTIC_EVALUATION = Acting(evaluation=True, deterministic=False)


@dataclass(frozen=True)
class Transition:
    """One batched environment step as the agent observes it (raw, unshaped reward)."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray


def trial_key(class_name: str, variant: int, first_episode: int) -> int:
    """A stable 63-bit integer for (class, variant, first episode index): the same in every process,
    run and collection (a BLAKE2 digest, not Python's salted ``hash``)."""
    digest = hashlib.blake2b(f"{class_name}/{variant}/{first_episode}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def episode_rows(batch_size: int, rows: np.ndarray | None) -> np.ndarray:
    """The boolean mask of the rows a ``start_episode`` call restarts (every row for ``None``)."""
    if rows is None:
        return np.ones(batch_size, dtype=bool)
    mask = np.asarray(rows, dtype=bool)
    if mask.shape != (batch_size,):
        raise ValueError(f"rows must be a boolean mask with one entry per slot ({batch_size}), got {mask.shape}")
    return mask


def slot_keys(batch_size: int, trial_keys: np.ndarray | None) -> np.ndarray:
    """The ``trial_keys`` a ``trial_keyed`` policy was given, as ``int64``; without them (a call
    outside the sampler) the slots are keyed by their row number."""
    keys = np.arange(batch_size, dtype=np.int64) if trial_keys is None else np.asarray(trial_keys, np.int64)
    if keys.shape != (batch_size,):
        raise ValueError(f"trial_keys must have one key per slot ({batch_size}), got shape {keys.shape}")
    return keys


def validated_actions(policy: object, action: np.ndarray, batch_size: int, action_dim: int) -> np.ndarray:
    """``action`` as float32 ``[batch_size, action_dim]``; a clear error naming the policy otherwise."""
    action = np.asarray(action, dtype=np.float32)
    if action.shape != (batch_size, action_dim) or not np.isfinite(action).all():
        raise ValueError(
            f"{type(policy).__name__}.act returned actions of shape {action.shape} "
            f"(finite: {bool(np.isfinite(action).all())}); expected finite values of shape "
            f"{(batch_size, action_dim)}"
        )
    return action


class RolloutPolicy(Protocol):
    """What the sampler needs from an agent. Memory is opaque to the sampler. A ``trial_keyed`` policy
    also takes ``trial_keys`` and ``training_seed`` in ``initial_memory`` and has ``training_seed()``;
    one that acts in the workers has ``for_workers()`` (module docstring)."""

    memory_scope: MemoryScope

    def initial_memory(self, batch_size: int) -> Any: ...

    def start_episode(self, memory: Any, first_in_trial: bool, rows: np.ndarray | None = None) -> Any: ...

    def act(
        self, obs: np.ndarray, memory: Any, acting: Acting
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]: ...

    def observe(self, memory: Any, transition: Transition) -> Any: ...
