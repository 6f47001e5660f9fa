"""Per-task episodes with the subgoals that were in force, turned into each level's transitions.

Storage composes the shared :class:`TaskEpisodeBuffer` (whole episodes, task labels, PEARL's
context flags, one FIFO) with parallel arrays of what the policy recorded while acting (the
subgoals in force and whether each was a test), written to the same slots. Transitions are cut from
the stored episodes at sampling time:

* top level (poster: ``pi_h(s, z)`` acts every ``k^h`` steps): a semi-MDP transition per ``k^h``
  steps, ``(s_t, a, sum_{u=t}^{t'-1} gamma^(u-t) r_u, s_t')`` with ``t' = min(t + k^h, T)``
  (``top_reward: smdp``, discounted ``gamma^(k^h)`` per decision: the options framework's semi-MDP,
  whose values equal the per-step MDP's; ``decision_sum``: the undiscounted sum, ``gamma`` per
  decision), drawn per task like PEARL's RL batch; ``top_transition_starts: every_step`` cuts them
  from every k-step window, not only those starting at a decision (HAC's hindsight-action premise:
  the levels below did reach ``s_t'`` from ``s_t``; k times the top's data);
* level ``i < top`` (``pi_i(s, g_i)`` every ``k^i`` steps, ``k^0 = 1``): ``(s_t, g_i, a, r, s_t')``
  from any task (the lower levels do not see z), ``g_i`` the subgoal in force at ``t``; with
  probability ``relabel_fraction`` ``g_i`` is replaced by a hindsight goal (:func:`hindsight_goal_steps`);
  the reward and terminal flag follow from ``g_i`` and the ego-state at ``t'`` (:func:`subgoal_reward`).

The action of a subgoal-proposing level (the top and every ``i > 0``) is HAC's hindsight action,
the ego-state achieved at ``t'``. A buffer of HAC holds one more transition for every tested
subgoal that was missed, ``(s_t, proposed subgoal, penalty)``, terminal; here each drawn step whose
proposal was a missed test yields that penalty transition with probability 1/2, the same mixture.
The top level's penalty transition is terminal (``top_missed_test: terminal``, HAC) or bootstraps
from the state reached (``continue``: the miss costs its own decision's reward only).
"""

from __future__ import annotations

import numpy as np

from algorithms.common.context import TaskEpisodeBuffer
from algorithms.peach.config import PEACHConfig
from algorithms.peach.goals import (
    SubgoalSpace,
    attained,
    hindsight_goal_steps,
    subgoal_penalty,
    subgoal_reward,
)


