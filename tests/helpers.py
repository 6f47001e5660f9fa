"""Test-only suites and policies. Importable by spawned sampler workers (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import numpy as np

from envs.point_robot import PointRobotEnv, PointRobotSuite
from envs.policy import Transition, episode_rows


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

    def start_episode(self, memory, first_in_trial: bool, rows=None) -> None:
        return None

    def act(self, obs: np.ndarray, memory, acting):
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

    def start_episode(self, memory: np.ndarray, first_in_trial: bool, rows=None) -> np.ndarray:
        if self.memory_scope == "episode" or first_in_trial:
            return np.where(episode_rows(len(memory), rows), 0, memory)
        return memory

    def act(self, obs: np.ndarray, memory: np.ndarray, acting):
        return np.zeros((len(obs), self.action_dim)), {"memory": memory.copy()}, memory

    def observe(self, memory: np.ndarray, transition: Transition) -> np.ndarray:
        return memory + 1


@dataclass
class SuiteThatFailsToLoad(PointRobotSuite):
    """Pickles in the main process, raises when a worker unpickles it."""

    def __setstate__(self, state):
        raise RuntimeError("this suite cannot be loaded in a worker")


class GaussianPolicy:
    """A memoryless Gaussian MLP policy that records its log-probs (for the trainer's test agent)."""

    memory_scope = "episode"

    def __init__(self, spec, seed: int) -> None:
        import torch
        from torch import nn

        from algorithms.common.networks import mlp

        torch.manual_seed(seed)
        self.spec = spec
        self.net = mlp(spec.obs_dim, (32, 32), spec.action_dim, output_init="small")
        self.log_std = nn.Parameter(torch.full((spec.action_dim,), -0.5))
        self.generator = torch.Generator().manual_seed(seed)

    def distribution(self, obs):
        import torch

        return torch.distributions.Normal(self.net(obs), self.log_std.exp())

    def initial_memory(self, batch_size: int) -> None:
        return None

    def start_episode(self, memory, first_in_trial: bool, rows=None) -> None:
        return None

    def act(self, obs, memory, acting):
        import torch

        with torch.no_grad():
            dist = self.distribution(torch.as_tensor(obs))
            if acting.deterministic:
                action = dist.mean
            else:
                action = dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=self.generator)
            return action.numpy(), {"log_prob": dist.log_prob(action).sum(-1).numpy()}, None

    def observe(self, memory, transition: Transition) -> None:
        return None


