"""A copy of an agent that holds only what acting reads, on the CPU: what sampler workers act with.

Under ``sampler.acting: workers`` (:mod:`envs.sampler`) the policy is pickled to every worker once per
collection chunk. Pickling the agent itself would ship its replay buffer and optimisers; a replica is an
instance of the agent's class (so the acting code is the same code) built without ``__init__`` and
given only the named attributes, with torch modules and normalisers copied to the CPU where they live
on another device.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from itertools import chain
from typing import Any, TypeVar

import torch
from torch import nn

from algorithms.common.normalization import RunningNormalizer

CPU = torch.device("cpu")
Agent = TypeVar("Agent")


def on_cpu(value: Any) -> Any:
    """``value`` itself when it is already on the CPU (or holds no tensors), else a CPU copy of it;
    the agent's own objects are never moved."""
    if isinstance(value, nn.Module):
        tensors = chain(value.parameters(), value.buffers())
        return value if all(t.device == CPU for t in tensors) else copy.deepcopy(value).to(CPU)
    if isinstance(value, RunningNormalizer):
        return value if value.device == CPU else value.on_device(CPU)
    if isinstance(value, dict):
        return {key: on_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [on_cpu(item) for item in value]
    return value


def acting_replica(source: Agent, attributes: Iterable[str], **replaced: Any) -> Agent:
    """An instance of ``type(source)`` with ``source``'s ``attributes`` (on the CPU), the ``replaced``
    values, and ``device`` set to the CPU. Anything else the acting code reads is missing, so a
    forgotten attribute fails loudly (``AttributeError``) the first time a worker acts."""
    replica = object.__new__(type(source))
    for name in attributes:
        setattr(replica, name, on_cpu(getattr(source, name)))
    for name, value in replaced.items():
        setattr(replica, name, value)
    replica.device = CPU
    return replica
