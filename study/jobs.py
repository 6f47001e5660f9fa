"""The jobs of a study, each with every setting its numbers depend on, and the id its settings hash gives.

A job's id (the first 12 hex digits of the SHA-256 of its resolved settings) names its result folder
and its checkpoint, so two studies that ask for the same cell with the same settings share one run,
and a study with other settings gets a folder of its own: no study can overwrite or delete another's
runs. Reading this module needs neither torch nor MetaWorld.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from algorithms.manifest import config_hash

RUN_ID_LENGTH = 12
RESULTS = Path("results")
RUN_FILES: tuple[str, ...] = ("eval.csv", "eval_episodes.csv", "train_log.csv", "manifest.json")
CHANCE_FILES: tuple[str, ...] = ("eval.csv", "eval_episodes.csv")


@dataclass(frozen=True)
class TrainingJob:
    """A (method, seed) cell of a study with every setting that influences its numbers.

    ``training`` holds ``iterations, episodes_per_task, trials_per_class, eval_interval,
    checkpoint_interval``; ``task_sampling`` the schedule's protocol
    (:class:`envs.schedule.TaskSchedule`); ``evaluation`` the :class:`envs.evaluation.EvaluationConfig` fields;
    ``sampler`` ``max_slots`` and ``pipeline_groups`` (the worker count is not here: it never changes
    the numbers). ``learner_threads`` is torch's CPU thread count for the learner: with more than one,
    torch's parallel reductions make repeated runs differ in the last digits, so 1 is the reproducible
    default. The study's name is not here either: a run belongs to every study that asks for the same
    cell with the same settings.
    """

    method: str
    method_values: dict[str, Any]
    seed: int
    benchmark: str
    benchmark_seed: int
    episode_length: int
    task_sampling: str
    training: dict[str, int]
    evaluation: dict[str, Any]
    sampler: dict[str, int]
    device: str
    learner_threads: int = 1

    def resolved(self) -> dict[str, Any]:
        """The JSON-able settings recorded in the manifest (and hashed)."""
        return {"algorithm": self.method_values.get("algorithm"), **asdict(self)}

    @property
    def config_hash(self) -> str:
        return config_hash(self.resolved())

    @property
    def run_id(self) -> str:
        return self.config_hash[:RUN_ID_LENGTH]

    def run_dir(self, results: Path = RESULTS) -> Path:
        """``results/runs/<method>/seed_<seed>/<run id>``: the run's declared outputs."""
        return Path(results) / "runs" / self.method / f"seed_{self.seed}" / self.run_id

    def checkpoint(self, root: Path = Path("checkpoints")) -> Path:
        """``checkpoints/<method>/seed_<seed>/<run id>.pt``: outside every declared output."""
        return Path(root) / self.method / f"seed_{self.seed}" / f"{self.run_id}.pt"

    def log(self, root: Path = Path("logs")) -> Path:
        """``logs/train/<method>/seed_<seed>/<run id>.log``: every attempt, appended."""
        return Path(root) / "train" / self.method / f"seed_{self.seed}" / f"{self.run_id}.log"

    def metaworld_scores(self, settings: dict[str, Any], results: Path = RESULTS) -> Path:
        """``<run dir>/metaworld_<id>.csv``: the run scored by MetaWorld's evaluation with
        ``settings`` (the study's ``metaworld_evaluation``), the id hashing them."""
        scoring = {key: value for key, value in settings.items() if key != "enabled"}
        return self.run_dir(results) / f"metaworld_{config_hash(scoring)[:RUN_ID_LENGTH]}.csv"


@dataclass(frozen=True)
class ChanceJob:
    """The uniform random policy evaluated under a study's evaluation protocol for one run seed."""

    seed: int
    benchmark: str
    benchmark_seed: int
    episode_length: int
    task_sampling: str
    evaluation: dict[str, Any]
    sampler: dict[str, int]

    def protocol(self) -> dict[str, Any]:
        """Every setting but the seed: the seeds of one study share it (and one summary)."""
        return {key: value for key, value in asdict(self).items() if key != "seed"}

    @property
    def protocol_id(self) -> str:
        return config_hash(self.protocol())[:RUN_ID_LENGTH]

    def protocol_dir(self, results: Path = RESULTS) -> Path:
        return Path(results) / "random" / self.protocol_id

    def run_dir(self, results: Path = RESULTS) -> Path:
        """``results/random/<protocol id>/seed_<seed>``."""
        return self.protocol_dir(results) / f"seed_{self.seed}"
