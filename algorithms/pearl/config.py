"""Build a :class:`PEARLConfig` from a method YAML (config/methods/pearl.yaml), strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from algorithms.common.sac import SACConfig
from algorithms.common.strict_config import build_strict
from algorithms.pearl.agent import PEARLConfig

_SECTIONS = {"sac": SACConfig}


def pearl_config(values: dict[str, Any], where: str = "config") -> PEARLConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    return build_strict(PEARLConfig, values, where, "PEARL", _SECTIONS)


def load_pearl_config(path: str | Path) -> PEARLConfig:
    with open(path) as stream:
        return pearl_config(yaml.safe_load(stream), where=str(path))
