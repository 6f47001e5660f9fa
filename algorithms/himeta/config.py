"""Build a :class:`HiMetaConfig` from a method YAML (config/methods/himeta-*.yaml), strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from algorithms.common.ppo import PPOConfig
from algorithms.common.strict_config import build_strict
from algorithms.himeta.agent import HiMetaConfig
from algorithms.himeta.losses import LossWeights
from algorithms.himeta.networks import HiMetaNetworkConfig

_NESTED = {"networks": HiMetaNetworkConfig, "loss_weights": LossWeights, "ppo": PPOConfig}


def himeta_config(values: dict[str, Any], where: str = "config") -> HiMetaConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    config = build_strict(HiMetaConfig, values, where, "HiMeta", _NESTED)
    if config.goal_type not in ("cd", "cm", "st"):
        raise ValueError(f"goal_type must be cd, cm or st in {where}, got {config.goal_type!r}")
    return config


def load_himeta_config(path: str | Path) -> HiMetaConfig:
    with open(path) as stream:
        return himeta_config(yaml.safe_load(stream), where=str(path))
