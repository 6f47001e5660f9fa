"""Reading and validating a study config: the one path the Snakefile and ``python -m analysis`` share.

The config a user names is the whole config: nothing is merged under it (``config/config.yaml`` is the
default only when no config is given). Validation happens before any job is planned and stops at the
first problem with a message naming the file, the key and the fix:

* YAML syntax: the file and the line;
* the study schema ``workflow/schemas/config.schema.yaml`` (types, ranges, unknown keys), whose
  defaults are filled in;
* the benchmark name (``ml10``, ``ml45``, ``ml1:<class>``; an unknown class lists the known ones);
* the protocol: ``task_sampling`` against trials and evaluation variants per class, and
  ``evaluation.scored_episodes`` against the trial length;
* every method file plus the study's ``overrides``, through the method's strict loader (every value
  against its declared type): done once, by :func:`study.plan.plan_study`, which every caller runs
  right after this module's checks and before any job exists.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "config" / "config.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


class StudyConfigError(ValueError):
    """A study config (or a method file it names) is malformed; the message says where and how to fix it."""


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML file; a syntax error names the file and the line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise StudyConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise StudyConfigError(f"{path}:{line}: not valid YAML ({error.problem or error})") from None
    except yaml.YAMLError as error:
        raise StudyConfigError(f"{path}: not valid YAML ({error})") from None


def validate_schema(config: Any, where: str) -> dict[str, Any]:
    """``config`` checked against the study schema, with the schema's defaults filled in (a copy)."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    if not isinstance(config, dict):
        raise StudyConfigError(f"{where}: a study config must be a mapping, got {type(config).__name__}")
    checked = copy.deepcopy(config)
    try:
        validate(checked, str(SCHEMA), set_default=True)
    except WorkflowError as error:
        raise StudyConfigError(f"{where}: {_schema_message(error)}") from None
    return checked


def _schema_message(error: Exception) -> str:
    """The useful lines of Snakemake's schema error (what failed and at which key)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    failing = next((line for line in lines if "Failed validating" in line), None)
    where = next((line for line in lines if line.startswith("On instance")), "")
    first = lines[1] if len(lines) > 1 else (lines[0] if lines else str(error))
    return f"{first} ({failing or ''} {where})".replace("( ", "(").replace(" )", ")")


def load_study_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate the study config at ``path`` (default ``config/config.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    return validate_study(read_yaml(path), str(path))


def validate_study(config: Any, where: str) -> dict[str, Any]:
    """Schema + benchmark; returns the config with defaults filled in (methods: study.plan.plan_study)."""
    checked = validate_schema(_command_line_seeds(config), where)
    _check_benchmark(checked["benchmark"], where)
    _check_protocol(checked, where)
    return checked


def _command_line_seeds(config: Any) -> Any:
    """``config`` with whole-number seed strings as integers: ``snakemake --config 'seeds=[0, 1]'``
    hands list items over as strings (Snakemake reads list values with YAML's base loader). Anything
    else is left for the schema to refuse by name."""
    if not isinstance(config, dict) or not isinstance(config.get("seeds"), list):
        return config
    seeds = [int(seed) if isinstance(seed, str) and seed.strip().lstrip("-").isdigit() else seed
             for seed in config["seeds"]]
    return {**config, "seeds": seeds}


def _check_protocol(config: dict[str, Any], where: str) -> None:
    from envs.schedule import check_task_sampling

    try:
        check_task_sampling(config["task_sampling"], config["training"]["trials_per_class"],
                            config["evaluation"]["variants_per_class"])
    except ValueError as error:
        raise StudyConfigError(f"{where}: {error}") from None
    scored = config["evaluation"]["scored_episodes"]
    if isinstance(scored, int) and scored > config["evaluation"]["episodes_per_variant"]:
        raise StudyConfigError(
            f"{where}: evaluation.scored_episodes {scored} exceeds evaluation.episodes_per_variant "
            f"({config['evaluation']['episodes_per_variant']}): the last scored_episodes episodes of each "
            "trial are scored; lower it or lengthen the trials"
        )


def _check_benchmark(name: str, where: str) -> None:
    from envs.benchmarks import benchmark_tasks

    try:
        benchmark_tasks(name)
    except ValueError as error:
        raise StudyConfigError(f"{where}: benchmark: {error}") from None
