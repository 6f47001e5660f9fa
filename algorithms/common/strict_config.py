"""Strict construction of a method's config dataclass from its YAML mapping (every method uses it).

An unknown key, a missing key, a section that is not a mapping, or a value of the wrong type raises
``ValueError`` naming the method, the key and where it was found (``file`` or ``file.section``), so a
typo never falls back to a default silently and a wrong type never reaches a training job. Types are
the dataclass fields' annotations: ``int`` (not ``bool``, not ``2.5``), ``float`` (an integer is
accepted and converted), ``bool`` (only ``true``/``false``: YAML's ``"no"`` in quotes is a string and
refused), ``str``, ``Literal[...]``, ``tuple[T, ...]``/``tuple[T1, T2]`` (from YAML lists) and
``T | None``. A ``ValueError`` raised by the dataclass's own range checks is re-raised with the file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

ConfigT = TypeVar("ConfigT")


class _WrongType(ValueError):
    """A value does not match its declared type (the message says what was expected)."""


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(option) for option in typing.get_args(annotation))
    if origin is tuple:
        return "a list"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def coerce(value: Any, annotation: Any) -> Any:
    """``value`` checked against ``annotation`` (ints widened to float, lists to tuples).

    Raises ``_WrongType`` when it does not fit.
    """
    origin = typing.get_origin(annotation)
    if origin is Literal:
        if any(value == option and type(value) is type(option) for option in typing.get_args(annotation)):
            return value
    elif origin in (Union, types.UnionType):
        for option in typing.get_args(annotation):
            try:
                return coerce(value, option)
            except _WrongType:
                continue
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            arguments = typing.get_args(annotation)
            if len(arguments) == 2 and arguments[1] is Ellipsis:
                return tuple(coerce(item, arguments[0]) for item in value)
            if len(arguments) == len(value):
                return tuple(coerce(item, kind) for item, kind in zip(value, arguments))
    elif annotation is type(None):
        if value is None:
            return None
    elif annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        return value  # a type this builder does not check (the dataclass validates it)
    raise _WrongType(f"expected {_describe(annotation)}, got {value!r} ({type(value).__name__})")


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
    annotations = typing.get_type_hints(cls)
    converted = {}
    for name, value in values.items():
        if sections and name in sections:
            converted[name] = build_strict(sections[name], value, f"{where}.{name}", method)
            continue
        try:
            converted[name] = coerce(value, annotations[name])
        except _WrongType as error:
            raise ValueError(f"{method} setting {name!r} in {where}: {error}") from None
    try:
        return cls(**converted)
    except ValueError as error:
        raise ValueError(f"{error} (in {where})") from error
