"""The run manifest: what produced a result (code, config, packages, machine, scheduler job)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "metaworld", "mujoco", "gymnasium", "numpy", "pandas", "snakemake")


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical (sorted-keys) JSON of a resolved config."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True,
            timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_manifest(config: dict[str, Any], device: str) -> dict[str, Any]:
    """Everything needed to say where a run's numbers came from."""
    status = _git("status", "--porcelain")
    return {
        "git_commit": os.environ.get("HARNESS_GIT_COMMIT") or _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "config_hash": config_hash(config),
        "config": config,
        "packages": _versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device,
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
