"""Build a :class:`PEARLConfig` from a method YAML (config/methods/pearl.yaml), strictly."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from algorithms.common.sac import SACConfig
from algorithms.pearl.agent import PEARLConfig

_NESTED = {"sac": SACConfig}


def _build(cls, values: Any, where: str):
    if not isinstance(values, dict):
        raise ValueError(f"PEARL settings in {where} must be a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown PEARL setting(s) {unknown} in {where}; known: {sorted(fields)}")
    missing = sorted(name for name, f in fields.items() if name not in values
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"missing PEARL setting(s) {missing} in {where}")
    converted = {}
    for name, value in values.items():
        if name in _NESTED and cls is PEARLConfig:
            value = _build(_NESTED[name], value, f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        converted[name] = value
    try:
        return cls(**converted)
    except ValueError as error:
        raise ValueError(f"{error} (in {where})") from error


def pearl_config(values: dict[str, Any], where: str = "config") -> PEARLConfig:
    """A validated config from a mapping of hyper-parameters (an ``algorithm`` key is ignored)."""
    return _build(PEARLConfig, {k: v for k, v in values.items() if k != "algorithm"}, where)


def load_pearl_config(path: str | Path) -> PEARLConfig:
    with open(path) as stream:
        return pearl_config(yaml.safe_load(stream), where=str(path))
