"""The HiMeta agent: acting through the shared sampler and Algorithm 1's update.

Acting at step ``t`` (memory reset every episode, as the paper's per-episode GRU):
``y_t ~ Cat(phi_y(h_{t-1}))``, ``z_t ~ tanh(N(psi(y_t, s_t)))``, ``a_t ~ pi(y_t, z_t, s_t)``; after
the step the GRU consumes ``MDP_t = (s_t, a_t, c r_ext_t, s_{t+1})``. ``y_t``, ``z_t`` and
``log pi(a_t)`` are recorded with the step, so PPO's ratio is taken against exactly what acted.
Evaluation acting sets ``y`` by ``eval_y`` (default: a Gumbel-softmax sample, the input distribution
the LL was trained on) and, with deterministic actions, takes ``z = tanh(mean)`` and ``a = mean``
(stochastic evaluation samples both); every evaluation draw comes from the slot's trial stream
(:mod:`algorithms.common.keyed_noise`), so a trial's evaluation is a function of the weights alone,
wherever and whenever it is played.

Update (Algorithm 1): push the iteration's episodes into a FIFO buffer of recent trajectories; run
``him_updates`` steps of the HL objective (eq. 9, HL + critic) and of the IL objective (eq. 11,
IL), each on ``trajectories_per_update`` buffer episodes, with separate Adam optimisers; then PPO
epochs on the fresh episodes for the LL (eq. 13 without a value term), with advantages from the
critic. Rewards: ``r_ext = g(r; a)`` (eq. 21), ``r = c (r_ext + r_in)`` (eq. 15-16) with the reward
scale ``c`` (``reward_scale``), which the HL input (``c r_ext``), the critic and PPO all see.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from algorithms.common.generators import generator_state, restore_generator
from algorithms.common.gumbel import gumbel_softmax
from algorithms.common.acting_replica import acting_replica
from algorithms.common.keyed_noise import RecurrentMemory, action_noise, draw_training_seed, keyed_uniform
from algorithms.common.normalization import RunningNormalizer
from algorithms.common.ppo import PPOConfig, generalized_advantages, ppo_update
from algorithms.himeta.equations import (
    goal_indices_constant_discretization,
    goal_indices_constant_margin,
    goal_indices_subtask,
    intrinsic_reward,
    shaped_reward,
)
from algorithms.himeta.losses import LossWeights, high_level_loss, intermediate_level_loss
from algorithms.himeta.networks import (
    Critic,
    HiMetaNetworkConfig,
    HighLevel,
    IntermediateLevel,
    LowLevel,
    tanh_sample,
)
from envs.policy import Acting, Transition
from envs.rollout import Rollout
from envs.suite import EnvSpec

GoalType = Literal["cd", "cm", "st"]
SubtaskLabels = Literal["logits", "sample"]
EvalY = Literal["sample", "onehot", "softmax"]
TimeLimit = Literal["terminal", "bootstrap"]


@dataclass(frozen=True)
class HiMetaConfig:
    """Every HiMeta hyper-parameter; config/methods/himeta-*.yaml gives the values and sources."""

    goal_type: GoalType
    goal_horizon: int
    networks: HiMetaNetworkConfig
    loss_weights: LossWeights
    ppo: PPOConfig
    gamma: float
    gae_lambda: float
    lr_high: float
    lr_critic: float
    lr_intermediate: float
    lr_low: float
    buffer_trajectories: int
    him_updates: int
    trajectories_per_update: int
    reward_shaping_a: float | None
    intrinsic_reward: bool
    reward_scale: float
    st_labels: SubtaskLabels
    eval_y: EvalY
    time_limit: TimeLimit
    normalize_obs: bool = True


class _TrajectoryBuffer:
    """FIFO ring of the most recent episodes (Algorithm 1's ``B``), stored raw."""

    def __init__(self, capacity: int, steps: int, obs_dim: int, action_dim: int) -> None:
        self.obs = np.zeros((capacity, steps + 1, obs_dim), np.float32)
        self.actions = np.zeros((capacity, steps, action_dim), np.float32)
        self.rewards = np.zeros((capacity, steps), np.float32)  # c r_ext (shaped, scaled): the HL's input
        self.returns = np.zeros((capacity, steps), np.float32)  # Monte-Carlo returns of r to T (eq. 6)
        self.size = 0
        self.cursor = 0

    def push(self, obs, actions, rewards, returns) -> None:
        for i in range(len(obs)):
            self.obs[self.cursor], self.actions[self.cursor] = obs[i], actions[i]
            self.rewards[self.cursor], self.returns[self.cursor] = rewards[i], returns[i]
            self.cursor = (self.cursor + 1) % len(self.obs)
            self.size = min(self.size + 1, len(self.obs))

    def state_dict(self) -> dict:
        return {name: getattr(self, name) for name in ("obs", "actions", "rewards", "returns", "size", "cursor")}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value.copy() if isinstance(value, np.ndarray) else value)