class ClippedReinforceAgent:
    """PPO's clipped surrogate on Monte-Carlo returns (no critic): a small real learner for tests."""

    def __init__(self, spec, seed: int) -> None:
        import torch

        from algorithms.common.ppo import PPOConfig

        self.policy = GaussianPolicy(spec, seed)
        self.parameters = [*self.policy.net.parameters(), self.policy.log_std]
        self.optimizer = torch.optim.Adam(self.parameters, lr=3e-3)
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.config = PPOConfig(epochs=4, minibatches=2, clip=0.2, entropy_coef=0.0)

    def update(self, rollout, iteration: int) -> dict[str, float]:
        import torch

        from algorithms.common.ppo import generalized_advantages, ppo_update

        rewards = torch.as_tensor(rollout.rewards, dtype=torch.float32)
        advantages, _ = generalized_advantages(
            rewards, torch.zeros_like(rewards), torch.zeros(rewards.shape[:-1]), gamma=0.99, lam=1.0
        )
        batch = {
            "obs": torch.as_tensor(rollout.observations[:, :, :-1]).reshape(-1, self.policy.spec.obs_dim),
            "actions": torch.as_tensor(rollout.actions).reshape(-1, self.policy.spec.action_dim),
            "old_log_prob": torch.as_tensor(rollout.extras["log_prob"]).reshape(-1),
            "advantages": advantages.reshape(-1),
        }

        def evaluate(minibatch):
            dist = self.policy.distribution(minibatch["obs"])
            return dist.log_prob(minibatch["actions"]).sum(-1), dist.entropy().sum(-1), None

        return ppo_update(evaluate, self.parameters, self.optimizer, batch, self.config, self.generator)

    def state_dict(self) -> dict:
        return {
            "net": self.policy.net.state_dict(),
            "log_std": self.policy.log_std.detach().clone(),
            "optimizer": self.optimizer.state_dict(),
            "policy_generator": self.policy.generator.get_state(),
            "update_generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        import torch

        self.policy.net.load_state_dict(state["net"])
        with torch.no_grad():
            self.policy.log_std.copy_(state["log_std"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.policy.generator.set_state(state["policy_generator"])
        self.generator.set_state(state["update_generator"])


def run_training(tmp_path, name, suite, make_agent, iterations, episodes_per_task, eval_variants,
                 checkpoint_interval=2, eval_interval=3, seed=0):
    """Train ``make_agent()`` through the shared trainer; returns the run's output paths."""
    import logging

    from algorithms.manifest import build_manifest
    from algorithms.trainer import RunPaths, TrainingConfig, train
    from envs.evaluation import EvaluationConfig
    from envs.sampler import ParallelSampler
    from envs.schedule import TaskSchedule

    paths = RunPaths(run_dir=tmp_path / name, checkpoint=tmp_path / "checkpoints" / name / "ckpt.pt")
    config = TrainingConfig(
        iterations=iterations, eval_interval=eval_interval,
        checkpoint_interval=checkpoint_interval,
        evaluation=EvaluationConfig(variants_per_class=eval_variants, episodes_per_variant=1),
    )
    manifest = build_manifest({"iterations": iterations, "seed": seed}, "cpu")
    with ParallelSampler(suite, num_workers=2) as sampler:
        train(make_agent(), sampler, TaskSchedule(suite, seed, episodes_per_task), config, paths,
              manifest, logging.getLogger(name))
    return paths


def assert_same_run(expected_paths, actual_paths):
    """Equal evaluation, per-episode and training tables, ignoring the machine's timing columns."""
    import pandas as pd

    from algorithms.trainer import TIMING_COLUMNS

    for name in ("evaluation", "train_log", "evaluation_episodes"):
        expected = pd.read_csv(getattr(expected_paths, name)).drop(columns=list(TIMING_COLUMNS), errors="ignore")
        actual = pd.read_csv(getattr(actual_paths, name)).drop(columns=list(TIMING_COLUMNS), errors="ignore")
        pd.testing.assert_frame_equal(actual, expected)


class CrashingAgent:
    """Wraps an agent and raises (a simulated kill) at the start of one iteration's update."""

    def __init__(self, agent, crash_at_iteration: int | None) -> None:
        self.agent, self.crash_at_iteration = agent, crash_at_iteration
        self.policy = agent.policy

    def update(self, rollout, iteration: int):
        if iteration == self.crash_at_iteration:
            raise KeyboardInterrupt("simulated kill")
        return self.agent.update(rollout, iteration)

    def state_dict(self):
        return self.agent.state_dict()

    def load_state_dict(self, state):
        self.agent.load_state_dict(state)


def assert_short_ml10_run_resumes(tmp_path, make_agent, loss_terms):
    """The short real-ML10 scenario every method passes: 30-step episodes, 3 iterations of 2 episodes
    per task, evaluation at 0 and 3 on one variant per class. A run crashed during iteration 3 and
    restarted must equal the uninterrupted one; every loss term in ``loss_terms`` must be logged (no NaN)
    and all 15 classes evaluated. ``make_agent(spec)`` builds a fresh agent. Returns the uninterrupted
    run's training log and evaluation table for method-specific checks."""
    import pandas as pd
    import pytest

    from envs.ml10 import ML10Suite

    suite = ML10Suite(benchmark_seed=0, episode_length=30)

    def run(name, crash_at=None):
        return run_training(
            tmp_path, name, suite, lambda: CrashingAgent(make_agent(suite.spec), crash_at),
            iterations=3, episodes_per_task=2, eval_variants=1, eval_interval=3, checkpoint_interval=1,
        )

    reference = run("reference")
    with pytest.raises(KeyboardInterrupt):
        run("resumed", crash_at=2)
    assert_same_run(reference, run("resumed"))
    log = pd.read_csv(reference.train_log)
    assert set(loss_terms) <= set(log.columns) and log[sorted(loss_terms)].notna().all().all()
    evaluation = pd.read_csv(reference.evaluation)
    assert len(evaluation) == 2 * 15 and sorted(evaluation["iteration"].unique()) == [0, 3]
    assert set(evaluation["task"]) == set(suite.train_classes + suite.test_classes)
    return log, evaluation


class RowExpertsPolicy:
    """MetaWorld's scripted expert of each row's class (``classes[row]``), behind the policy
    interface; for oracle checks of MetaWorld's vector envs, whose rows are classes."""

    memory_scope = "episode"

    def __init__(self, classes: list[str]) -> None:
        from metaworld.policies import ENV_POLICY_MAP

        self.experts = [ENV_POLICY_MAP[name]() for name in classes]

    def initial_memory(self, batch_size: int) -> None:
        return None

    def start_episode(self, memory, first_in_trial: bool, rows=None) -> None:
        return None

    def act(self, obs: np.ndarray, memory, acting):
        return np.stack([expert.get_action(o) for expert, o in zip(self.experts, obs)]), {}, None

    def observe(self, memory, transition: Transition) -> None:
        return None


def step_floats(stats) -> dict[str, float]:
    """A gradient step's statistics (0-d tensors kept on the learner's device) as plain floats."""
    return {name: float(value) for name, value in stats.items()}
