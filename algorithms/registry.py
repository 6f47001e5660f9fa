"""The method registry: algorithm name -> the module that builds its config and agent.

Adding a baseline is one entry here. The registered module must define::

    build_config(values: Mapping[str, Any], where: str) -> Config
        Strict: an unknown or missing key raises ``ValueError`` naming the key and ``where``.
    build_agent(spec: EnvSpec, config: Config, seed: int, device: torch.device) -> Agent

and may define ``check_protocol(config, episodes_per_task: int, where: str) -> None``, raising
``ValueError`` for settings the study's protocol makes meaningless (PEARL: no posterior episode).

A study names *methods* (``config/methods/<method>.yaml``); each method file names its
``algorithm`` (a key below) and holds that algorithm's hyper-parameters, so one algorithm can back
several methods (HiMeta-CD, -CM and -ST differ only in ``goal_type``). Modules are imported lazily:
reading this file needs neither torch nor MetaWorld, so the workflow can validate a study quickly.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ALGORITHMS: dict[str, str] = {
    "himeta": "algorithms.himeta.method",
    "sd": "algorithms.sd.method",
    "pearl": "algorithms.pearl.method",
    "peach": "algorithms.peach.method",
}
"""Algorithm name -> module path (``build_config``, ``build_agent``)."""

METHODS_DIR = Path(__file__).resolve().parents[1] / "config" / "methods"


@dataclass(frozen=True)
class Method:
    """One study method: its name, algorithm module and validated hyper-parameters."""

    name: str
    algorithm: str
    module: ModuleType
    config: Any
    values: dict[str, Any]

    def build_agent(self, spec, seed: int, device):
        return self.module.build_agent(spec, self.config, seed, device)

    def check_protocol(self, episodes_per_task: int, where: str) -> None:
        """The algorithm's own check of its settings against the study's protocol, if it has one."""
        check = getattr(self.module, "check_protocol", None)
        if check is not None:
            check(self.config, episodes_per_task, where)


def algorithm_module(algorithm: str, where: str = "config") -> ModuleType:
    """The registered module for ``algorithm``; unknown names raise with the list of known ones."""
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {algorithm!r} in {where}; registered: {sorted(ALGORITHMS)} "
            "(add new ones to algorithms/registry.py)"
        )
    return importlib.import_module(ALGORITHMS[algorithm])


def merge_values(base: dict[str, Any], changes: dict[str, Any], where: str) -> dict[str, Any]:
    """``base`` with ``changes`` applied key by key (nested mappings merged); every changed key must
    exist in ``base``, so a typo is an error, never a new setting."""
    merged = dict(base)
    for key, value in changes.items():
        if key not in base:
            raise ValueError(f"{where}: {key!r} is not a setting of this method (known: {sorted(base)})")
        if isinstance(value, dict) and isinstance(base[key], dict):
            merged[key] = merge_values(base[key], value, f"{where}.{key}")
        else:
            merged[key] = value
    return merged


def read_method_file(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping of a method file, with a clear error for a missing or malformed one.

    A file with ``base: <method>`` is that method's file with this file's values applied (e.g.
    ``sd-table4.yaml`` = ``sd.yaml`` + one learning rate), so a variant states only what differs.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"method file {path} does not exist; create it or remove the method from the study"
        )
    try:
        values = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"method file {path} is not valid YAML: {error}") from error
    if isinstance(values, dict) and "base" in values:
        base_path = path.with_name(f"{values['base']}.yaml")
        if base_path.resolve() in _seen:
            raise ValueError(f"method file {path}: 'base' chain loops back to {base_path}")
        base = read_method_file(base_path, (*_seen, path.resolve()))
        changes = {key: value for key, value in values.items() if key != "base"}
        return merge_values(base, changes, f"method file {path} (base {base_path.name})")
    if not isinstance(values, dict) or "algorithm" not in values:
        raise ValueError(f"method file {path} must be a mapping with an 'algorithm' key "
                         f"(one of {sorted(ALGORITHMS)}) or a 'base' method")
    return values


def method_from_values(name: str, values: dict[str, Any], where: str) -> Method:
    """Validate a method's mapping (``algorithm`` key + hyper-parameters) into a :class:`Method`."""
    algorithm = values.get("algorithm")
    module = algorithm_module(algorithm, where)
    hyper_parameters = {key: value for key, value in values.items() if key != "algorithm"}
    return Method(name, algorithm, module, module.build_config(hyper_parameters, where), values)


def load_method(name: str, methods_dir: str | Path = METHODS_DIR) -> Method:
    """Load and validate ``<methods_dir>/<name>.yaml``."""
    path = Path(methods_dir) / f"{name}.yaml"
    return method_from_values(name, read_method_file(path), str(path))
