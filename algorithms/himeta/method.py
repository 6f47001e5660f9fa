"""HiMeta's registry entry (see algorithms/registry.py)."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.himeta.agent import HiMetaAgent, HiMetaConfig
from algorithms.himeta.config import himeta_config
from envs.suite import EnvSpec


def build_config(values: Mapping[str, Any], where: str) -> HiMetaConfig:
    return himeta_config(dict(values), where)


def build_agent(spec: EnvSpec, config: HiMetaConfig, seed: int, device: torch.device) -> HiMetaAgent:
    return HiMetaAgent(spec, config, seed, device=device)
