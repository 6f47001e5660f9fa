"""The subgoal space of the hierarchy and the goal-conditioned rewards of its lower levels.

* Subgoals live in the suite's ego-state (``EnvSpec.ego_indices``; the poster's ``G``): with
  ``subgoal_space: current_frame`` only the first half of the ego slots (both suites list the
  current frame, then the stacked previous frame: ML10 hand xyz + gripper ``obs[0:4]``, the point
  robot's position), with ``ego`` all of them.
* A level's action ``a in [-1, 1]^G`` (the tanh policy of the shared SAC) maps affinely onto the
  box ``[subgoal_low, subgoal_high]`` from the config; a hindsight action maps an achieved ego-state
  back, clipped into the box (HAC's hindsight action transitions). ``subgoal_frame: absolute``
  (HAC): the box is fixed in the ego-state space; ``relative`` (HIRO, Nachum et al. 2018): the box
  holds offsets from the ego-state where the proposal is made (its ``origin``), so a proposal
  names a target within reach of the current state and a hindsight action is the displacement
  achieved over the level's period. Either way the stored subgoal is the absolute target, held
  fixed while it is in force.
* Goal input: a goal-conditioned level reads ``[obs, g]`` (``goal_input: absolute``, HAC) or
  ``[obs, (g - s_ego) / goal_threshold]`` (``offset``: HIRO's relative goal, in units where
  attainment is the unit box), :func:`goal_condition`.
* Attainment (HAC): ``|g_d - s_d| <= goal_threshold`` in every dimension. Reward ``sparse``: ``-1``
  until attained, ``0`` (and a terminal transition, ``gamma = 0``) on attaining; ``distance``:
  ``-||g - s||_2``, never terminal.
* Hindsight goals (HER): the goal a transition is relabelled with is an ego-state achieved at a
  later boundary of the same level inside the same parent subgoal (``future``), or at the end of
  that subgoal (``final``).
* Subgoal testing (HAC): a proposal marked as a test is followed by deterministic lower levels; if
  it is missed, the proposing level also learns ``(s, proposed subgoal, penalty)`` as a terminal
  transition, the penalty being the lowest return of one attempt (:func:`subgoal_penalty`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.suite import EnvSpec


class SubgoalSpace:
    """Which observation slots a subgoal names, the box its proposals are scaled to, and whether that
    box is fixed (``absolute``) or centred on the state where a proposal is made (``relative``)."""

    def __init__(self, spec: EnvSpec, space: str, low: Sequence[float], high: Sequence[float],
                 frame: str) -> None:
        self.relative = frame == "relative"
        ego = tuple(spec.ego_indices)
        self.indices = np.array(ego[: len(ego) // 2] if space == "current_frame" else ego)
        if len(low) != len(self.indices):
            raise ValueError(f"subgoal bounds have {len(low)} entries but the {space!r} subgoal space of "
                             f"this suite has {len(self.indices)} slots (observation indices "
                             f"{self.indices.tolist()})")
        self.low = np.asarray(low, np.float32)
        self.high = np.asarray(high, np.float32)

    @property
    def dim(self) -> int:
        return len(self.indices)

    def achieved(self, obs: np.ndarray) -> np.ndarray:
        """The ego-state a (batch of) observation(s) achieves, ``[..., dim]``."""
        return obs[..., self.indices]

    def _base(self, origin: np.ndarray) -> np.ndarray | float:
        """Where the box is anchored: the proposing state's ego-state (``relative``) or nowhere."""
        return origin if self.relative else 0.0

    def goal_from_action(self, action: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """``base + low + (a + 1) / 2 (high - low)``: a level's tanh action as a subgoal, proposed
        where the ego-state is ``origin`` (``base`` = ``origin`` for relative subgoals, else 0)."""
        return self._base(origin) + self.low + 0.5 * (action + 1.0) * (self.high - self.low)

    def action_from_goal(self, goal: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """The inverse map, clipped to ``[-1, 1]`` (achieved states may leave the box)."""
        offset = goal - self._base(origin) - self.low
        return np.clip(2.0 * offset / (self.high - self.low) - 1.0, -1.0, 1.0).astype(np.float32)


def goal_condition(goal, obs, space: SubgoalSpace, goal_input: str, threshold: float):
    """What a goal-conditioned level reads beside ``obs`` for goal ``goal`` (numpy or torch alike):
    ``g`` itself (``absolute``) or ``(g - s_ego) / threshold`` (``offset``), ``s_ego`` being the
    ego-state of ``obs``. On MetaWorld a subgoal a few centimetres away differs from the hand's
    position by a few hundredths of an input unit in metres; an offset in threshold units is O(1)."""
    if goal_input == "absolute":
        return goal
    return (goal - space.achieved(obs)) / threshold


def attained(achieved: np.ndarray, goal: np.ndarray, threshold: float) -> np.ndarray:
    """HAC's test: every dimension within ``threshold`` of the goal, ``[...]`` bool."""
    return (np.abs(achieved - goal) <= threshold).all(-1)


def subgoal_reward(achieved: np.ndarray, goal: np.ndarray, threshold: float,
                   kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(reward, terminated)`` of a goal-conditioned transition that ends at ``achieved``."""
    if kind == "sparse":
        done = attained(achieved, goal, threshold)
        return np.where(done, 0.0, -1.0).astype(np.float32), done
    distance = np.linalg.norm(achieved - goal, axis=-1).astype(np.float32)
    return -distance, np.zeros(distance.shape, bool)


def hindsight_goal_steps(end: np.ndarray, segment_end: np.ndarray, period: int, strategy: str,
                         rng: np.random.Generator) -> np.ndarray:
    """Env step whose achieved ego-state becomes the hindsight goal of each transition.

    A level's transition ends at step ``end``; its goal holds until ``segment_end``. Candidates
    are the level's later boundaries ``end, end + period, ...`` capped at ``segment_end`` (the last
    boundary of a truncated episode), drawn uniformly (``future``), or ``segment_end`` (``final``).
    """
    if strategy == "final":
        return segment_end.copy()
    choices = -(-(segment_end - end) // period) + 1  # ceil((segment_end - end) / period) + 1
    return np.minimum(end + period * rng.integers(choices), segment_end)


def subgoal_penalty(kind: str, steps: int, space: SubgoalSpace) -> float:
    """HAC's penalty for a missed tested subgoal of a goal-conditioned level: its lowest return over
    one attempt of ``steps`` of its actions, ``-steps`` (sparse) or ``-steps * ||high - low||_2`` (distance).
    The top level's reward is the env's, so its penalty is a config value (``top_subgoal_penalty``)."""
    worst = 1.0 if kind == "sparse" else float(np.linalg.norm(space.high - space.low))
    return -steps * worst
