"""PEARL (Rakelly et al. 2019) on the shared sampler: SAC conditioned on a probabilistic context z.

Acting (``memory_scope = "trial"``; the memory is a :class:`GaussianBelief` per env slot, reset at
every new trial, so beliefs never leak between tasks). Each episode acts with one ``z`` drawn when
the episode's first action is taken:

* training collection (stochastic actions): the first ``prior_episodes`` episodes of a trial use
  ``z ~ N(0, I)``; later ones ``z ~ q(z | c)`` over every transition of the trial so far, redrawn
  every episode (PEARL's ``num_steps_prior`` then ``num_extra_rl_steps_posterior``);
* evaluation (the shared evaluation): episode 0 from the prior, then the posterior of the whole
  trial so far after each episode (the paper's Algorithm 2); actions ``tanh(mean)``, or sampled from
  the slot's trial stream under ``evaluation.actions: stochastic``. Its z noise is keyed by (seed, trial, episode index), so evaluating never moves
  the training random streams, a trial's z does not depend on the slot it is played in, and the same
  weights give the same numbers whatever the evaluation cadence.

Update (paper Algorithm 1 with garage's step, ``SoftActorCritic.update``): the iteration's trials go
to one episode FIFO shared by all tasks (episodes tagged with their task), prior-z episodes also
forming their task's context set; then
``gradient_steps`` steps, each on ``meta_batch_size`` tasks drawn with replacement: context of
``embedding_batch_size`` transitions from the task's context set -> posterior -> one z per task
(reparameterised), RL batch of ``batch_size`` transitions from the task's replay episodes. The Q
loss sees ``z`` with its gradient (plus ``kl_lambda * KL``), so the encoder learns only from the
critic and the information bottleneck; V, the target V and the policy see ``z`` detached.

On the learner's device (issue 16 item 6): the meta-batches are drawn there
(:class:`~algorithms.common.meta_batch.DeviceMetaBatches`, the buffer indexed once per iteration),
the update's random streams live there, and the logged statistics stay there until the iteration's
one host copy (:class:`~algorithms.common.step_statistics.StepStatistics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algorithms.common.context import (
    ContextEncoder,
    TaskEpisodeBuffer,
    context_dim,
    context_features,
    kl_to_standard_normal,
    sample_gaussian,
)
from algorithms.common.acting_replica import acting_replica
from algorithms.common.generators import generator_state, restore_generator
from algorithms.common.keyed_noise import draw_training_seed
from algorithms.common.meta_batch import DeviceMetaBatches
from algorithms.common.sac import SACConfig, SoftActorCritic
from algorithms.common.step_statistics import StepStatistics
from algorithms.common.trial_belief import BeliefMemory, TrialBelief, latent_sac_inputs, task_id
from envs.policy import Acting, Transition
from envs.rollout import Rollout
from envs.suite import EnvSpec


@dataclass(frozen=True)
class PEARLConfig:
    """Every PEARL hyper-parameter; config/methods/pearl.yaml gives the values and sources."""

    latent_dim: int
    encoder_hidden: tuple[int, ...]
    context_lr: float
    kl_lambda: float
    use_next_obs_in_context: bool
    meta_batch_size: int
    batch_size: int
    embedding_batch_size: int
    gradient_steps: int
    context_window: int
    prior_episodes: int
    replay_capacity: int
    sac: SACConfig

    def __post_init__(self) -> None:
        for name in ("latent_dim", "meta_batch_size", "batch_size", "embedding_batch_size",
                     "prior_episodes", "replay_capacity"):
            if getattr(self, name) < 1:
                raise ValueError(f"PEARL setting {name} must be >= 1, got {getattr(self, name)}")
        if self.gradient_steps < 0 or self.context_window < 0 or self.kl_lambda < 0:
            raise ValueError("PEARL settings gradient_steps, context_window and kl_lambda must be >= 0")


class PEARLPolicy:
    """The acting side of :class:`PEARLAgent`, batched over env slots: the shared trial belief
    (:class:`~algorithms.common.trial_belief.TrialBelief`) and SAC's policy on ``[obs, z]``."""

    memory_scope = "trial"
    trial_keyed = True  # evaluation z noise per trial (algorithms.common.trial_belief)

    def __init__(self, agent: PEARLAgent) -> None:
        self.agent = agent
        config = agent.config
        self.belief = TrialBelief(agent.encoder, config.latent_dim, config.prior_episodes,
                                  config.use_next_obs_in_context, agent.seed, agent.device)

    def training_seed(self) -> int:
        """The seed of one group's training stream (:func:`~algorithms.common.keyed_noise.draw_training_seed`)."""
        return draw_training_seed(self.agent.act_generator)

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None = None,
                       training_seed: int | None = None) -> BeliefMemory:
        seed = self.training_seed() if training_seed is None else training_seed
        return self.belief.initial_memory(batch_size, trial_keys, seed)

    def for_workers(self) -> PEARLPolicy:
        """A CPU copy holding only what acting reads: the encoder, SAC's policy network, settings."""
        agent = self.agent
        sac = acting_replica(agent.sac, ("policy",))
        return PEARLPolicy(acting_replica(agent, ("spec", "config", "seed", "encoder"), sac=sac))

    def start_episode(self, memory: BeliefMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> BeliefMemory:
        return self.belief.start_episode(memory, first_in_trial, rows)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, memory: BeliefMemory, acting: Acting):
        agent = self.agent
        memory = self.belief.with_z(memory, acting)
        inputs = torch.cat([torch.as_tensor(obs, dtype=torch.float32, device=agent.device), memory.z], -1)
        noise = self.belief.action_noise(memory, acting, agent.spec.action_dim)
        action = agent.sac.policy.act(inputs, noise)
        extras = {"z": memory.z.cpu().numpy(), "prior_z": self.belief.uses_prior(memory.episode, acting)}
        return action.cpu().numpy(), extras, memory

    @torch.inference_mode()
    def observe(self, memory: BeliefMemory, transition: Transition) -> BeliefMemory:
        return self.belief.observe(memory, transition)


