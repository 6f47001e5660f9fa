"""Build an :class:`SDConfig` from a method YAML (config/methods/sd.yaml), strictly.

Strict (algorithms/common/strict_config.py): an unknown or missing key names the key and the file.
"""

from __future__ import annotations

from typing import Any, Mapping

from algorithms.common.ppo import PPOConfig
from algorithms.common.strict_config import build_strict
from algorithms.sd.agent import SDConfig
from algorithms.sd.losses import ELBOSampling, ELBOWeights
from algorithms.sd.networks import SDNetworkConfig

_SECTIONS = {"networks": SDNetworkConfig, "elbo_weights": ELBOWeights, "elbo_sampling": ELBOSampling,
             "ppo": PPOConfig}
ADVANTAGE_HORIZONS = ("episode", "trial")


def sd_config(values: Mapping[str, Any], where: str = "config") -> SDConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    config = build_strict(SDConfig, values, where, "SD", _SECTIONS)
    if config.advantage_horizon not in ADVANTAGE_HORIZONS:
        raise ValueError(f"advantage_horizon must be one of {ADVANTAGE_HORIZONS} in {where}, "
                         f"got {config.advantage_horizon!r}")
    for name in ("buffer_episodes", "vae_batch_trials"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1 in {where}, got {getattr(config, name)}")
    if config.vae_updates < 0:
        raise ValueError(f"vae_updates must be >= 0 in {where}, got {config.vae_updates}")
    return config
