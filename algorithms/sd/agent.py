"""The SD agent: acting with a belief carried through the trial, PPO for the policy, ELBO for the VAE.

Acting at step ``t`` of a trial (memory = the encoder's GRU state, reset only at a new trial):
the belief read from ``h_{t-1}`` (``h = 0`` at the trial's start: the prior) gives
``latent = [mu, log sigma^2]`` (``mu`` depends on a Gumbel-softmax sample ``y``) and
``prob = q(y | h)``; ``a_t ~ pi(. | s_t, latent, prob)``. After the step the GRU consumes
``(a_t, s_{t+1}, r_t)`` with the raw reward. ``latent`` and ``prob`` are recorded with the step, so
PPO trains on exactly what acted.

Update (reference ``MetaLearnerML10SDVT.train`` and ``PPO.update``):

1. push the iteration's trials into the trajectory buffer (raw rewards);
2. update the running statistics of the policy inputs (state, latent, prob) on the rollout, then
   recompute the "old" log-probs and values with them (the reference's order);
3. scale rewards for PPO by the running std of discounted returns (:mod:`reward_scaling`);
4. GAE (``advantage_horizon``): ``episode`` bootstraps every episode's time limit with the value of
   its final state under the belief after its final transition; ``trial`` chains the episodes of a
   trial into one GAE and bootstraps only the trial's end;
5. PPO epochs on the policy network (the latents are data: no RL gradient reaches the encoder);
6. ``vae_updates`` ELBO steps on buffer trials, gradients clipped per module, one Adam.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from algorithms.common.generators import generator_state, restore_generator
from algorithms.common.acting_replica import acting_replica
from algorithms.common.keyed_noise import RecurrentMemory, action_noise, draw_training_seed, keyed_uniform
from algorithms.common.normalization import RunningNormalizer
from algorithms.common.ppo import PPOConfig, generalized_advantages, ppo_update
from algorithms.sd.buffer import TrialBuffer
from algorithms.sd.losses import ELBOSampling, ELBOWeights, elbo_loss
from algorithms.sd.networks import (
    ConditionalPrior,
    PolicyNetwork,
    RewardDecoder,
    SDNetworkConfig,
    StateDecoder,
    SubtaskEncoder,
)
from algorithms.sd.reward_scaling import ReturnScaler
from envs.policy import Acting, Transition
from envs.rollout import Rollout
from envs.suite import EnvSpec

AdvantageHorizon = Literal["episode", "trial"]
EvalY = Literal["sample", "prob"]
INPUT_CLIP = math.inf
"""The reference does not clip the normalised policy inputs."""


@dataclass(frozen=True)
class SDConfig:
    """Every SD hyper-parameter; config/methods/sd.yaml gives the values and their sources."""

    networks: SDNetworkConfig
    elbo_weights: ELBOWeights
    elbo_sampling: ELBOSampling
    ppo: PPOConfig
    gamma: float
    gae_lambda: float
    advantage_horizon: AdvantageHorizon
    lr_policy: float
    lr_vae: float
    lr_decoders: float | None
    vae_max_grad_norm: float
    buffer_episodes: int
    vae_batch_trials: int
    vae_updates: int
    normalize_policy_inputs: bool
    normalize_rewards: bool
    reward_clip: float
    eval_y: EvalY


class SDPolicy:
    """The acting side, batched over env slots; the GRU state is carried across a trial's episodes."""

    memory_scope = "trial"
    trial_keyed = True  # evaluation y drawn from per-trial streams

    def __init__(self, agent: SDAgent) -> None:
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

    def for_workers(self) -> SDPolicy:
        """A CPU copy holding only what acting reads (encoder, policy network, normalisers, settings)."""
        return SDPolicy(acting_replica(self.agent, ("spec", "config", "seed", "encoder", "policy_network",
                                                    "normalizers")))

    def start_episode(self, memory: RecurrentMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> RecurrentMemory:
        return memory.zero_rows(rows) if first_in_trial else memory

    @torch.inference_mode()
    def act(self, obs: np.ndarray, memory: RecurrentMemory, acting: Acting):
        """Evaluation acting sets ``y`` by ``eval_y``: a Gumbel-softmax sample from the slot's trial
        stream (the input distribution the policy and the latent normaliser were trained on; the
        training stream is never touched, and a trial's draws do not depend on where or when it is
        played), or ``q(y | h)`` itself (``prob``, a point never seen in training); the latent is the
        belief's mean. Deterministic actions are the policy's mean; stochastic evaluation samples
        them from the trial stream, training from the group's training stream (in the memory)."""
        agent = self.agent
        if acting.evaluation and agent.config.eval_y == "sample":
            uniform = keyed_uniform(memory.eval_streams, agent.config.networks.subtasks, agent.device)
            belief = agent.encoder.belief(memory.hidden, None, uniform)
        else:
            belief = agent.encoder.belief(memory.hidden, None if acting.evaluation else memory.train_stream)
        latent, prob = belief.policy_latent, belief.prob
        distribution = agent.policy_network.act(*agent.policy_inputs(obs, latent, prob))
        action = distribution.mean
        noise = action_noise(acting, tuple(action.shape), memory.train_stream, memory.eval_streams, agent.device)
        if noise is not None:
            action = action + distribution.stddev * noise
        extras = {"latent": latent.cpu().numpy(), "prob": prob.cpu().numpy()}
        return action.cpu().numpy(), extras, memory

    @torch.inference_mode()
    def observe(self, memory: RecurrentMemory, transition: Transition) -> RecurrentMemory:
        """``h_t = GRU((a_t, s_{t+1}, r_t), h_{t-1})`` with the unclipped action and the raw reward."""
        device = self.agent.device
        return dataclasses.replace(memory, hidden=self.agent.encoder.step(
            memory.hidden,
            torch.as_tensor(transition.action, dtype=torch.float32, device=device),
            torch.as_tensor(transition.next_obs, dtype=torch.float32, device=device),
            torch.as_tensor(transition.reward, dtype=torch.float32, device=device),
        ))


class SDAgent:
    """SD (SDVT without virtual training) on the shared sampler, PPO and trainer."""

    def __init__(self, spec: EnvSpec, config: SDConfig, seed: int,
                 device: torch.device | str = "cpu") -> None:
        torch.manual_seed(seed)
        self.spec, self.config, self.seed, self.device = spec, config, seed, torch.device(device)
        nets = config.networks
        self.encoder = SubtaskEncoder(spec.obs_dim, spec.action_dim, nets).to(self.device)
        self.state_decoder = StateDecoder(spec.obs_dim, spec.action_dim, nets).to(self.device)
        self.reward_decoder = RewardDecoder(spec.obs_dim, spec.action_dim, nets).to(self.device)
        self.prior = ConditionalPrior(nets).to(self.device)
        self.policy_network = PolicyNetwork(spec.obs_dim, spec.action_dim, nets).to(self.device)
        # one Adam for the VAE; gradients clipped per module as the reference: encoder, reward
        # decoder (which holds p(z | y) there), state decoder
        self.clip_groups = (
            list(self.encoder.parameters()),
            [*self.reward_decoder.parameters(), *self.prior.parameters()],
            list(self.state_decoder.parameters()),
        )
        self.vae_optimizer = torch.optim.Adam(self.vae_parameter_groups())
        self.policy_optimizer = torch.optim.Adam(self.policy_network.parameters(), lr=config.lr_policy)
        self.normalizers = {
            "state": RunningNormalizer(spec.obs_dim, clip=INPUT_CLIP, device=self.device),
            "latent": RunningNormalizer(2 * nets.latent_dim, clip=INPUT_CLIP, device=self.device),
            "prob": RunningNormalizer(nets.subtasks, clip=INPUT_CLIP, device=self.device),
        }
        self.reward_scaler = ReturnScaler(config.gamma, config.reward_clip)
        self.buffer = TrialBuffer(config.buffer_episodes)
        # the source of the groups' training-stream seeds; minibatch indices on the host
        self.act_generator = torch.Generator(self.device).manual_seed(seed)
        self.update_generator = torch.Generator().manual_seed(seed + 1)
        self.policy = SDPolicy(self)

    def vae_parameter_groups(self) -> list[dict]:
        """Adam groups of the VAE: everything at ``lr_vae``, or, with ``lr_decoders`` set (the literal
        reading of the HiMeta paper's Table 4), the state decoder, reward decoder, its prior p(z | y)
        and the categorical head at ``lr_decoders`` and the recurrent encoder at ``lr_vae``."""
        vae = [p for group in self.clip_groups for p in group]
        if self.config.lr_decoders is None:
            return [{"params": vae, "lr": self.config.lr_vae, "name": "vae"}]
        slow = [*self.state_decoder.parameters(), *self.reward_decoder.parameters(),
                *self.prior.parameters(), *self.encoder.categorical.parameters()]
        slow_ids = {id(p) for p in slow}
        return [{"params": [p for p in vae if id(p) not in slow_ids], "lr": self.config.lr_vae, "name": "encoder"},
                {"params": slow, "lr": self.config.lr_decoders, "name": "decoders+categorical"}]

    # ------------------------------------------------------------------ inputs
    def policy_inputs(self, obs, latent, prob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The policy's inputs on the learner's device, normalised by the running statistics when
        configured (the statistics live on the device too: tensors already there never leave it)."""
        inputs = {"state": obs, "latent": latent, "prob": prob}
        out = []
        for name, values in inputs.items():
            if self.config.normalize_policy_inputs:
                out.append(self.normalizers[name](values))
            else:
                out.append(torch.as_tensor(values, dtype=torch.float32, device=self.device))
        return out[0], out[1], out[2]

    # ------------------------------------------------------------------ update
    def update(self, rollout: Rollout, iteration: int) -> dict[str, float]:
        n, episodes, steps = rollout.rewards.shape
        length = episodes * steps
        trials = {
            "obs": rollout.observations[:, :, :-1].reshape(n, length, -1),
            "actions": rollout.actions.reshape(n, length, -1),
            "rewards": rollout.rewards.reshape(n, length).astype(np.float32),
            "next_obs": rollout.observations[:, :, 1:].reshape(n, length, -1),
        }
        self.buffer.push(trials, episodes)
        latent, prob = rollout.extras["latent"], rollout.extras["prob"]
        if self.config.normalize_policy_inputs:
            for name, values in (("state", trials["obs"]), ("latent", latent), ("prob", prob)):
                self.normalizers[name].update(values)
        raw = trials["rewards"].astype(np.float64)
        rewards = self.reward_scaler(raw) if self.config.normalize_rewards else raw
        stats = self._policy_step(rollout, trials, rewards.reshape(n, episodes, steps))
        vae_stats: dict[str, float] = {}
        for _ in range(self.config.vae_updates):
            for key, value in self._vae_step().items():
                vae_stats[key] = vae_stats.get(key, 0.0) + value / self.config.vae_updates
        return stats | vae_stats | {"reward_policy_mean": float(rewards.mean())}

    def _policy_step(self, rollout: Rollout, trials: dict[str, np.ndarray], rewards: np.ndarray) -> dict:
        batch, evaluate = self._ppo_batch(rollout, trials, rewards)
        return ppo_update(evaluate, self.policy_network.parameters(), self.policy_optimizer, batch,
                          self.config.ppo, self.update_generator)

    def _ppo_batch(self, rollout: Rollout, trials: dict[str, np.ndarray], rewards: np.ndarray):
        """PPO's flat batch (advantages and value targets under the current critic) and the function
        that re-evaluates the policy and value on a minibatch of it; steps nothing."""
        n, episodes, steps = rollout.rewards.shape
        flat = lambda values: values.reshape(n * episodes * steps, -1)  # noqa: E731
        states, latents, probs = self.policy_inputs(flat(trials["obs"]), flat(rollout.extras["latent"]),
                                                    flat(rollout.extras["prob"]))
        actions = torch.as_tensor(flat(rollout.actions), device=self.device)
        with torch.no_grad():
            distribution, values = self.policy_network(states, latents, probs)
            old_log_prob = distribution.log_prob(actions).sum(-1)
            bootstrap = self._episode_end_values(rollout, trials)  # [N, E]
        values = values.reshape(n, episodes, steps)
        rewards = torch.as_tensor(rewards, dtype=torch.float32, device=self.device)
        if self.config.advantage_horizon == "episode":
            advantages, returns = generalized_advantages(rewards, values, bootstrap, self.config.gamma,
                                                         self.config.gae_lambda)
        else:
            advantages, returns = generalized_advantages(
                rewards.reshape(n, -1), values.reshape(n, -1), bootstrap[:, -1], self.config.gamma,
                self.config.gae_lambda,
            )
        batch = {"obs": states, "latent": latents, "prob": probs, "actions": actions,
                 "old_log_prob": old_log_prob, "advantages": advantages.reshape(-1),
                 "returns": returns.reshape(-1), "old_values": values.reshape(-1)}

        def evaluate(minibatch):
            policy, value = self.policy_network(minibatch["obs"], minibatch["latent"], minibatch["prob"])
            return policy.log_prob(minibatch["actions"]).sum(-1), policy.entropy().sum(-1), value

        return batch, evaluate

    def _episode_end_values(self, rollout: Rollout, trials: dict[str, np.ndarray]) -> torch.Tensor:
        """``V(s_T, belief(h_T))`` at the end of every episode ``[N, E]`` (time limits are bootstrapped).

        ``h_T`` is the encoder state after the episode's last transition; the encoder has not
        changed since acting, so re-encoding the trials reproduces it.
        """
        n, episodes, steps = rollout.rewards.shape
        to_device = lambda key: torch.as_tensor(trials[key], device=self.device)  # noqa: E731
        hidden = self.encoder.encode(to_device("actions"), to_device("next_obs"), to_device("rewards"))
        ends = torch.arange(1, episodes + 1, device=self.device) * steps
        belief = self.encoder.belief(hidden[:, ends], self.update_generator)  # [N, E, ...]
        final_states = rollout.observations[:, :, -1]
        inputs = self.policy_inputs(final_states.reshape(n * episodes, -1),
                                    belief.policy_latent.reshape(n * episodes, -1),
                                    belief.prob.reshape(n * episodes, -1))
        return self.policy_network(*inputs)[1].reshape(n, episodes)

    def _vae_step(self) -> dict[str, float]:
        count = min(self.config.vae_batch_trials, self.buffer.size)
        picked = torch.randperm(self.buffer.size, generator=self.update_generator)[:count].numpy()
        loss, stats = elbo_loss(
            self.encoder, self.state_decoder, self.reward_decoder, self.prior,
            self.buffer.batch(picked, self.device), self.config.elbo_weights,
            self.config.elbo_sampling, self.update_generator,
        )
        self.vae_optimizer.zero_grad()
        loss.backward()
        for group in self.clip_groups:
            nn.utils.clip_grad_norm_(group, self.config.vae_max_grad_norm)
        self.vae_optimizer.step()
        return stats

    # ------------------------------------------------------------------ checkpointing
    _MODULES = ("encoder", "state_decoder", "reward_decoder", "prior", "policy_network",
                "vae_optimizer", "policy_optimizer", "reward_scaler", "buffer")

    def state_dict(self) -> dict:
        return {
            **{name: getattr(self, name).state_dict() for name in self._MODULES},
            "normalizers": {name: norm.state_dict() for name, norm in self.normalizers.items()},
            "act_generator": generator_state(self.act_generator),
            "update_generator": generator_state(self.update_generator),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore everything; tensors are moved onto this agent's device (checkpoints load on CPU)."""
        for name in self._MODULES:
            getattr(self, name).load_state_dict(state[name])
        for name, norm in self.normalizers.items():
            norm.load_state_dict(state["normalizers"][name])
        restore_generator(self.act_generator, state["act_generator"], "act")
        restore_generator(self.update_generator, state["update_generator"], "update")
