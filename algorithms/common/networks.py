"""Network builders shared by every method, so that architectures differ only where papers differ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

OutputInit = Literal["small", "xavier"]
"""How :func:`mlp` initialises its output layer: ``"small"`` (uniform in +-3e-3) for policy, value
and decoder heads that should start near zero; ``"xavier"`` (like the hidden layers) for embeddings
and any layer whose output feeds further learned layers, where a near-zero output would hide the
input from everything downstream."""

SMALL_OUTPUT_INIT = 3e-3


def mlp(
    input_dim: int,
    hidden_sizes: Sequence[int],
    output_dim: int,
    activation: type[nn.Module] = nn.Tanh,
    dropout: float = 0.0,
    output_activation: type[nn.Module] | None = None,
    *,
    output_init: OutputInit,
) -> nn.Sequential:
    """``Linear -> activation [-> Dropout]`` per hidden size, then a ``Linear`` to ``output_dim``.

    Hidden layers are Xavier-uniform initialised with zero bias; the output layer as ``output_init``
    says (every caller chooses: see :data:`OutputInit`).
    """
    layers: list[nn.Module] = []
    width = input_dim
    for size in hidden_sizes:
        layers += [_xavier(nn.Linear(width, size)), activation()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    head = nn.Linear(width, output_dim)
    if output_init == "small":
        nn.init.uniform_(head.weight, -SMALL_OUTPUT_INIT, SMALL_OUTPUT_INIT)
        nn.init.uniform_(head.bias, -SMALL_OUTPUT_INIT, SMALL_OUTPUT_INIT)
    elif output_init == "xavier":
        _xavier(head)
    else:
        raise ValueError(f"output_init must be 'small' or 'xavier', got {output_init!r}")
    layers.append(head)
    if output_activation is not None:
        layers.append(output_activation())
    return nn.Sequential(*layers)


def _xavier(linear: nn.Linear) -> nn.Linear:
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


def soft_clip(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``tanh((x - c) / h) * h + c`` with ``c = (low + high) / 2``, ``h = (high - low) / 2``: ``x`` into
    ``(low, high)`` smoothly, the identity near ``c``; unlike a clamp it never cuts the gradient."""
    if not low < high:
        raise ValueError(f"soft_clip needs low < high, got ({low}, {high})")
    centre, half = (low + high) / 2, (high - low) / 2
    return torch.tanh((x - centre) / half) * half + centre
