"""Where and how learner work runs: ``auto`` picks CUDA when present; nothing assumes it."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> ``cuda`` if available else ``cpu``; ``cuda`` without a GPU is an error."""
    if name not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {DEVICE_CHOICES}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no GPU; use 'auto' or 'cpu'")
    return torch.device(name)


def configure_learner(threads: int) -> None:
    """The learner process's torch settings: ``threads`` CPU threads, and subnormal floats flushed to
    zero. Subnormals (below 1.2e-38) cost CPUs 10-100x per operation; a HiMeta-ST run on the pilot
    reached them in its backward passes and its update took 26 s per iteration instead of 11 s
    (docs/himeta.md). Flushing changes results only where a value would have been subnormal, and
    is deterministic."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
