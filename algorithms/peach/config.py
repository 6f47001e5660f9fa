"""PEACH's hyper-parameters and their strict loader (config/methods/peach.yaml).

An unknown or missing key raises ``ValueError`` naming the key and the file, so a typo never falls
back to a default silently. Each value's source is commented in the YAML; docs/peach.md lists the
choices where the poster is silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from algorithms.common.sac import SACConfig
from algorithms.common.strict_config import build_strict

SUBGOAL_SPACES = ("current_frame", "ego")
SUBGOAL_FRAMES = ("absolute", "relative")
SUBGOAL_REWARDS = ("sparse", "distance")
RELABEL_STRATEGIES = ("future", "final")
TOP_REWARDS = ("smdp", "decision_sum")
TOP_MISSED_TESTS = ("terminal", "continue")
TOP_TRANSITION_STARTS = ("decisions", "every_step")
GOAL_INPUTS = ("absolute", "offset")


@dataclass(frozen=True)
class PEACHConfig:
    """Every PEACH hyper-parameter.

    Levels are numbered from the bottom: level 0 acts in the environment every step, level ``i``
    proposes a subgoal for level ``i - 1`` every ``periods[i]`` steps, the top level ``levels - 1``
    reads ``z`` (poster, "Hierarchical Formulation"). ``subgoal_periods`` lists ``k^h, ..., k^1``
    from the top down, as the poster writes the hierarchy.
    """

    levels: int
    subgoal_periods: tuple[int, ...]
    subgoal_space: str
    subgoal_frame: str
    subgoal_low: tuple[float, ...]
    subgoal_high: tuple[float, ...]
    subgoal_reward: str
    goal_threshold: float
    goal_input: str
    relabel_strategy: str
    relabel_fraction: float
    subgoal_test_fraction: float
    top_subgoal_penalty: float
    top_missed_test: str
    top_reward: str
    top_transition_starts: str
    bound_lower_targets: bool
    latent_dim: int
    encoder_hidden: tuple[int, ...]
    context_lr: float
    kl_lambda: float
    use_next_obs_in_context: bool
    meta_batch_size: int
    batch_size: int
    lower_batch_size: int
    embedding_batch_size: int
    gradient_steps: int
    context_window: int
    prior_episodes: int
    replay_capacity: int
    sac: SACConfig
    lower_sac: SACConfig

    def __post_init__(self) -> None:
        for name in ("latent_dim", "meta_batch_size", "batch_size", "lower_batch_size",
                     "embedding_batch_size", "prior_episodes", "replay_capacity"):
            if getattr(self, name) < 1:
                raise ValueError(f"PEACH setting {name} must be >= 1, got {getattr(self, name)}")
        if self.gradient_steps < 0 or self.context_window < 0 or self.kl_lambda < 0 or self.goal_threshold < 0:
            raise ValueError("PEACH settings gradient_steps, context_window, kl_lambda and goal_threshold "
                             "must be >= 0")
        if self.levels < 2 or len(self.subgoal_periods) != self.levels - 1:
            raise ValueError(f"PEACH needs levels >= 2 and one subgoal period per level above the bottom, "
                             f"got levels {self.levels} and subgoal_periods {list(self.subgoal_periods)}")
        periods = self.periods
        if any(high <= low or high % low for low, high in zip(periods, periods[1:])):
            raise ValueError(f"PEACH subgoal_periods {list(self.subgoal_periods)} must decrease from the "
                             f"top down, each a multiple of the next (and > 1), so that every step of a "
                             f"level lies inside one subgoal of the level above")
        for name, allowed in (("subgoal_space", SUBGOAL_SPACES), ("subgoal_frame", SUBGOAL_FRAMES),
                              ("subgoal_reward", SUBGOAL_REWARDS),
                              ("relabel_strategy", RELABEL_STRATEGIES), ("top_reward", TOP_REWARDS),
                              ("top_missed_test", TOP_MISSED_TESTS),
                              ("top_transition_starts", TOP_TRANSITION_STARTS), ("goal_input", GOAL_INPUTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"PEACH setting {name} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")
        if self.goal_input == "offset" and self.goal_threshold <= 0:
            raise ValueError("PEACH goal_input: offset needs goal_threshold > 0 (offsets are read in units of "
                             f"the attainment threshold), got {self.goal_threshold}")
        for name in ("relabel_fraction", "subgoal_test_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"PEACH setting {name} must be in [0, 1], got {getattr(self, name)}")
        if len(self.subgoal_low) != len(self.subgoal_high) or not all(
                low < high for low, high in zip(self.subgoal_low, self.subgoal_high)):
            raise ValueError("PEACH subgoal_low and subgoal_high must have the same length and low < high")

    @property
    def periods(self) -> tuple[int, ...]:
        """Env steps per action of each level, bottom first: ``(1, k^1, ..., k^h)``."""
        return (1, *reversed(self.subgoal_periods))

    @property
    def top_discount(self) -> float:
        """The top critic's discount per decision: ``gamma^(k^h)`` with ``sac.discount`` per env step
        (``top_reward: smdp``), or ``sac.discount`` per decision (``decision_sum``)."""
        return self.sac.discount ** (self.periods[-1] if self.top_reward == "smdp" else 1)


_SECTIONS = {"sac": SACConfig, "lower_sac": SACConfig}


def peach_config(values: Mapping[str, Any], where: str = "config") -> PEACHConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    return build_strict(PEACHConfig, values, where, "PEACH", _SECTIONS)


def load_peach_config(path: str | Path) -> PEACHConfig:
    with open(path) as stream:
        return peach_config(yaml.safe_load(stream), where=str(path))
