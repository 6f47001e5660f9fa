"""Network builders shared by every method, so that architectures differ only where papers differ."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(
    input_dim: int,
    hidden_sizes: Sequence[int],
    output_dim: int,
    activation: type[nn.Module] = nn.Tanh,
    dropout: float = 0.0,
    output_activation: type[nn.Module] | None = None,
) -> nn.Sequential:
    """``Linear -> activation [-> Dropout]`` per hidden size, then a ``Linear`` to ``output_dim``.

    Hidden layers are Xavier-uniform initialised with zero bias; the output layer is scaled down
    (uniform in +-3e-3) so that heads start near zero, the usual choice for policy and value heads.
    """
    layers: list[nn.Module] = []
    width = input_dim
    for size in hidden_sizes:
        linear = nn.Linear(width, size)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    head = nn.Linear(width, output_dim)
    nn.init.uniform_(head.weight, -3e-3, 3e-3)
    nn.init.uniform_(head.bias, -3e-3, 3e-3)
    layers.append(head)
    if output_activation is not None:
        layers.append(output_activation())
    return nn.Sequential(*layers)
