"""PEACH's learner: the context encoder, one soft actor-critic per level, and Algorithm 1's update.

Networks (every level is the shared :class:`SoftActorCritic`):

* level 0: ``pi_0(s, g_0) -> a`` on ``[obs, g_0]``, env actions;
* level ``0 < i < h``: ``pi_i(s, g_i) -> g_{i-1}`` on ``[obs, g_i]``;
* top level ``h``: ``pi_h(s, z) -> g_{h-1}`` on ``[obs, z]``; z from PEARL's encoder
  ``q_phi(z | c)`` (poster: product of Gaussian factors, shared :class:`ContextEncoder`).

One update (poster, Algorithm 1; the shared protocol hands the agent its data only here, so the
per-episode "update lower actor and critic networks" line runs at update time too): store the
iteration's trials per task (prior-z episodes form the task's context set, as in PEARL), then
``gradient_steps`` times:

1. top level, ``meta_batch_size`` tasks with replacement: context ``c^i ~ S_c(B^i)``,
   ``z ~ q_phi(z | c^i)`` (reparameterised), RL batch ``b^i ~ B^i`` of semi-MDP transitions;
   ``L_critic(b^i, z) + beta KL(q(z | c^i) || N(0, I))`` steps the top Q's and the encoder
   (``phi <- phi - alpha_1 grad_phi sum_i (L_critic^i + L_KL^i)``, ``theta_QH <- ... L_critic``);
   V, target V and ``L_actor`` see z detached (``theta_piH <- ... L_actor``), exactly PEARL's cut;
2. each lower level: one goal-conditioned SAC step on hindsight-relabelled transitions
   (:class:`HierarchyReplay`), which touches neither the encoder nor the top networks.

Every proposing level (the top included) learns from HAC's hindsight action transitions and,
for missed subgoal tests, from terminal penalty transitions (:mod:`algorithms.peach.replay`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from algorithms.common.context import (
    ContextEncoder,
    context_dim,
    context_features,
    kl_to_standard_normal,
    sample_gaussian,
)
from algorithms.common.generators import generator_state, restore_generator
from algorithms.common.sac import SoftActorCritic
from algorithms.common.step_statistics import StepStatistics
from algorithms.common.trial_belief import latent_sac_inputs, task_id
from algorithms.peach.config import PEACHConfig
from algorithms.peach.goals import SubgoalSpace, goal_condition, subgoal_penalty
from algorithms.peach.policy import PEACHPolicy
from algorithms.peach.replay import HierarchyReplay
from envs.rollout import Rollout
from envs.suite import EnvSpec


class PEACHAgent:
    """PEACH: PEARL's context variable at the top of a multi-level goal-conditioned hierarchy."""

    def __init__(self, spec: EnvSpec, config: PEACHConfig, seed: int,
                 device: torch.device = torch.device("cpu")) -> None:
        torch.manual_seed(seed)
        self.spec, self.config, self.seed, self.device = spec, config, seed, device
        self.space = SubgoalSpace(spec, config.subgoal_space, config.subgoal_low, config.subgoal_high,
                                  config.subgoal_frame)
        goal_dim = self.space.dim
        inputs = context_dim(spec.obs_dim, spec.action_dim, config.use_next_obs_in_context)
        self.encoder = ContextEncoder(inputs, config.encoder_hidden, config.latent_dim).to(device)
        self.encoder_optimizer = torch.optim.Adam(self.encoder.parameters(), lr=config.context_lr)
        self.levels: list[SoftActorCritic] = [
            SoftActorCritic(spec.obs_dim + goal_dim, spec.action_dim, config.lower_sac, device),
            *(SoftActorCritic(spec.obs_dim + goal_dim, goal_dim, config.lower_sac, device)
              for _ in range(config.levels - 2)),
            SoftActorCritic(spec.obs_dim + config.latent_dim, goal_dim,
                            dataclasses.replace(config.sac, discount=config.top_discount), device),
        ]
        episodes = config.replay_capacity // spec.episode_length
        if episodes < 1:
            raise ValueError(f"replay_capacity {config.replay_capacity} is below one episode "
                             f"({spec.episode_length} steps)")
        self.replay = HierarchyReplay(episodes, spec.episode_length, spec.obs_dim, spec.action_dim,
                                      config, self.space)
        self.task_ids: dict[str, int] = {}
        self.sample_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
        self.act_generator = torch.Generator().manual_seed(seed)
        self.update_generator = torch.Generator(device).manual_seed(seed + 1)
        self.iteration = 0  # the latest update's training iteration (context recency)
        self.policy = PEACHPolicy(self)

    @property
    def top(self) -> SoftActorCritic:
        return self.levels[-1]

    # ------------------------------------------------------------------ update
    def update(self, rollout: Rollout, iteration: int) -> dict[str, float]:
        prior = rollout.extras["prior_z"][:, :, 0]  # [trial, episode]: the episode's z source
        for i, trial in enumerate(rollout.trials):
            self.replay.add_trial(task_id(self.task_ids, trial.class_name, trial.variant), rollout.observations[i],
                                  rollout.actions[i], rollout.rewards[i], rollout.extras["subgoals"][i],
                                  rollout.extras["tested"][i], context=prior[i], iteration=iteration)
        self.iteration = iteration
        statistics = StepStatistics()
        for _ in range(self.config.gradient_steps):
            statistics.add(self.gradient_step())
        return statistics.means() | {"buffer_episodes": float(self.replay.size),
                                     "buffer_tasks": float(len(self.replay.episodes.tasks_with_context())),
                                     "meta_batch_tasks": float(len(self.eligible_tasks()))}

    def gradient_step(self) -> dict[str, torch.Tensor]:
        """One step of every level: the top with the encoder, then each lower level, bottom first;
        the statistics stay on the device (0-d tensors, read once per update)."""
        stats = self.top_step()
        for level in range(self.config.levels - 1):
            stats |= self.level_step(level)
        return stats

    def _tensor(self, values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=torch.float32, device=self.device)

    def eligible_tasks(self) -> np.ndarray:
        """The tasks a meta-batch draws from: context from the last ``context_window`` iterations."""
        return self.replay.episodes.recent_tasks(self.iteration, self.config.context_window)

    def top_batch(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Algorithm 1: RL batches ``b^i`` ``[M, B, ...]`` and contexts ``c^i`` ``[M, N, context_dim]``."""
        config = self.config
        episodes = self.replay.episodes
        tasks = self.sample_rng.choice(self.eligible_tasks(), size=config.meta_batch_size)
        rl = self.replay.top_transitions(tasks, config.batch_size, self.sample_rng)
        ctx = episodes.sample(tasks, config.embedding_batch_size, self.sample_rng, context_only=True)
        next_obs = ctx["next_obs"] if config.use_next_obs_in_context else None
        context = context_features(ctx["obs"], ctx["actions"], ctx["rewards"], next_obs)
        return {key: self._tensor(value) for key, value in rl.items()}, self._tensor(context)

    def top_step(self) -> dict[str, torch.Tensor]:
        """One meta-training gradient step of the encoder and the top level (Algorithm 1, inner loop)."""
        batch, context = self.top_batch()
        mean, variance = self.encoder.posterior(context)
        kl = kl_to_standard_normal(mean, variance).sum()  # summed over tasks: Algorithm 1's sum_i L_KL^i
        z = sample_gaussian(mean, variance, self.update_generator)
        critic_inputs, actor_inputs, next_inputs = latent_sac_inputs(batch, z)
        stats = self.top.update(
            critic_inputs, actor_inputs, next_inputs, batch["actions"].reshape(-1, self.space.dim),
            batch["rewards"].reshape(-1), self.update_generator, terminated=batch["terminated"].reshape(-1),
            extra_critic_loss=self.config.kl_lambda * kl, extra_optimizers=(self.encoder_optimizer,),
        )
        return ({f"top_{key}": value for key, value in stats.items()}
                | {"kl": kl.detach() / len(mean), "posterior_variance": variance.mean().detach()})

    def level_batch(self, level: int) -> dict[str, torch.Tensor]:
        """Hindsight-relabelled goal-conditioned transitions of lower level ``level`` (flat ``[B, ...]``)."""
        batch = self.replay.level_transitions(level, self.config.lower_batch_size, self.sample_rng)
        return {key: torch.as_tensor(value, device=self.device) for key, value in batch.items()}

    def goal_inputs(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        """A goal-conditioned level's input ``[obs, goal input]`` (:func:`goal_condition`)."""
        condition = goal_condition(goals, obs, self.space, self.config.goal_input, self.config.goal_threshold)
        return torch.cat([obs, condition], -1)

    def level_target_bounds(self, level: int) -> tuple[float, float] | None:
        """HAC's bounds of lower level ``level``'s Q targets: ``reward_scale x [worst return of one
        attempt, 0]``, an attempt being the level's ``H`` actions inside one subgoal of the level
        above (:func:`subgoal_penalty`: ``-H`` for sparse rewards); None with
        ``bound_lower_targets: false``."""
        if not self.config.bound_lower_targets:
            return None
        config = self.config
        horizon = config.periods[level + 1] // config.periods[level]
        worst = subgoal_penalty(config.subgoal_reward, horizon, self.space)
        return config.lower_sac.reward_scale * worst, 0.0

    def level_step(self, level: int) -> dict[str, torch.Tensor]:
        """One goal-conditioned SAC step of lower level ``level``: no z, no encoder, no top network."""
        batch = self.level_batch(level)
        inputs = self.goal_inputs(batch["obs"], batch["goals"])
        next_inputs = self.goal_inputs(batch["next_obs"], batch["goals"])
        stats = self.levels[level].update(inputs, inputs, next_inputs, batch["actions"], batch["rewards"],
                                          self.update_generator, terminated=batch["terminated"],
                                          target_bounds=self.level_target_bounds(level))
        return ({f"level{level}_{key}": value for key, value in stats.items()}
                | {f"level{level}_reward": batch["rewards"].mean()})

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        return {
            "levels": [level.state_dict() for level in self.levels], "encoder": self.encoder.state_dict(),
            "encoder_optimizer": self.encoder_optimizer.state_dict(), "replay": self.replay.state_dict(),
            "task_ids": dict(self.task_ids), "sample_rng": self.sample_rng.bit_generator.state,
            "act_generator": generator_state(self.act_generator),
            "update_generator": generator_state(self.update_generator), "iteration": self.iteration,
        }

    def load_state_dict(self, state: dict) -> None:
        for level, level_state in zip(self.levels, state["levels"], strict=True):
            level.load_state_dict(level_state)
        for name in ("encoder", "encoder_optimizer", "replay"):
            getattr(self, name).load_state_dict(state[name])
        self.task_ids = dict(state["task_ids"])
        self.sample_rng.bit_generator.state = state["sample_rng"]
        restore_generator(self.act_generator, state["act_generator"], "act")
        restore_generator(self.update_generator, state["update_generator"], "update")
        self.iteration = state["iteration"]
