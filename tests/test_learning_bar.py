"""The pilot's learning bar against hand-computed values."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.learning_bar import learning_bar


def _scores(rows):
    return pd.DataFrame(rows, columns=["method", "seed", "split", "task", "avg_success", "success", "return"])


CHANCE = pd.DataFrame({"split": ["train", "test"], "task": ["r/train", "r/test"],
                       "return_mean": [900.0, 800.0]})


def test_seed_means_against_the_random_return_and_the_success_floor():
    scores = _scores([
        ("a", 0, "test", "r/test", 0.3, 0.4, 2400.0), ("a", 1, "test", "r/test", 0.1, 0.2, 1800.0),  # 2100, 0.3
        ("b", 0, "test", "r/test", 0.2, 0.2, 1900.0), ("b", 1, "test", "r/test", 0.2, 0.2, 2100.0),  # ratio 2.5
        ("c", 0, "test", "r/test", 0.5, 0.1, 4000.0), ("c", 1, "test", "r/test", 0.5, 0.2, 4000.0),  # success .15
        ("a", 0, "train", "r/train", 0.0, 0.0, 0.0),
    ])
    bar = learning_bar(scores, CHANCE).set_index("method")
    assert bar.loc["a", "return"] == pytest.approx(2100.0) and bar.loc["a", "success"] == pytest.approx(0.3)
    assert bar.loc["a", "return_ratio"] == pytest.approx(2100 / 800) and bar.loc["a", "passes"]
    assert bar.loc["b", "return_ratio"] == pytest.approx(2.5) and bar.loc["b", "passes"]  # the bar is >=
    assert not bar.loc["c", "passes"] and bar.loc["c", "success"] == pytest.approx(0.15)
    assert (bar["seeds"] == 2).all() and (bar["random_return"] == 800.0).all()


def test_a_missing_split_in_the_chance_summary_is_an_error():
    with pytest.raises(ValueError, match="no 'test' rows"):
        learning_bar(_scores([("a", 0, "test", "r/test", 0, 0, 1.0)]), CHANCE[CHANCE["split"] == "train"])


def test_a_success_of_exactly_the_floor_passes_despite_rounding():
    fractions = [(0.2 + 0.15 + 0.25) / 3] * 2  # 0.19999999999999998 in floating point
    scores = _scores([("a", seed, "test", "r/test", 0.2, fractions[seed], 2000.0) for seed in (0, 1)])
    assert fractions[0] < 0.2 and learning_bar(scores, CHANCE)["passes"].item()
