"""A 2-D point robot with a hidden goal: the classic meta-RL sanity suite, cheap enough for CPU tests.

The robot starts at the origin and moves by ``0.1 * clip(a, -1, 1)`` per step. Each variant hides a
goal on the unit semicircle (train class: 50 angles in [0, pi]; test class: the 50 angles half-way
between them). Reward ``max(0, 1 - |p - g|)`` lies in [0, 1] like MetaWorld's (non-negative, so
reward shaping and sign-based bonuses apply unchanged); success means ``|p - g| < 0.2``. The
observation is the position and the previous position (MetaWorld-style frame stacking), all of it
ego-state. It goes through the same sampler, metrics and evaluation code as ML10.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.suite import EnvSpec

SUCCESS_RADIUS = 0.2
STEP_SIZE = 0.1


class PointRobotEnv:
    """One point robot; the goal is set by :meth:`PointRobotSuite.set_variant`."""

    def __init__(self, episode_length: int) -> None:
        self.episode_length = episode_length
        self.goal = np.zeros(2)
        self.position = np.zeros(2)
        self.previous = np.zeros(2)
        self.steps = 0

    def _obs(self) -> np.ndarray:
        return np.concatenate([self.position, self.previous])

    def reset(self) -> tuple[np.ndarray, dict]:
        self.position = np.zeros(2)
        self.previous = np.zeros(2)
        self.steps = 0
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self.steps >= self.episode_length:
            raise ValueError("reset the point robot after truncation")
        self.previous = self.position
        self.position = np.clip(self.position + STEP_SIZE * np.clip(action, -1, 1), -2.0, 2.0)
        self.steps += 1
        distance = float(np.linalg.norm(self.position - self.goal))
        reward = max(0.0, 1.0 - distance)
        info = {"success": float(distance < SUCCESS_RADIUS)}
        return self._obs(), reward, False, self.steps == self.episode_length, info


@dataclass
class PointRobotSuite:
    """Train class ``point-goal`` and test class ``point-goal-between`` (goals between the train goals)."""

    episode_length: int = 20
    variants_per_class: int = 50
    name: str = "PointRobot"
    train_classes: tuple[str, ...] = ("point-goal",)
    test_classes: tuple[str, ...] = ("point-goal-between",)
    spec: EnvSpec = field(init=False)

    def __post_init__(self) -> None:
        self.spec = EnvSpec(
            obs_dim=4, action_dim=2, action_low=-1.0, action_high=1.0,
            episode_length=self.episode_length, ego_indices=(0, 1, 2, 3),
        )

    def goal(self, class_name: str, variant: int) -> np.ndarray:
        offset = 0.5 if class_name == "point-goal-between" else 0.0
        angle = np.pi * (variant + offset) / self.variants_per_class
        return np.array([np.cos(angle), np.sin(angle)])

    def make_env(self, class_name: str) -> PointRobotEnv:
        return PointRobotEnv(self.episode_length)

    def set_variant(self, env: PointRobotEnv, class_name: str, variant: int) -> None:
        env.goal = self.goal(class_name, variant)
