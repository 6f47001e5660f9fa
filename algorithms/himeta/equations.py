"""HiMeta's closed-form pieces, each with the equation of the paper it implements.

Where the printed equation and the surrounding text (or the reference code) disagree, the choice and
the reason are in docs/himeta.md; the consequential ones take a switch.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def categorical_entropy_regularizer(logits: torch.Tensor) -> torch.Tensor:
    """Eq. (7) with a uniform prior p(y) = 1/K, in closed form: ``KL(phi_y(.|h_t) || U_K)`` per step.

    ``= sum_k phi_k log(phi_k / (1/K)) = log K - H(phi)``, in ``[0, log K]``. The paper prints the
    ratio as ``log p(y)/phi(y|h)``; minimised under eq. (9) that would *sharpen* phi, against the
    text ("encourage exploration of representations") and against the stated upper bound ``log K``
    that eq. (8) is scaled by, both of which hold for the form used here. The closed form is the
    expectation of the per-sample expression over y ~ phi (no sampling noise; with a relaxed
    Gumbel-softmax sample the density at the sample is not defined anyway).
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return math.log(logits.shape[-1]) - entropy


def occupancy_weights(num_categories: int) -> torch.Tensor:
    """Eq. (8)'s ``e = [e^{-K+1}, ..., e^{-1}, e^0]`` scaled by ``log K``."""
    exponents = torch.arange(1 - num_categories, 1, dtype=torch.float32)
    return exponents.exp() * math.log(num_categories)


def occupancy_loss(y: torch.Tensor, sign: float = 1.0) -> torch.Tensor:
    """Eq. (8): ``sign * (e^T y_t) log K`` per step, for relaxed one-hot ``y`` of shape ``[..., K]``.

    ``sign = +1`` (default) penalises probability on later categories, so a new category is used only
    when it pays for itself in the value loss (the text: "penalizing allocations if it is not
    worthwhile"; SD's occupancy regulariser it cites; the reference code). The printed eq. (8) has a
    leading minus, which minimised would *reward* occupying the last category; ``sign = -1`` gives it.
    """
    return sign * (y * occupancy_weights(y.shape[-1]).to(y)).sum(-1)


def intrinsic_reward(extrinsic: np.ndarray, macro_action: np.ndarray, action: np.ndarray) -> np.ndarray:
    """Eq. (16): ``r_in = r_ext * (1/|A|) sum_d I[sgn(z_d) = sgn(a_d)]``.

    ``sgn`` is the sign function (``sgn(0) = 0``), so an exact zero agrees only with a zero; the
    reference code's ``a * z >= 0`` counts any zero as agreement. Shapes: ``extrinsic [...]``,
    ``macro_action`` and ``action [..., |A|]``.
    """
    agreement = (np.sign(macro_action) == np.sign(action)).mean(axis=-1)
    return extrinsic * agreement


def shaped_reward(reward: np.ndarray, a: float) -> np.ndarray:
    """Eq. (21), the asymptotic-log shaping ``g(x; a)`` of non-negative rewards, continuous at ``x = a``.

    ``g(x) = ln(((e^a - 1) / a) x + 1)`` for ``x <= a`` and ``a / (a^2 + 1) (x - a) + a`` above.
    The paper prints ``(e^a - a) / a`` in the log branch, which gives ``g(a) = ln(e^a - a + 1)``
    (2.895 for a = 3) and a jump at ``x = a``; ``(e^a - 1) / a`` (the reference code's) gives
    ``g(0) = 0`` and ``g(a) = a``, matching the linear branch and the paper's Figure 3 description.
    """
    if a <= 0:
        raise ValueError(f"the shaping parameter a must be > 0, got {a}")
    reward = np.asarray(reward, dtype=np.float64)
    if (reward < 0).any():
        raise ValueError("eq. (21) shapes non-negative rewards; got a negative reward")
    log_branch = np.log((math.expm1(a) / a) * np.minimum(reward, a) + 1.0)
    linear_branch = a / (a * a + 1.0) * (reward - a) + a
    return np.where(reward <= a, log_branch, linear_branch)


def goal_indices_constant_discretization(steps: int, horizon: int) -> np.ndarray:
    """CD goal state of each step ``t = 0..T-1``, as an index into the states ``s_0..s_T``.

    Fixed blocks of ``M``: steps ``[kM, (k+1)M)`` share the goal ``s_{(k+1)M}``, giving the paper's
    list ``[s_M, s_2M, ..., s_nM]``; a last partial block aims at the final state ``s_T``. (The
    reference code's blocks are ``M - 1`` long, giving ``s_M, s_{2M-1}, ...``.)
    """
    _check(steps, horizon)
    t = np.arange(steps)
    return np.minimum((t // horizon + 1) * horizon, steps)


def goal_indices_constant_margin(steps: int, horizon: int) -> np.ndarray:
    """CM goal state of each step: ``s_{t+M}``, the final state ``s_T`` for the last ``M - 1`` steps."""
    _check(steps, horizon)
    return np.minimum(np.arange(steps) + horizon, steps)


def goal_indices_subtask(labels: np.ndarray) -> np.ndarray:
    """ST goal state of each step: the state where the inferred sub-task label next changes.

    ``labels[t]`` is the HL's sub-task label at step ``t``. A change at ``c`` (``labels[c] !=
    labels[c-1]``) makes ``s_c`` the goal of every step of the segment that ends there; the last
    segment aims at the final state ``s_T`` (also when the label never changes). The reference code
    falls back to a one-step target without a change and mishandles the last segment.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    steps = len(labels)
    changes = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    boundaries = np.append(changes, steps)
    return boundaries[np.searchsorted(boundaries, np.arange(steps), side="right")]


def _check(steps: int, horizon: int) -> None:
    if steps < 1 or horizon < 1:
        raise ValueError(f"steps ({steps}) and goal horizon M ({horizon}) must be >= 1")
