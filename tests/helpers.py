"""Test-only suites and policies. Importable by spawned sampler workers (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import numpy as np

from envs.point_robot import PointRobotEnv, PointRobotSuite
from envs.policy import Transition


class _FaultyEnv(PointRobotEnv):
    def __init__(self, episode_length: int, fault: str, at_step: int) -> None:
        super().__init__(episode_length)
        self.fault, self.at_step = fault, at_step

    def step(self, action):
        if self.steps == self.at_step:
            if self.fault == "raise":
                raise RuntimeError("injected failure in env.step")
            if self.fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fault == "hang":
                time.sleep(3600)
            if self.fault == "terminate":
                obs, reward, _, truncated, info = super().step(action)
                return obs, reward, True, truncated, info
        return super().step(action)


@dataclass
class FaultySuite(PointRobotSuite):
    """A point-robot suite whose envs fail at ``at_step`` in the way ``fault`` names."""

    fault: str = "raise"
    at_step: int = 3

    def make_env(self, class_name: str) -> _FaultyEnv:
        return _FaultyEnv(self.episode_length, self.fault, self.at_step)


class ScriptedExpertPolicy:
    """MetaWorld's scripted expert for one class, behind the sampler's policy interface."""

    memory_scope = "episode"

    def __init__(self, class_name: str) -> None:
        from metaworld.policies import ENV_POLICY_MAP

        self.expert = ENV_POLICY_MAP[class_name]()

    def initial_memory(self, batch_size: int) -> None:
        return None

    def start_episode(self, memory, first_in_trial: bool) -> None:
        return None

    def act(self, obs: np.ndarray, memory, deterministic: bool):
        actions = np.stack([self.expert.get_action(o) for o in obs])
        return actions, {}, None

    def observe(self, memory, transition: Transition) -> None:
        return None


class StepCounterPolicy:
    """Memory = steps seen since the last memory reset; recorded as an extra. Acts with zeros."""

    def __init__(self, memory_scope: str, action_dim: int) -> None:
        self.memory_scope = memory_scope
        self.action_dim = action_dim

    def initial_memory(self, batch_size: int) -> np.ndarray:
        return np.zeros(batch_size, dtype=np.int64)

    def start_episode(self, memory: np.ndarray, first_in_trial: bool) -> np.ndarray:
        if self.memory_scope == "episode" or first_in_trial:
            return np.zeros_like(memory)
        return memory

    def act(self, obs: np.ndarray, memory: np.ndarray, deterministic: bool):
        return np.zeros((len(obs), self.action_dim)), {"memory": memory.copy()}, memory

    def observe(self, memory: np.ndarray, transition: Transition) -> np.ndarray:
        return memory + 1


@dataclass
class SuiteThatFailsToLoad(PointRobotSuite):
    """Pickles in the main process, raises when a worker unpickles it."""

    def __setstate__(self, state):
        raise RuntimeError("this suite cannot be loaded in a worker")
