"""PEACH acting through the shared sampler: z on top, subgoals down the hierarchy, env actions at the bottom.

The belief over z follows PEARL's protocol through the shared
:class:`~algorithms.common.trial_belief.TrialBelief` (``memory_scope = "trial"``: beliefs reset at
every new trial; training uses the prior for the first ``prior_episodes`` episodes, then the
posterior of the trial so far; evaluation uses the prior for episode 0, then the posterior;
evaluation z noise is keyed by (seed, trial, episode), so evaluation draws nothing from
the training streams and a trial's z does not depend on its slot). PEARL composes the same piece; neither uses the other's code.

At env step ``t`` of an episode (poster, "Hierarchical Formulation"), from the top down:

* the top level ``h`` proposes ``g_{h-1} = pi_h(s_t, z)`` when ``t % k^h == 0``;
* level ``i`` (``0 < i < h``) proposes ``g_{i-1} = pi_i(s_t, g_i)`` when ``t % k^i == 0``;
* the bottom level acts ``a_t = pi_0(s_t, g_0)``.

Each proposal is the level's tanh action scaled into the subgoal box (:class:`SubgoalSpace`; a
``relative`` box is centred on the ego-state of ``s_t``);
deterministic evaluation uses ``tanh(mean)`` at every level, stochastic evaluation samples every
level from the slot's trial stream. Subgoal testing (HAC): in training, each
proposal is a test with probability ``subgoal_test_fraction``, and so is every proposal made under a
test; a level whose goal is a test acts with ``tanh(mean)`` (the top is never under test). The
subgoals in force at ``t`` and their test flags are recorded as the ``subgoals`` ``[levels - 1, G]``
and ``tested`` ``[levels - 1]`` extras, from which the update cuts every level's transitions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from algorithms.common.acting_replica import acting_replica
from algorithms.common.keyed_noise import draw_training_seed
from algorithms.common.trial_belief import BeliefMemory, TrialBelief
from envs.policy import Acting, Transition, episode_rows

if TYPE_CHECKING:
    from algorithms.peach.agent import PEACHAgent


@dataclass(frozen=True)
class PEACHMemory:
    """Per slot: the trial belief, the env step within the episode, and the subgoals in force."""

    context: BeliefMemory
    step: np.ndarray  # [B] int
    subgoals: np.ndarray  # [B, levels - 1, G]: subgoals[:, i] is level i's goal
    tested: np.ndarray  # [B, levels - 1]: level i's goal is a test


class PEACHPolicy:
    """The acting side of :class:`PEACHAgent`, batched over env slots."""

    memory_scope = "trial"
    trial_keyed = True  # evaluation z noise per trial (algorithms.common.trial_belief)

    def __init__(self, agent: PEACHAgent) -> None:
        self.agent = agent
        config = agent.config
        self.belief = TrialBelief(agent.encoder, config.latent_dim, config.prior_episodes,
                                  config.use_next_obs_in_context, agent.seed, agent.device)

    def training_seed(self) -> int:
        """The seed of one group's training stream (:func:`~algorithms.common.keyed_noise.draw_training_seed`)."""
        return draw_training_seed(self.agent.act_generator)

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None = None,
                       training_seed: int | None = None) -> PEACHMemory:
        agent = self.agent
        seed = self.training_seed() if training_seed is None else training_seed
        subgoals = np.zeros((batch_size, agent.config.levels - 1, agent.space.dim), np.float32)
        tested = np.zeros(subgoals.shape[:2], bool)
        return PEACHMemory(self.belief.initial_memory(batch_size, trial_keys, seed), np.zeros(batch_size, np.int64),
                           subgoals, tested)

    def for_workers(self) -> PEACHPolicy:
        """A CPU copy holding only what acting reads: the encoder, every level's policy network, the
        subgoal space and the settings."""
        agent = self.agent
        levels = [acting_replica(level, ("policy",)) for level in agent.levels]
        return PEACHPolicy(acting_replica(agent, ("spec", "config", "seed", "encoder", "space"), levels=levels))

    def start_episode(self, memory: PEACHMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> PEACHMemory:
        """A new episode in ``rows`` (a mask; ``None``: every row): step 0, no subgoal in force."""
        mask = episode_rows(len(memory.step), rows)
        subgoals, tested = memory.subgoals.copy(), memory.tested.copy()
        subgoals[mask], tested[mask] = 0.0, False
        return PEACHMemory(self.belief.start_episode(memory.context, first_in_trial, mask),
                           np.where(mask, 0, memory.step), subgoals, tested)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, memory: PEACHMemory, acting: Acting):
        agent = self.agent
        context = self.belief.with_z(memory.context, acting)
        state = torch.as_tensor(obs, dtype=torch.float32, device=agent.device)

        def level_action(level: int, rows: np.ndarray, condition: torch.Tensor | None,
                         under_test: np.ndarray) -> np.ndarray:
            """Level ``level``'s tanh action in ``rows`` (indices), given z there (the top) or, for a
            goal-conditioned level (``condition`` None), its goal in force."""
            policy = agent.levels[level].policy
            rows_state = state[torch.as_tensor(rows, device=agent.device)]
            inputs = (torch.cat([rows_state, condition], -1) if condition is not None
                      else agent.goal_inputs(rows_state, torch.as_tensor(subgoals[rows, level], device=agent.device)))
            noise = self.belief.action_noise(context, acting, policy.action_dim, rows)
            if acting.evaluation:  # no subgoal tests in evaluation
                return policy.act(inputs, noise).cpu().numpy()
            mean, sample = policy.mean_and_sample(inputs, noise)
            return np.where(under_test[:, None], mean.cpu().numpy(), sample.cpu().numpy())

        subgoals, tested = memory.subgoals.copy(), memory.tested.copy()
        top = agent.config.levels - 1
        for level in range(top, 0, -1):  # a level proposes in the rows whose step is on its period
            rows = np.flatnonzero(memory.step % agent.config.periods[level] == 0)
            if rows.size == 0:
                continue
            under_test = tested[rows, level] if level < top else np.zeros(rows.size, bool)
            condition = context.z[torch.as_tensor(rows, device=agent.device)] if level == top else None
            action = level_action(level, rows, condition, under_test)
            subgoals[rows, level - 1] = agent.space.goal_from_action(action, agent.space.achieved(obs[rows]))
            tested[rows, level - 1] = under_test | self.draw_tests(rows.size, acting, context.train_stream)
        every = np.arange(len(obs))
        action = level_action(0, every, None, tested[:, 0])
        extras = {"z": context.z.cpu().numpy(), "prior_z": self.belief.uses_prior(context.episode, acting),
                  "subgoals": subgoals, "tested": tested}
        return action, extras, PEACHMemory(context, memory.step + 1, subgoals, tested)

    def draw_tests(self, batch_size: int, acting: Acting, train_stream: torch.Generator) -> np.ndarray:
        """Which new proposals are HAC subgoal tests (none, and no random draw, in evaluation); drawn
        from the group's training stream."""
        if acting.evaluation:
            return np.zeros(batch_size, bool)
        draws = torch.rand(batch_size, generator=train_stream, device=train_stream.device).cpu().numpy()
        return draws < self.agent.config.subgoal_test_fraction

    @torch.inference_mode()
    def observe(self, memory: PEACHMemory, transition: Transition) -> PEACHMemory:
        """Fold the env transition into the trial's belief (the context ``(s, a, r[, s'])``)."""
        return dataclasses.replace(memory, context=self.belief.observe(memory.context, transition))
