"""Stopping a training job early, cleanly: on SIGTERM/SIGUSR1 or before the SLURM time limit.

SLURM sends SIGTERM when a job is preempted or reaches its time limit (then SIGKILL after the
cluster's ``KillWait``, 30 s by default), and any signal asked for with ``sbatch --signal``. A training
job catches SIGTERM and SIGUSR1 and stops at the next safe point: after the iteration (or evaluation) in
progress, with a checkpoint, so the retry resumes exactly there. Because an iteration can take longer
than ``KillWait``, the job also reads its own time limit when it starts (``scontrol show job``, or
``$HARNESS_STOP_AT`` as a Unix time, e.g. for tests or other schedulers) and stops before an iteration
that would not finish in time, leaving :data:`STOP_MARGIN_S` for the checkpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import datetime

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
STOP_MARGIN_S = 120.0
"""Seconds kept free before the time limit for writing the checkpoint and exiting."""


class TrainingStopped(RuntimeError):
    """Training stopped early after writing a checkpoint; rerunning the job resumes it."""


def slurm_end_time(job_id: str | None = None) -> float | None:
    """The Unix time at which SLURM ends this job, or None when unknown/unlimited/not under SLURM."""
    job_id = job_id or os.environ.get("SLURM_JOB_ID")
    if not job_id:
        return None
    try:
        shown = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True,
                               timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for field in shown.split():
        if field.startswith("EndTime="):
            try:
                return datetime.fromisoformat(field.removeprefix("EndTime=")).timestamp()
            except ValueError:
                return None  # "Unknown" (no time limit)
    return None


class StopRequests:
    """Collects stop requests (signals) and the deadline; the trainer asks it at every safe point.

    Args:
        deadline: Unix time by which the job must have exited (default: ``$HARNESS_STOP_AT``, else the
            SLURM job's end time, else none).
        install_handlers: catch SIGTERM/SIGUSR1 (only possible in the main thread).
    """

    def __init__(self, deadline: float | None = None, install_handlers: bool = True) -> None:
        if deadline is None and os.environ.get("HARNESS_STOP_AT"):
            deadline = float(os.environ["HARNESS_STOP_AT"])
        self.deadline = deadline if deadline is not None else slurm_end_time()
        self.signal_name: str | None = None
        if install_handlers and threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                signal.signal(number, self._on_signal)

    def _on_signal(self, number: int, _frame) -> None:
        self.signal_name = signal.Signals(number).name

    def reason(self, next_step_s: float) -> str | None:
        """Why to stop now rather than run a step of ``next_step_s`` seconds, or None to go on."""
        if self.signal_name:
            return f"received {self.signal_name}"
        if self.deadline is not None and time.time() + next_step_s + STOP_MARGIN_S > self.deadline:
            left = self.deadline - time.time()
            return (f"the time limit is {left:.0f} s away and the next iteration takes ~{next_step_s:.0f} s "
                    f"(+{STOP_MARGIN_S:.0f} s margin)")
        return None
