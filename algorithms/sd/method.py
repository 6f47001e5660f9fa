"""SD's registry entry (see algorithms/registry.py)."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.sd.agent import SDAgent, SDConfig
from algorithms.sd.config import sd_config
from envs.suite import EnvSpec


def build_config(values: Mapping[str, Any], where: str) -> SDConfig:
    return sd_config(values, where)


def build_agent(spec: EnvSpec, config: SDConfig, seed: int, device: torch.device) -> SDAgent:
    return SDAgent(spec, config, seed, device=device)
