"""A validated study config -> its jobs: one training job per (method, seed), one chance job per seed.

The Snakefile builds its rules from :func:`plan_study`, and ``python -m analysis`` finds a study's runs
through it, so both always agree on which folder holds which run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algorithms.registry import METHODS_DIR, merge_values, method_from_values, read_method_file
from study.config import StudyConfigError
from study.jobs import ChanceJob, TrainingJob

TRAINING_KEYS = ("iterations", "episodes_per_task", "trials_per_class", "eval_interval", "checkpoint_interval")
SAMPLER_KEYS = ("max_slots", "pipeline_groups")
"""The sampler settings that change the numbers (the worker count never does)."""


def _method_values(name: str, overrides: dict[str, Any], where: str,
                   episodes_per_task: int | None = None) -> dict[str, Any]:
    """The method file + overrides, validated (and checked against the protocol when it is given)."""
    path = METHODS_DIR / f"{name}.yaml"
    source = f"{path} (+ overrides.{name} in {where})"
    try:
        values = merge_values(read_method_file(path), overrides, f"overrides.{name}")
        method = method_from_values(name, values, source)
        if episodes_per_task is not None:
            method.check_protocol(episodes_per_task, source)
    except (ValueError, FileNotFoundError) as error:
        raise StudyConfigError(str(error)) from None
    return values


def unused_overrides(config: dict[str, Any]) -> list[str]:
    """Methods with overrides that are not in the study (e.g. ``make pilot METHODS=sd``)."""
    return sorted(set(config.get("overrides") or {}) - set(config["methods"]))


def study_methods(config: dict[str, Any], where: str = "config") -> dict[str, dict[str, Any]]:
    """Every study method's values (method file + this study's overrides), validated strictly.

    Overrides of a method outside the study are validated too (so a typo never waits for the day
    the method joins the study); one that names no method file is refused.
    """
    overrides = config.get("overrides") or {}
    missing = sorted(name for name in unused_overrides(config) if not (METHODS_DIR / f"{name}.yaml").is_file())
    if missing:
        raise StudyConfigError(
            f"{where}: overrides name methods that do not exist: {missing} (no config/methods/<name>.yaml; "
            f"the study's methods: {config['methods']})"
        )
    for name in unused_overrides(config):
        _method_values(name, overrides[name], where)
    episodes = config["training"]["episodes_per_task"]
    return {name: _method_values(name, overrides.get(name, {}), where, episodes) for name in config["methods"]}


@dataclass(frozen=True)
class StudyPlan:
    """A study's validated config and jobs: ``training[(method, seed)]`` and ``chance[seed]``."""

    config: dict[str, Any]
    methods: dict[str, dict[str, Any]]
    training: dict[tuple[str, int], TrainingJob]
    chance: dict[int, ChanceJob]

    @property
    def study(self) -> str:
        return self.config["study"]


def plan_study(config: dict[str, Any], where: str = "config") -> StudyPlan:
    """The jobs of a config already checked by :func:`study.config.validate_study`; validates every
    method file plus overrides on the way (raises :class:`StudyConfigError`)."""
    methods = study_methods(config, where)
    shared = {
        "benchmark": config["benchmark"],
        "benchmark_seed": config["benchmark_seed"],
        "episode_length": config["episode_length"],
        "task_sampling": config["task_sampling"],
        "evaluation": dict(config["evaluation"]),
        "sampler": {key: config["sampler"][key] for key in SAMPLER_KEYS},
    }
    training = {
        (method, seed): TrainingJob(
            method=method, method_values=values, seed=seed,
            training={key: config["training"][key] for key in TRAINING_KEYS},
            device=config["device"], learner_threads=config["learner_threads"], **shared,
        )
        for method, values in methods.items() for seed in config["seeds"]
    }
    chance = {seed: ChanceJob(seed=seed, **shared) for seed in config["seeds"]}
    return StudyPlan(config=config, methods=methods, training=training, chance=chance)
