"""SD's closed-form ELBO pieces (sd-reference.md section 2, "ELBO / loss").

The categorical term and the occupancy regulariser are the same closed forms HiMeta's eqs. (7)-(8)
take over from SD, so they have one implementation, in ``algorithms/himeta/equations.py``:

* ``categorical_kl_to_uniform(logits) = KL(q(y | h) || U_K) = sum_k q_k log q_k + log K`` per step;
* ``occupancy_regularizer(y) = sum_k c_k y_k`` with ``c_k = log K * e^{k - K}``, ``k = 1..K``
  (reference ``occ_loss_type='exp'``), on the Gumbel-softmax *sample* ``y``: later sub-tasks cost more.
"""

from __future__ import annotations

import math

import torch

from algorithms.himeta.equations import categorical_entropy_regularizer as categorical_kl_to_uniform
from algorithms.himeta.equations import occupancy_loss

VARIANCE_EPS = 1e-8
"""Added to both variances inside the Gaussian log-densities (reference)."""


def occupancy_regularizer(y: torch.Tensor) -> torch.Tensor:
    """``sum_k log K * e^{k - K} * y_k`` per step for relaxed one-hot ``y [..., K]`` (reference 'exp')."""
    return occupancy_loss(y, sign=1.0)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """``log N(x; mean, var + 1e-8)`` summed over the last (latent) axis."""
    var = var + VARIANCE_EPS
    return -0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mean).pow(2) / var).sum(-1)


def gaussian_kl_estimate(z, mean, var, prior_mean, prior_var) -> torch.Tensor:
    """Single-sample KL estimate ``log q(z | h, y) - log p(z | y)`` at the encoder's own sample ``z``."""
    return gaussian_log_density(z, mean, var) - gaussian_log_density(z, prior_mean, prior_var)


__all__ = ["categorical_kl_to_uniform", "occupancy_regularizer", "gaussian_log_density",
           "gaussian_kl_estimate"]