class PEARLAgent:
    """PEARL: context encoder + SAC on ``[obs, z]``, per-task replay and context sets."""

    def __init__(self, spec: EnvSpec, config: PEARLConfig, seed: int,
                 device: torch.device = torch.device("cpu")) -> None:
        torch.manual_seed(seed)
        self.spec, self.config, self.seed, self.device = spec, config, seed, device
        self.context_dim = context_dim(spec.obs_dim, spec.action_dim, config.use_next_obs_in_context)
        self.encoder = ContextEncoder(self.context_dim, config.encoder_hidden, config.latent_dim).to(device)
        self.encoder_optimizer = torch.optim.Adam(self.encoder.parameters(), lr=config.context_lr)
        self.sac = SoftActorCritic(spec.obs_dim + config.latent_dim, spec.action_dim, config.sac, device)
        episodes = config.replay_capacity // spec.episode_length
        if episodes < 1:
            raise ValueError(f"replay_capacity {config.replay_capacity} is below one episode "
                             f"({spec.episode_length} steps)")
        self.buffer = TaskEpisodeBuffer(episodes, spec.episode_length, spec.obs_dim, spec.action_dim)
        self.task_ids: dict[str, int] = {}
        self.act_generator = torch.Generator().manual_seed(seed)
        self.update_generator = torch.Generator(device).manual_seed(seed + 1)
        sample_seed = int(np.random.SeedSequence(seed, spawn_key=(2,)).generate_state(1)[0])
        self.sample_generator = torch.Generator(device).manual_seed(sample_seed)
        self.meta_batches = DeviceMetaBatches(self.buffer, self.sample_generator)
        self._indexed: tuple[int, int] | None = None  # (buffer version, iteration) the meta-batches index
        self.iteration = 0  # the latest update's training iteration (context recency)
        self.policy = PEARLPolicy(self)

    # ------------------------------------------------------------------ update
    def update(self, rollout: Rollout, iteration: int) -> dict[str, float]:
        prior = rollout.extras["prior_z"][:, :, 0]  # [trial, episode]: the episode's z source
        for i, trial in enumerate(rollout.trials):
            self.buffer.add_trial(task_id(self.task_ids, trial.class_name, trial.variant), rollout.observations[i],
                                  rollout.actions[i], rollout.rewards[i], context=prior[i], iteration=iteration)
        self.iteration = iteration
        statistics = StepStatistics()
        for _ in range(self.config.gradient_steps):
            statistics.add(self.gradient_step())
        return statistics.means() | {"buffer_episodes": float(self.buffer.size),
                                     "buffer_tasks": float(len(self.buffer.tasks_with_context())),
                                     "meta_batch_tasks": float(len(self.eligible_tasks()))}

    def eligible_tasks(self) -> np.ndarray:
        """The tasks a meta-batch draws from: context from the last ``context_window`` iterations."""
        return self.buffer.recent_tasks(self.iteration, self.config.context_window)

    def sample_batch(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """A meta-batch on the learner's device: RL transitions ``[M, B, ...]`` and context
        ``[M, N, context_dim]`` of ``meta_batch_size`` tasks drawn with replacement from
        :meth:`eligible_tasks` (indexed again only when the buffer or the iteration changed)."""
        config = self.config
        if self._indexed != (self.buffer.version, self.iteration):
            self.meta_batches.index(self.eligible_tasks())
            self._indexed = (self.buffer.version, self.iteration)
        rl, ctx = self.meta_batches.draw(config.meta_batch_size, config.batch_size,
                                         config.embedding_batch_size)
        next_obs = ctx["next_obs"] if config.use_next_obs_in_context else None
        return rl, context_features(ctx["obs"], ctx["actions"], ctx["rewards"], next_obs)

    def gradient_step(self) -> dict[str, torch.Tensor]:
        """One step of Algorithm 1's inner loop; its statistics stay on the device (0-d tensors)."""
        batch, context = self.sample_batch()
        mean, variance = self.encoder.posterior(context)
        kl = kl_to_standard_normal(mean, variance).sum()  # summed over tasks (garage, oyster)
        z = sample_gaussian(mean, variance, self.update_generator)
        critic_inputs, actor_inputs, next_inputs = latent_sac_inputs(batch, z)
        stats = self.sac.update(
            critic_inputs, actor_inputs, next_inputs, batch["actions"].reshape(-1, self.spec.action_dim),
            batch["rewards"].reshape(-1), self.update_generator,
            extra_critic_loss=self.config.kl_lambda * kl, extra_optimizers=(self.encoder_optimizer,),
        )
        return stats | {"kl": kl.detach() / len(mean), "posterior_variance": variance.mean().detach()}

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        return {
            "sac": self.sac.state_dict(), "encoder": self.encoder.state_dict(),
            "encoder_optimizer": self.encoder_optimizer.state_dict(), "buffer": self.buffer.state_dict(),
            "task_ids": dict(self.task_ids), "act_generator": generator_state(self.act_generator),
            "update_generator": generator_state(self.update_generator),
            "sample_generator": generator_state(self.sample_generator), "iteration": self.iteration,
        }

    def load_state_dict(self, state: dict) -> None:
        if "sample_generator" not in state:
            raise ValueError("this PEARL checkpoint was written before meta-batches were drawn on the "
                             "learner's device (it holds a numpy 'sample_rng'): its run cannot continue "
                             "the same random streams; delete the checkpoint to start the run again")
        for name in ("sac", "encoder", "encoder_optimizer", "buffer"):
            getattr(self, name).load_state_dict(state[name])
        self.task_ids = dict(state["task_ids"])
        for name in ("act", "update", "sample"):
            restore_generator(getattr(self, f"{name}_generator"), state[f"{name}_generator"], name)
        self.iteration = state["iteration"]
