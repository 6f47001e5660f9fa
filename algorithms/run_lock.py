"""One live process per run: an exclusive ``flock`` on ``<checkpoint>.lock`` for the whole job.

A second process for the same run (an orphan left by a killed Snakemake driver, a duplicate SLURM job)
would write the same checkpoint and outputs; it refuses instead, naming the holder (host, pid, SLURM
job id, start time). The lock is released by the kernel when its holder exits in any way, SIGKILL
included, so a stale lock file never blocks a rerun. ``flock`` works on local file systems and on NFSv4
and Lustre mounts with locking enabled (the default on most clusters).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another live process holds the run's lock."""


def holder_description() -> dict[str, object]:
    """Who this process is, as written into the lock file."""
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@contextmanager
def run_lock(path: Path) -> Iterator[dict[str, object]]:
    """Hold the exclusive lock on ``path`` for the ``with`` block; raises :class:`RunLockedError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 4096, 0).decode(errors="replace").strip() or "unknown holder"
            raise RunLockedError(
                f"run {path.stem} is being trained by another live process ({holder}); lock file "
                f"{path}. Wait for it, or stop it (kill the pid / scancel the job) before rerunning"
            ) from None
        me = holder_description()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(me).encode(), 0)
        yield me
    finally:
        os.close(descriptor)  # releases the lock
