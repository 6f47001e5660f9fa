"""Build an :class:`SDConfig` from a method YAML (config/methods/sd.yaml), strictly.

An unknown or missing key raises ``ValueError`` naming the key and where it was found, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from algorithms.common.ppo import PPOConfig
from algorithms.sd.agent import SDConfig
from algorithms.sd.losses import ELBOSampling, ELBOWeights
from algorithms.sd.networks import SDNetworkConfig

_SECTIONS = {"networks": SDNetworkConfig, "elbo_weights": ELBOWeights, "elbo_sampling": ELBOSampling,
             "ppo": PPOConfig}
ADVANTAGE_HORIZONS = ("episode", "trial")


def _build(cls, values: Any, where: str):
    """``cls(**values)`` after checking that the keys are exactly ``cls``'s (defaults may be left out)."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be a mapping of SD settings, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown SD setting(s) {unknown} in {where}; known: {sorted(fields)}")
    missing = sorted(name for name, f in fields.items() if name not in values
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"missing SD setting(s) {missing} in {where}")
    converted = {}
    for name, value in values.items():
        if cls is SDConfig and name in _SECTIONS:
            value = _build(_SECTIONS[name], value, f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        converted[name] = value
    return cls(**converted)


def sd_config(values: Mapping[str, Any], where: str = "config") -> SDConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    config = _build(SDConfig, {k: v for k, v in values.items() if k != "algorithm"}, where)
    if config.advantage_horizon not in ADVANTAGE_HORIZONS:
        raise ValueError(f"advantage_horizon must be one of {ADVANTAGE_HORIZONS} in {where}, "
                         f"got {config.advantage_horizon!r}")
    for name in ("buffer_episodes", "vae_batch_trials"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1 in {where}, got {getattr(config, name)}")
    if config.vae_updates < 0:
        raise ValueError(f"vae_updates must be >= 0 in {where}, got {config.vae_updates}")
    return config
