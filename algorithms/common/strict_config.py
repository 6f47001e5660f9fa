"""Strict construction of a method's config dataclass from its YAML mapping (every method uses it).

An unknown key, a missing key or a section that is not a mapping raises ``ValueError`` naming the
method, the key and where it was found (``file`` or ``file.section``), so a typo never falls back to
a default silently. Lists become tuples (the dataclasses are frozen and hashable); a ``ValueError``
raised by the dataclass's own range checks is re-raised with the file name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

ConfigT = TypeVar("ConfigT")


def build_strict(cls: type[ConfigT], values: Any, where: str, method: str,
                 sections: Mapping[str, type] | None = None) -> ConfigT:
    """``cls(**values)`` with exactly ``cls``'s fields; ``sections`` maps a field to its nested dataclass.

    Args:
        cls: the config dataclass.
        values: the mapping read from YAML (an ``algorithm`` key is dropped at the top level).
        where: the file (and section) the values came from, for error messages.
        method: the method's display name in error messages ("PEARL", "SD", ...).
        sections: nested dataclasses by field name (built strictly as well).
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"{method} settings in {where} must be a mapping, got {type(values).__name__}")
    values = {key: value for key, value in values.items() if key != "algorithm"}
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown {method} setting(s) {unknown} in {where}; known: {sorted(fields)}")
    missing = sorted(name for name, field in fields.items() if name not in values
                     and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING)
    if missing:
        raise ValueError(f"missing {method} setting(s) {missing} in {where}")
    converted = {}
    for name, value in values.items():
        if sections and name in sections:
            value = build_strict(sections[name], value, f"{where}.{name}", method)
        elif isinstance(value, list):
            value = tuple(value)
        converted[name] = value
    try:
        return cls(**converted)
    except ValueError as error:
        raise ValueError(f"{error} (in {where})") from error