class HiMetaPolicy:
    """The acting side: batched over env slots, memory = the HL's GRU state, reset every episode."""

    memory_scope = "episode"
    trial_keyed = True  # evaluation y drawn from per-trial streams

    def __init__(self, agent: HiMetaAgent) -> None:
        self.agent = agent

    def training_seed(self) -> int:
        """The seed of one group's training stream (:func:`~algorithms.common.keyed_noise.draw_training_seed`)."""
        return draw_training_seed(self.agent.act_generator)

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None = None,
                       training_seed: int | None = None) -> RecurrentMemory:
        """Zero GRU states, each slot's evaluation stream and the group's training stream."""
        agent = self.agent
        seed = self.training_seed() if training_seed is None else training_seed
        return RecurrentMemory.zeros(batch_size, agent.config.networks.recurrent_size, agent.device,
                                     agent.seed, trial_keys, seed)

    def for_workers(self) -> HiMetaPolicy:
        """A CPU copy holding only what acting reads (the three levels, the normaliser, settings)."""
        return HiMetaPolicy(acting_replica(self.agent, ("spec", "config", "seed", "high", "intermediate", "low",
                                                        "normalizer")))

    def start_episode(self, memory: RecurrentMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> RecurrentMemory:
        return memory.zero_rows(rows)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, memory: RecurrentMemory, acting: Acting):
        """One step down the hierarchy: ``y`` from the HL (in evaluation as ``eval_y`` says), ``z``
        from the intermediate level, the action from the LL; ``z`` and the action are the means when
        acting deterministically, else samples (from the slots' trial streams in evaluation)."""
        agent = self.agent
        state = agent.normalize(obs)
        logits = agent.high.head(memory.hidden)
        y = (agent.evaluation_y(logits, memory.eval_streams) if acting.evaluation
             else agent.high.sample(logits, memory.train_stream))
        intermediate = agent.intermediate.distribution(state, y)
        z, _ = tanh_sample(intermediate, agent.noise(acting, intermediate.mean.shape, memory))
        policy = agent.low(state, y, z)
        noise = agent.noise(acting, policy.mean.shape, memory)
        action = policy.mean if noise is None else policy.mean + policy.stddev * noise
        log_prob = policy.log_prob(action).sum(-1)
        extras = {"y": y.cpu().numpy(), "z": z.cpu().numpy(), "log_prob": log_prob.cpu().numpy()}
        return action.cpu().numpy(), extras, memory

    @torch.inference_mode()
    def observe(self, memory: RecurrentMemory, transition: Transition) -> RecurrentMemory:
        agent = self.agent
        reward = agent.tensor(agent.config.reward_scale * agent.extrinsic_reward(transition.reward))
        hidden = agent.high.step(memory.hidden, agent.normalize(transition.obs),
                                 agent.tensor(transition.action), reward,
                                 agent.normalize(transition.next_obs))
        return dataclasses.replace(memory, hidden=hidden)


