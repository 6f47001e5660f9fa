"""The strict config builder every method's loader uses."""

from __future__ import annotations

from dataclasses import dataclass

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
