"""MetaWorld's own evaluation (``metaworld.evaluation``, metaworld 3.1.1) as a second yardstick.

Every trained run is scored a second time by code that is not this project's: MetaWorld builds the
vector envs (``metaworld.make_ml_envs``), runs the episodes and counts successes
(``metalearning_evaluation``: per evaluation round, a new variant per sub-env, ``adaptation_episodes``
episodes without early termination, then ``evaluation()``'s scored episodes, which end at the first
success). This module only translates between MetaWorld's agent protocols and this project's
:class:`~envs.policy.RolloutPolicy`:

* :class:`PolicyAgent` implements both ``metaworld.evaluation.Agent`` (``eval_action``, ``reset``) and
  ``MetaLearningAgent`` (``init``, ``adapt_action``, ``step``, ``adapt``). ``init`` starts a trial in
  every row; an episode that ends (the adaptation episodes' time limit, a scored episode's first
  success) starts the row's next episode with the policy's row-wise ``start_episode``; the policy's
  memory carries the trial across episodes exactly as in this project's own evaluation (PEARL's
  posterior, SD's belief; HiMeta forgets every episode). ``adapt`` has nothing to do: every method here
  adapts in context, through its memory.
* :class:`StepRecorder` wraps the vector env and keeps each step's reward and true next observation
  (the final one at an episode's end). MetaWorld's scored phase hands the agent observations only,
  while every method here reads the reward of each step (RL2 gets it through MetaWorld's
  ``recurrent_info_in_obs``); the adapter takes it from the recorder.

Facts handled (see docs/protocol.md): one sub-env per class (``meta_batch_size`` = the split's
classes), so no class's count is inflated by a sibling sub-env whose successful episodes end early,
and ML10's test split (50 variants) needs no ``total_tasks_per_cls``; every sub-env is seeded with the
benchmark seed, so every run (method and seed) of a study is scored on the same variants; returns
stop at the first success in the scored episodes (this project's returns sum every step).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from envs.benchmarks import parse_benchmark
from envs.metrics import METAWORLD_COLUMNS
from envs.policy import Acting, RolloutPolicy, Transition, trial_key



@dataclass(frozen=True)
class MetaWorldEvaluationConfig:
    """``metaworld.evaluation.metalearning_evaluation`` arguments (``adaptation_steps`` is 1: no
    method here adapts by gradient steps). Meta-World+'s protocol: 10 adaptation and 3 scored
    episodes."""

    num_evals: int
    adaptation_episodes: int
    evaluation_episodes: int

    def __post_init__(self) -> None:
        if self.num_evals < 1 or self.evaluation_episodes < 1 or self.adaptation_episodes < 0:
            raise ValueError(
                "metaworld_evaluation needs num_evals >= 1, evaluation_episodes >= 1 and "
                f"adaptation_episodes >= 0, got {self.num_evals}, {self.evaluation_episodes}, "
                f"{self.adaptation_episodes}"
            )


class StepRecorder(gym.vector.VectorWrapper):
    """A vector env that remembers its last step: ``reward``, ``done`` and ``next_obs`` (the final
    observation of rows whose episode ended, MetaWorld's autoreset having replaced it), and counts
    steps. Forwards MetaWorld's ``call``/``get_attr``/``set_attr`` to the wrapped env."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        super().__init__(env)
        self.steps = 0
        self.reward = self.done = self.next_obs = None

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self.done = np.logical_or(terminated, truncated)
        next_obs = np.array(obs, dtype=np.float32)
        if "final_obs" in info:
            for row in np.flatnonzero(info["_final_obs"]):
                next_obs[row] = info["final_obs"][row]
        self.reward, self.next_obs, self.steps = np.asarray(reward, np.float32), next_obs, self.steps + 1
        return obs, reward, terminated, truncated, info

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return self.env.call(name, *args, **kwargs)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        return self.env.get_attr(name)

    def set_attr(self, name: str, values: Any) -> None:
        self.env.set_attr(name, values)


class PolicyAgent:
    """MetaWorld's ``Agent`` and ``MetaLearningAgent`` over one of this project's policies.

    Args:
        policy: the policy (its memory is kept here, one row per sub-env).
        envs: the :class:`StepRecorder` around the vector env being evaluated.
        acting: evaluation acting (deterministic or stochastic actions, as this project's evaluation).
    """

    def __init__(self, policy: RolloutPolicy, envs: StepRecorder, acting: Acting) -> None:
        if not acting.evaluation:
            raise ValueError("MetaWorld's evaluation scores a policy: acting must be an evaluation mode")
        self.policy, self.envs, self.acting = policy, envs, acting
        self.num_envs = envs.num_envs
        self.task_names = [str(name) for name in envs.get_attr("task_name")]
        space = envs.single_action_space
        self.action_low, self.action_high = space.low, space.high
        self.trials = 0
        self.memory: Any = None
        self.pending: tuple[np.ndarray, np.ndarray, int] | None = None  # obs, action, recorder step
        self.fresh = np.zeros(self.num_envs, bool)  # rows whose episode started and has not acted yet

    # ------------------------------------------------------------------ MetaLearningAgent
    def init(self) -> None:
        """A new trial in every row (MetaWorld has just moved every sub-env to a new variant)."""
        batch = self.num_envs
        if getattr(self.policy, "trial_keyed", False):
            keys = np.array([trial_key(f"metaworld/{name}", self.trials, row)
                             for row, name in enumerate(self.task_names)], dtype=np.int64)
            memory = self.policy.initial_memory(batch, trial_keys=keys, training_seed=0)  # evaluation: unused
        else:
            memory = self.policy.initial_memory(batch)
        self.memory = self.policy.start_episode(memory, first_in_trial=True)
        self.trials += 1
        self.pending, self.fresh = None, np.ones(batch, bool)

    def adapt_action(self, observations: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return self._act(observations), {}

    def step(self, timestep) -> None:
        """After an adaptation step: fold the transition in, start the next episode where one ended."""
        self._fold()
        self._start_episodes(np.logical_or(timestep.terminated, timestep.truncated))

    def adapt(self) -> None:
        """In-context methods adapt through their memory; there is no separate adaptation step."""
        self._fold()

    # ------------------------------------------------------------------ Agent
    def eval_action(self, observations: np.ndarray) -> np.ndarray:
        return self._act(observations)

    def reset(self, env_mask: np.ndarray) -> None:
        """The rows in ``env_mask`` start their next episode (a new trial if none is running)."""
        if self.memory is None:
            self.init()
            return
        self._fold()
        self._start_episodes(np.asarray(env_mask, bool))

    # ------------------------------------------------------------------ internals
    def _act(self, observations: np.ndarray) -> np.ndarray:
        if self.memory is None:
            self.init()
        self._fold()
        obs = np.asarray(observations, dtype=np.float32)
        action, _, self.memory = self.policy.act(obs, self.memory, self.acting)
        action = np.asarray(action, dtype=np.float32)
        self.pending, self.fresh = (obs, action, self.envs.steps), np.zeros(self.num_envs, bool)
        return np.clip(action, self.action_low, self.action_high)

    def _fold(self) -> None:
        """Give the policy the transition of the last env step, once."""
        if self.pending is None or self.envs.steps != self.pending[2] + 1:
            return
        obs, action, _ = self.pending
        self.memory = self.policy.observe(self.memory, Transition(obs, action, self.envs.reward, self.envs.next_obs))
        self.pending = None

    def _start_episodes(self, rows: np.ndarray) -> None:
        rows = rows & ~self.fresh  # an episode that has just started is not restarted
        if rows.any():
            self.memory = self.policy.start_episode(self.memory, first_in_trial=False, rows=rows)
            self.fresh = self.fresh | rows


def make_metaworld_envs(benchmark: str, benchmark_seed: int, split: str, episode_length: int) -> StepRecorder:
    """MetaWorld's own vector envs of one split, one sub-env per class, seeded with the benchmark
    seed (so the variants are those of ``metaworld.ML10(seed=benchmark_seed)`` etc.)."""
    import metaworld

    parsed = parse_benchmark(benchmark)
    name = parsed.ml1_class or parsed.title  # make_ml_envs builds ML1(<class>) from a class name
    classes = len(parsed.train_tasks if split == "train" else parsed.test_tasks)
    builder = metaworld.make_ml_envs_train if split == "train" else metaworld.make_ml_envs_test
    envs = builder(name, seed=benchmark_seed, meta_batch_size=classes, max_episode_steps=episode_length)
    return StepRecorder(envs)


def score_policy(policy: RolloutPolicy, benchmark: str, benchmark_seed: int, episode_length: int,
                 acting: Acting, config: MetaWorldEvaluationConfig, log=None) -> pd.DataFrame:
    """Both splits of ``benchmark`` through ``metalearning_evaluation``; one row per (split, task)."""
    from metaworld.evaluation import metalearning_evaluation

    parsed = parse_benchmark(benchmark)
    rows = []
    for split in ("train", "test"):
        started = time.perf_counter()
        envs = make_metaworld_envs(benchmark, benchmark_seed, split, episode_length)
        try:
            success, mean_return, per_task = metalearning_evaluation(
                PolicyAgent(policy, envs, acting), envs, num_evals=config.num_evals, adaptation_steps=1,
                adaptation_episodes=config.adaptation_episodes,
                evaluation_episodes=config.evaluation_episodes)
            steps = envs.steps
        finally:
            envs.close()
        if log is not None:
            log.info("MetaWorld evaluation, %s split: success %.3f, return %.1f (%d vector steps, %.1f s)",
                     split, success, mean_return, steps, time.perf_counter() - started)
        rows += [{"split": split, "task": parsed.task_key(split, task), "success": float(value),
                  "split_success": float(success), "split_return": float(mean_return)}
                 for task, value in sorted(per_task.items())]
    return pd.DataFrame(rows, columns=list(METAWORLD_COLUMNS))
