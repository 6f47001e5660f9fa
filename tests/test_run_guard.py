"""One live process per run (the run lock) and stopping before a time limit (StopRequests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from algorithms.run_lock import RunLockedError, run_lock
from algorithms.stopping import STOP_MARGIN_S, StopRequests

REPO = Path(__file__).resolve().parents[1]
HOLD = """
import sys, time
from pathlib import Path
from algorithms.run_lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_process_refuses_a_held_run_naming_the_holder(tmp_path):
    lock = tmp_path / "checkpoints" / "sd" / "seed_0" / "0123456789ab.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO,
                              env={**os.environ, "SLURM_JOB_ID": "4242"})
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read() if holder.poll() else ""
        with pytest.raises(RunLockedError, match=rf"another live process .*\"pid\": {holder.pid}.*\"slurm_job_id\": \"4242\""):
            with run_lock(lock):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel released the lock of the killed holder: no stale lock blocks the rerun
    with run_lock(lock) as me:
        assert json.loads(lock.read_text())["pid"] == me["pid"] == os.getpid()


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    lock = tmp_path / "run.lock"
    with run_lock(lock):
        with pytest.raises(RunLockedError):
            with run_lock(lock):
                pass


def test_stop_requests_follow_signals_and_the_deadline():
    far = StopRequests(deadline=time.time() + 3600, install_handlers=False)
    assert far.reason(next_step_s=60) is None
    close = StopRequests(deadline=time.time() + STOP_MARGIN_S + 30, install_handlers=False)
    assert close.reason(next_step_s=5) is None
    assert "time limit" in close.reason(next_step_s=60)
    unlimited = StopRequests(deadline=None, install_handlers=False)
    assert unlimited.deadline is None and unlimited.reason(next_step_s=1e9) is None


def test_sigusr1_and_sigterm_ask_to_stop():
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGUSR1)}
    try:
        for number in (signal.SIGUSR1, signal.SIGTERM):
            stop = StopRequests(deadline=None)
            assert stop.reason(0) is None
            os.kill(os.getpid(), number)
            assert stop.reason(0) == f"received {signal.Signals(number).name}"
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_the_deadline_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("HARNESS_STOP_AT", str(time.time() + 10))
    assert "time limit" in StopRequests(install_handlers=False).reason(next_step_s=1)


def test_a_training_job_stops_before_its_deadline_with_a_checkpoint(tmp_path, monkeypatch):
    """run_training_job on real ML10 (short episodes): a deadline too close for the next iteration stops it
    after the first with a checkpoint; the rerun resumes and finishes; the log holds both attempts."""
    from algorithms.registry import load_method
    from algorithms.stopping import TrainingStopped
    from algorithms.run_job import run_training_job
    from study.jobs import TrainingJob

    method = load_method("himeta-cd")
    job = TrainingJob(
        method="himeta-cd", method_values={**method.values, "him_updates": 1}, seed=0, benchmark="ml10",
        benchmark_seed=0, episode_length=10, task_sampling="per_iteration",
        training={"iterations": 3, "episodes_per_task": 1, "trials_per_class": 1, "eval_interval": 3,
                  "checkpoint_interval": 10},
        evaluation={"variants_per_class": 1, "episodes_per_variant": 1, "scored_episodes": "all",
                    "actions": "deterministic"},
        sampler={"max_slots": 50, "pipeline_groups": 2}, device="cpu",
    )
    roots = tmp_path / "results", tmp_path / "checkpoints", tmp_path / "logs"
    soon = StopRequests(deadline=time.time() + STOP_MARGIN_S + 0.5, install_handlers=False)
    with pytest.raises(TrainingStopped, match="stopped after iteration 1: the time limit"):
        run_training_job(job, *roots, num_workers=1, stop=soon)
    assert job.checkpoint(roots[1]).exists() and not (job.run_dir(roots[0]) / "eval.csv").exists()
    run_training_job(job, *roots, num_workers=1, stop=StopRequests(deadline=None, install_handlers=False))
    log = job.log(roots[2]).read_text()
    assert log.count("===== attempt") == 2 and "resuming from" in log and "after iteration 1" in log
    assert (job.run_dir(roots[0]) / "eval.csv").exists()
