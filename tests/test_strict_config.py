"""The strict config builder every method's loader uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from algorithms.common.strict_config import build_strict


@dataclass(frozen=True)
class Inner:
    width: int

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")


@dataclass(frozen=True)
class Outer:
    rate: float
    sizes: tuple[int, ...]
    inner: Inner
    flag: bool = False


def test_builds_nested_sections_turns_lists_into_tuples_and_ignores_the_algorithm_key():
    config = build_strict(Outer, {"algorithm": "x", "rate": 0.1, "sizes": [1, 2], "inner": {"width": 3}},
                          "m.yaml", "X", {"inner": Inner})
    assert config == Outer(0.1, (1, 2), Inner(3))


@pytest.mark.parametrize("values, message", [
    ({"rate": 0.1, "sizes": [], "inner": {"width": 3}, "rte": 1}, r"unknown X setting\(s\) \['rte'\] in m.yaml;"),
    ({"sizes": [], "inner": {"width": 3}}, r"missing X setting\(s\) \['rate'\] in m.yaml"),
    ({"rate": 0.1, "sizes": [], "inner": {"wdth": 3}}, r"unknown X setting\(s\) \['wdth'\] in m.yaml.inner"),
    ({"rate": 0.1, "sizes": [], "inner": 3}, r"X settings in m.yaml.inner must be a mapping, got int"),
    ({"rate": 0.1, "sizes": [], "inner": {"width": 0}}, r"width must be >= 1, got 0 \(in m.yaml.inner\)"),
])
def test_errors_name_the_method_the_key_and_the_file(values, message):
    with pytest.raises(ValueError, match=message):
        build_strict(Outer, values, "m.yaml", "X", {"inner": Inner})


@dataclass(frozen=True)
class Typed:
    updates: int
    gamma: float
    normalise: bool
    mode: Literal["a", "b"]
    sizes: tuple[int, ...]
    cap: float | None = None


TYPED = {"updates": 2, "gamma": 0.99, "normalise": True, "mode": "a", "sizes": [4, 4]}


@pytest.mark.parametrize("key, value, expected", [
    ("updates", "two", r"'updates' in m.yaml: expected an integer, got 'two' \(str\)"),
    ("updates", 2.5, r"'updates' in m.yaml: expected an integer, got 2.5 \(float\)"),
    ("updates", True, r"'updates' in m.yaml: expected an integer, got True \(bool\)"),
    ("gamma", "0.99", r"'gamma' in m.yaml: expected a number, got '0.99' \(str\)"),
    ("normalise", "no", r"'normalise' in m.yaml: expected true or false, got 'no' \(str\)"),
    ("mode", "c", r"'mode' in m.yaml: expected one of 'a', 'b', got 'c'"),
    ("sizes", [4, "4"], r"'sizes' in m.yaml: expected an integer, got '4'"),
    ("sizes", 4, r"'sizes' in m.yaml: expected a list, got 4"),
    ("cap", "1", r"'cap' in m.yaml: expected a number or null, got '1'"),
])
def test_every_value_is_checked_against_its_declared_type(key, value, expected):
    with pytest.raises(ValueError, match=expected):
        build_strict(Typed, {**TYPED, key: value}, "m.yaml", "X")


def test_integers_widen_to_floats_and_none_fits_an_optional():
    config = build_strict(Typed, {**TYPED, "gamma": 1, "cap": None}, "m.yaml", "X")
    assert config.gamma == 1.0 and isinstance(config.gamma, float) and config.cap is None
    assert build_strict(Typed, {**TYPED, "cap": 3}, "m.yaml", "X").cap == 3.0
