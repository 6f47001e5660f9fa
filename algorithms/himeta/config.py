"""Build a :class:`HiMetaConfig` from a method YAML (config/methods/himeta-*.yaml), strictly."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from algorithms.common.ppo import PPOConfig
from algorithms.himeta.agent import HiMetaConfig
from algorithms.himeta.losses import LossWeights
from algorithms.himeta.networks import HiMetaNetworkConfig

_NESTED = {"networks": HiMetaNetworkConfig, "loss_weights": LossWeights, "ppo": PPOConfig}


def _build(cls, values: dict[str, Any], where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown HiMeta setting(s) {unknown} in {where}; known: {sorted(fields)}")
    missing = sorted(name for name, f in fields.items() if name not in values
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"missing HiMeta setting(s) {missing} in {where}")
    converted = {}
    for name, value in values.items():
        if name in _NESTED and cls is HiMetaConfig:
            value = _build(_NESTED[name], value, f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        converted[name] = value
    return cls(**converted)


def himeta_config(values: dict[str, Any], where: str = "config") -> HiMetaConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    values = {key: value for key, value in values.items() if key != "algorithm"}
    config = _build(HiMetaConfig, values, where)
    if config.goal_type not in ("cd", "cm", "st"):
        raise ValueError(f"goal_type must be cd, cm or st in {where}, got {config.goal_type!r}")
    return config


def load_himeta_config(path: str | Path) -> HiMetaConfig:
    with open(path) as stream:
        return himeta_config(yaml.safe_load(stream), where=str(path))
