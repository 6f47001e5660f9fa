"""PEACH's registry entry (see algorithms/registry.py)."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.peach.agent import PEACHAgent
from algorithms.peach.config import PEACHConfig, peach_config
from algorithms.common.context import require_posterior_episode
from envs.suite import EnvSpec


def build_config(values: Mapping[str, Any], where: str) -> PEACHConfig:
    return peach_config(dict(values), where)


def build_agent(spec: EnvSpec, config: PEACHConfig, seed: int, device: torch.device) -> PEACHAgent:
    return PEACHAgent(spec, config, seed, device=device)


def check_protocol(config: PEACHConfig, episodes_per_task: int, where: str) -> None:
    """Settings that only make sense with the study's protocol (called before any job is planned)."""
    require_posterior_episode(config.prior_episodes, episodes_per_task, where)
