"""PEARL's registry entry (see algorithms/registry.py)."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.pearl.agent import PEARLAgent, PEARLConfig
from algorithms.pearl.config import pearl_config
from algorithms.common.context import require_posterior_episode
from envs.suite import EnvSpec


def build_config(values: Mapping[str, Any], where: str) -> PEARLConfig:
    return pearl_config(dict(values), where)


def build_agent(spec: EnvSpec, config: PEARLConfig, seed: int, device: torch.device) -> PEARLAgent:
    return PEARLAgent(spec, config, seed, device=device)


def check_protocol(config: PEARLConfig, episodes_per_task: int, where: str) -> None:
    """Settings that only make sense with the study's protocol (called before any job is planned)."""
    require_posterior_episode(config.prior_episodes, episodes_per_task, where)