class HiMetaAgent:
    """HiMeta with goal states ``config.goal_type`` (CD, CM or ST)."""

    def __init__(self, spec: EnvSpec, config: HiMetaConfig, seed: int,
                 device: torch.device | str = "cpu") -> None:
        torch.manual_seed(seed)
        self.spec, self.config, self.seed, self.device = spec, config, seed, torch.device(device)
        nets = config.networks
        self.ego = list(spec.ego_indices)
        self.high = HighLevel(spec.obs_dim, spec.action_dim, nets)
        self.critic = Critic(spec.obs_dim, nets)
        self.intermediate = IntermediateLevel(spec.obs_dim, spec.action_dim, len(self.ego), nets)
        self.low = LowLevel(spec.obs_dim, spec.action_dim, nets)
        for module in (self.high, self.critic, self.intermediate, self.low):
            module.to(self.device)
        self.high_optimizer = torch.optim.Adam([
            {"params": self.high.parameters(), "lr": config.lr_high},
            {"params": self.critic.parameters(), "lr": config.lr_critic},
        ])
        self.intermediate_optimizer = torch.optim.Adam(self.intermediate.parameters(), lr=config.lr_intermediate)
        self.low_optimizer = torch.optim.Adam(self.low.parameters(), lr=config.lr_low)
        self.normalizer = RunningNormalizer(spec.obs_dim, device=self.device)
        self.buffer = _TrajectoryBuffer(config.buffer_trajectories, spec.episode_length,
                                        spec.obs_dim, spec.action_dim)
        self.act_generator = torch.Generator(self.device).manual_seed(seed)
        self.update_generator = torch.Generator(self.device).manual_seed(seed + 1)
        self._set_training(False)
        self.policy = HiMetaPolicy(self)

    # ------------------------------------------------------------------ reward and input processing
    def tensor(self, values) -> torch.Tensor:
        """``values`` as a float32 tensor on the learner's device."""
        return torch.as_tensor(values, dtype=torch.float32, device=self.device)

    def normalize(self, obs) -> torch.Tensor:
        if self.config.normalize_obs:
            return self.normalizer(obs)
        return self.tensor(obs)

    def extrinsic_reward(self, reward: np.ndarray) -> np.ndarray:
        """``g(r; a)`` of eq. (21), or the raw reward when shaping is off."""
        a = self.config.reward_shaping_a
        return reward if a is None else shaped_reward(reward, a)

    def noise(self, acting: Acting, shape: torch.Size, memory: RecurrentMemory) -> torch.Tensor | None:
        """Acting noise of one batched draw (:func:`~algorithms.common.keyed_noise.action_noise`)."""
        return action_noise(acting, tuple(shape), memory.train_stream, memory.eval_streams, self.device)

    def evaluation_y(self, logits: torch.Tensor, streams: list[torch.Generator]) -> torch.Tensor:
        """The ``y`` of evaluation acting, as ``eval_y`` says: a Gumbel-softmax sample from the
        slots' trial streams (never the training stream), the one-hot argmax, or ``softmax(logits)``."""
        if self.config.eval_y == "sample":
            return gumbel_softmax(logits, 1.0, uniform=keyed_uniform(streams, logits.shape[-1], logits.device))
        if self.config.eval_y == "onehot":
            return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
        return torch.softmax(logits, -1)

    def subtask_labels(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> np.ndarray:
        """The inferred sub-task of each step ``[B, T]`` for ST goals: the argmax of the HL's logits
        with dropout off (``st_labels: logits``), or of the sampled ``y`` (``sample``, the reference's:
        with the head's dropout on it flips on most steps at initialisation)."""
        if self.config.st_labels == "sample":
            return y.argmax(-1).cpu().numpy()
        return self.acting_logits(batch).argmax(-1).cpu().numpy()

    def acting_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The HL's logits ``[B, T, K]`` on buffer episodes as acting computes them: dropout off, no
        gradient (the module's train/eval mode is restored)."""
        training = self.high.training
        self.high.eval()
        with torch.no_grad():
            logits, _ = self.high(batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
        self.high.train(training)
        return logits

    def goal_indices(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> np.ndarray:
        """Each step's goal state ``[B, T]`` as an index into ``s_0..s_T`` (CD, CM or ST)."""
        steps, horizon = self.spec.episode_length, self.config.goal_horizon
        if self.config.goal_type == "cd":
            return np.tile(goal_indices_constant_discretization(steps, horizon), (y.shape[0], 1))
        if self.config.goal_type == "cm":
            return np.tile(goal_indices_constant_margin(steps, horizon), (y.shape[0], 1))
        return np.stack([goal_indices_subtask(row) for row in self.subtask_labels(batch, y)])

    def time_limit_values(self, last_obs: torch.Tensor, last_y: torch.Tensor) -> torch.Tensor:
        """The value after the last step ``[B]``: ``0`` when the time limit is terminal (the paper's
        Monte-Carlo target, eq. 6, and the reference's GAE), else ``V(s_T, y_{T-1})``. The critic's
        targets and PPO's advantages both use it, so they agree about the time limit."""
        if self.config.time_limit == "terminal":
            return last_obs.new_zeros(last_obs.shape[0])
        with torch.no_grad():
            return self.critic(last_obs, last_y)

    def _set_training(self, training: bool) -> None:
        for module in (self.high, self.critic, self.intermediate, self.low):
            module.train(training)

    # ------------------------------------------------------------------ Algorithm 1
    def update(self, rollout: Rollout, iteration: int) -> dict[str, float]:
        steps = self.spec.episode_length
        episodes = rollout.rewards.shape[0] * rollout.rewards.shape[1]
        obs = rollout.observations.reshape(episodes, steps + 1, -1)
        actions = rollout.actions.reshape(episodes, steps, -1)
        y_stored = self.tensor(rollout.extras["y"].reshape(episodes, steps, -1))
        z_stored = rollout.extras["z"].reshape(episodes, steps, -1)
        r_ext = self.extrinsic_reward(rollout.rewards.reshape(episodes, steps))
        r_in = intrinsic_reward(r_ext, z_stored, actions) if self.config.intrinsic_reward else 0.0 * r_ext
        scale = self.config.reward_scale
        total = self.tensor(scale * (r_ext + r_in))
        returns, _ = generalized_advantages(total, torch.zeros_like(total), total.new_zeros(episodes),
                                            self.config.gamma, 1.0)
        self.buffer.push(obs, actions, scale * r_ext, returns.cpu().numpy())

        self._set_training(True)
        stats: dict[str, float] = {}
        for _ in range(self.config.him_updates):
            stats = self._hierarchy_step()
        old_log_prob = self.tensor(rollout.extras["log_prob"].reshape(-1))
        stats |= self._policy_step(obs, actions, y_stored, self.tensor(z_stored), total, old_log_prob)
        self._set_training(False)
        if self.config.normalize_obs:
            self.normalizer.update(obs)
        stats |= {"reward_extrinsic": float(r_ext.mean()), "reward_intrinsic": float(np.mean(r_in))}
        return stats

    def _hierarchy_step(self) -> dict[str, float]:
        count = min(self.config.trajectories_per_update, self.buffer.size)
        picked = torch.randperm(self.buffer.size, generator=self.update_generator,
                                device=self.device)[:count].cpu().numpy()
        obs = self.normalize(self.buffer.obs[picked])
        batch = {
            "obs": obs[:, :-1], "next_obs": obs[:, 1:],
            "actions": self.tensor(self.buffer.actions[picked]),
            "rewards": self.tensor(self.buffer.rewards[picked]),
        }
        hl_loss, hl_stats, y = high_level_loss(
            self.high, self.critic, batch, self.value_targets(picked, obs[:, -1], batch),
            self.config.loss_weights, self.update_generator,
        )
        # goals from the HL that produced y, before its step
        goals = torch.as_tensor(self.goal_indices(batch, y.detach()), device=self.device)
        self.high_optimizer.zero_grad()
        hl_loss.backward()
        self.high_optimizer.step()

        ego = obs[..., self.ego]
        goal_ego = torch.gather(ego, 1, goals.unsqueeze(-1).expand(-1, -1, len(self.ego)))
        il_loss, il_stats = intermediate_level_loss(
            self.intermediate, self.low, batch["obs"], y, ego[:, :-1], goal_ego, self.update_generator
        )
        self.intermediate_optimizer.zero_grad()
        il_loss.backward()
        self.intermediate_optimizer.step()
        return hl_stats | il_stats

    def value_targets(self, picked: np.ndarray, last_obs: torch.Tensor,
                      batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Eq. (6)'s targets for buffer episodes ``picked``: the stored returns to ``T`` plus
        ``gamma^(T - t)`` times :meth:`time_limit_values` (zero by default). ``y_{T-1}`` for the
        bootstrap is drawn as acting draws it (Gumbel sample of the dropout-free logits), the kind
        of ``y`` PPO's bootstrap gets from the stored rollout."""
        returns = self.tensor(self.buffer.returns[picked])
        if self.config.time_limit == "terminal":
            return returns
        last_y = self.high.sample(self.acting_logits(batch)[:, -1], self.update_generator)
        last = self.time_limit_values(last_obs, last_y)
        steps = returns.shape[-1]
        powers = self.config.gamma ** torch.arange(steps, 0, -1, dtype=returns.dtype, device=self.device)
        return returns + powers * last.unsqueeze(-1)

    def _policy_step(self, obs, actions, y, z, rewards, old_log_prob) -> dict[str, float]:
        states = self.normalize(obs)
        with torch.no_grad():
            values = self.critic(states[:, :-1], y)
        bootstrap = self.time_limit_values(states[:, -1], y[:, -1])
        advantages, _ = generalized_advantages(rewards, values, bootstrap, self.config.gamma,
                                               self.config.gae_lambda)
        action_dim = self.spec.action_dim
        batch = {
            "obs": states[:, :-1].reshape(-1, self.spec.obs_dim),
            "y": y.reshape(-1, y.shape[-1]),
            "z": z.reshape(-1, action_dim),
            "actions": self.tensor(actions).reshape(-1, action_dim),
            "old_log_prob": old_log_prob,
            "advantages": advantages.reshape(-1),
        }

        def evaluate(minibatch):
            policy = self.low(minibatch["obs"], minibatch["y"], minibatch["z"])
            return policy.log_prob(minibatch["actions"]).sum(-1), policy.entropy().sum(-1), None

        return ppo_update(evaluate, self.low.parameters(), self.low_optimizer, batch, self.config.ppo,
                          self.update_generator)

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        return {
            "high": self.high.state_dict(), "critic": self.critic.state_dict(),
            "intermediate": self.intermediate.state_dict(), "low": self.low.state_dict(),
            "high_optimizer": self.high_optimizer.state_dict(),
            "intermediate_optimizer": self.intermediate_optimizer.state_dict(),
            "low_optimizer": self.low_optimizer.state_dict(),
            "normalizer": self.normalizer.state_dict(), "buffer": self.buffer.state_dict(),
            "act_generator": generator_state(self.act_generator),
            "update_generator": generator_state(self.update_generator),
        }

    def load_state_dict(self, state: dict) -> None:
        for name in ("high", "critic", "intermediate", "low", "high_optimizer",
                     "intermediate_optimizer", "low_optimizer", "normalizer", "buffer"):
            getattr(self, name).load_state_dict(state[name])
        restore_generator(self.act_generator, state["act_generator"], "act")
        restore_generator(self.update_generator, state["update_generator"], "update")
