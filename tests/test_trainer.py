"""The shared training loop: learning on the point robot, outputs, and resumption after a kill."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from helpers import ClippedReinforceAgent, CrashingAgent, assert_same_run, run_training

from algorithms.trainer import TrainingConfig
from envs.evaluation import EVAL_COLUMNS, EvaluationConfig
from envs.point_robot import PointRobotSuite

SUITE = PointRobotSuite(episode_length=20)


def _run(tmp_path, name, iterations, crash_at=None):
    return run_training(tmp_path, name, SUITE,
                        lambda: CrashingAgent(ClippedReinforceAgent(SUITE.spec, 0), crash_at),
                        iterations=iterations, episodes_per_task=32, eval_variants=10)


def test_training_improves_return_and_writes_every_output(tmp_path):
    paths = _run(tmp_path, "run", iterations=12)
    evaluation = pd.read_csv(paths.evaluation)
    assert list(evaluation.columns) == list(EVAL_COLUMNS)
    assert sorted(evaluation["iteration"].unique()) == [0, 3, 6, 9, 12]
    assert set(evaluation["split"]) == {"train", "test"}
    train_split = evaluation[evaluation.split == "train"].set_index("iteration")["return"]
    assert train_split[12] > train_split[0] + 1.0  # learnt to head for the semicircle of goals
    log = pd.read_csv(paths.train_log)
    assert list(log["iteration"]) == list(range(1, 13))
    assert (log["env_steps"] == log["iteration"] * 32 * 20).all()
    assert {"policy_loss", "clip_fraction", "train_avg_success"} <= set(log.columns)
    assert paths.manifest.exists() and paths.evaluation_episodes.exists()


def test_resume_after_a_kill_gives_the_numbers_of_an_uninterrupted_run(tmp_path):
    reference = _run(tmp_path, "reference", iterations=7)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "resumed", iterations=7, crash_at=5)  # dies during the 6th iteration
    assert not (tmp_path / "resumed" / "eval.csv").exists()  # no final output from a dead run
    resumed = _run(tmp_path, "resumed", iterations=7)  # fresh objects, as a new process would have
    assert_same_run(reference, resumed)
    assert json.loads(resumed.manifest.read_text())["resumes"] == 1


def test_checkpoint_of_another_configuration_or_corrupt_file_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "run", iterations=7, crash_at=3)
    with pytest.raises(RuntimeError, match="different configuration"):
        _run(tmp_path, "run", iterations=9)
    (tmp_path / "checkpoints" / "run" / "ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="ckpt.pt is unreadable.*delete it"):
        _run(tmp_path, "run", iterations=7)


def test_bad_training_config_is_rejected():
    with pytest.raises(ValueError, match="training.eval_interval"):
        TrainingConfig(iterations=1, eval_interval=0, checkpoint_interval=1,
                       evaluation=EvaluationConfig(1, 1))


def test_the_learner_flushes_subnormal_floats():
    """Subnormals cost the CPU 10-100x per operation (a HiMeta-ST pilot run's update: 26 s instead of
    11 s per iteration); the learner process flushes them to zero."""
    from algorithms.device import configure_learner

    threads = torch.get_num_threads()
    try:
        torch.set_flush_denormal(False)
        assert (torch.tensor([1e-39]) * 1.0).item() != 0.0
        configure_learner(1)
        assert torch.get_num_threads() == 1
        assert (torch.tensor([1e-39]) * 1.0).item() == 0.0
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