def level_steps(steps: int, period: int, size, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform starts ``t = j * period`` of a level's actions and their ends ``min(t + period, T)``."""
    start = period * rng.integers(-(-steps // period), size=size)
    return start, np.minimum(start + period, steps)


class HierarchyReplay:
    """A :class:`TaskEpisodeBuffer` plus ``subgoals[slot, t, i]`` (level ``i``'s goal at step ``t``)
    and ``tested[slot, t, i]`` (that goal was proposed as a test)."""

    _ARRAYS = ("subgoals", "tested")

    def __init__(self, capacity_episodes: int, steps: int, obs_dim: int, action_dim: int,
                 config: PEACHConfig, space: SubgoalSpace) -> None:
        self.episodes = TaskEpisodeBuffer(capacity_episodes, steps, obs_dim, action_dim)
        self.subgoals = np.zeros((capacity_episodes, steps, config.levels - 1, space.dim), np.float32)
        self.tested = np.zeros((capacity_episodes, steps, config.levels - 1), bool)
        self.config, self.space = config, space

    @property
    def size(self) -> int:
        return self.episodes.size

    def add_trial(self, task: int, observations: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                  subgoals: np.ndarray, tested: np.ndarray, context: np.ndarray, iteration: int = 0) -> None:
        """Store a trial's episodes ``[E, ...]`` with the policy's ``subgoals`` and ``tested`` extras."""
        slots = (self.episodes.cursor + np.arange(len(observations))) % self.episodes.capacity
        self.subgoals[slots], self.tested[slots] = subgoals, tested
        self.episodes.add_trial(task, observations, actions, rewards, context, iteration)

    def _proposals(self, slots: np.ndarray, start: np.ndarray, obs: np.ndarray, achieved: np.ndarray,
                   below: int, rng: np.random.Generator, proposed_at_start: np.ndarray | bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Actions of a proposing level (hindsight, or the missed tested proposal, each mapped from
        the ego-state of ``obs``, the observation at ``start``) and the penalty mask; only a window
        whose ``start`` is where its proposal was made (``proposed_at_start``) can be a missed test."""
        proposed = self.subgoals[slots, start, below]
        missed = (self.tested[slots, start, below] & proposed_at_start
                  & ~attained(achieved, proposed, self.config.goal_threshold))
        penalised = missed & (rng.random(missed.shape) < 0.5)
        return (self.space.action_from_goal(np.where(penalised[..., None], proposed, achieved),
                                            self.space.achieved(obs)), penalised)

    def top_transitions(self, tasks: np.ndarray, batch_size: int,
                        rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``batch_size`` semi-MDP transitions per task, ``[len(tasks), batch_size, ...]``."""
        buffer, period = self.episodes, self.config.periods[-1]
        slots = np.stack([episodes[rng.integers(len(episodes), size=batch_size)]
                          for episodes in (buffer.episodes_of(int(task), False) for task in tasks)])
        if self.config.top_transition_starts == "every_step":
            start = rng.integers(buffer.steps, size=slots.shape)
            end = np.minimum(start + period, buffer.steps)
        else:
            start, end = level_steps(buffer.steps, period, slots.shape, rng)
        steps = start[..., None] + np.arange(period)
        inside = steps < end[..., None]
        weights = inside * (self.config.sac.discount ** np.arange(period) if self.config.top_reward == "smdp"
                            else 1.0)  # smdp: the discounted k-step return of the options framework
        rewards = (buffer.rewards[slots[..., None], np.minimum(steps, buffer.steps - 1)] * weights).sum(-1)
        obs, next_obs = buffer.observations[slots, start], buffer.observations[slots, end]
        actions, penalised = self._proposals(slots, start, obs, self.space.achieved(next_obs), -1, rng,
                                             proposed_at_start=start % period == 0)
        return {
            "obs": obs, "actions": actions,
            "rewards": np.where(penalised, self.config.top_subgoal_penalty, rewards).astype(np.float32),
            "terminated": penalised if self.config.top_missed_test == "terminal" else np.zeros_like(penalised),
            "next_obs": next_obs,
        }

    def level_transitions(self, level: int, batch_size: int,
                          rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``batch_size`` goal-conditioned transitions of lower level ``level`` from every stored episode."""
        buffer, space, config = self.episodes, self.space, self.config
        period, parent = config.periods[level], config.periods[level + 1]
        slots = rng.integers(buffer.size, size=batch_size)
        start, end = level_steps(buffer.steps, period, batch_size, rng)
        obs, next_obs = buffer.observations[slots, start], buffer.observations[slots, end]
        achieved = space.achieved(next_obs)
        real_goals = self.subgoals[slots, start, level]
        relabel = rng.random(batch_size) < config.relabel_fraction
        segment_end = np.minimum((start // parent + 1) * parent, buffer.steps)
        hindsight = hindsight_goal_steps(end, segment_end, period, config.relabel_strategy, rng)
        goals = np.where(relabel[:, None], space.achieved(buffer.observations[slots, hindsight]), real_goals)
        rewards, terminated = subgoal_reward(achieved, goals, config.goal_threshold, config.subgoal_reward)
        if level == 0:
            actions = buffer.actions[slots, start]
        else:
            actions, penalised = self._proposals(slots, start, obs, achieved, level - 1, rng)
            goals = np.where(penalised[:, None], real_goals, goals)  # HAC: penalties keep the real goal
            penalty = subgoal_penalty(config.subgoal_reward, parent // period, space)
            rewards = np.where(penalised, penalty, rewards).astype(np.float32)
            terminated = terminated | penalised
        return {"obs": obs, "goals": goals, "actions": actions,
                "rewards": rewards, "terminated": terminated, "next_obs": next_obs}

    def state_dict(self) -> dict:
        return {"episodes": self.episodes.state_dict(),
                **{name: getattr(self, name)[: self.size].copy() for name in self._ARRAYS}}

    def load_state_dict(self, state: dict) -> None:
        self.episodes.load_state_dict(state["episodes"])
        for name in self._ARRAYS:
            getattr(self, name)[: self.size] = state[name]
            getattr(self, name)[self.size:] = 0
