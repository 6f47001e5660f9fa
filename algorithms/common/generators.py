"""Checkpointing torch random generators together with the device they draw on.

A CPU generator's state and a CUDA generator's state are different objects (the Mersenne Twister's
5 KB against a seed and an offset), so a run started on one device cannot continue the same streams
on the other. :func:`restore_generator` says so, naming the fix, instead of failing inside torch.
"""

from __future__ import annotations

import torch


def generator_state(generator: torch.Generator) -> dict:
    """The generator's state and the device type it belongs to."""
    return {"device": generator.device.type, "state": generator.get_state()}


CPU_STATE_BYTES = 5056
"""Size of a CPU (Mersenne Twister) generator state; a CUDA generator's is 16 bytes (seed, offset)."""


def restore_generator(generator: torch.Generator, saved: dict | torch.Tensor, name: str) -> None:
    """Set ``generator`` to ``saved`` (from :func:`generator_state`), refusing another device type.

    A bare state tensor (checkpoints written before the device was recorded) is recognised by its
    size: a CPU state is :data:`CPU_STATE_BYTES` long, a CUDA one is not.
    """
    if isinstance(saved, torch.Tensor):
        saved = {"device": "cpu" if saved.numel() == CPU_STATE_BYTES else "cuda", "state": saved}
    if saved["device"] != generator.device.type:
        raise ValueError(
            f"the checkpoint's {name} random stream was drawn on {saved['device']}, this agent's is on "
            f"{generator.device.type}: resume on a {saved['device']} device (set the study's 'device' to "
            f"{saved['device']!r} for this run) or delete the checkpoint to start the run again"
        )
    generator.set_state(saved["state"])
