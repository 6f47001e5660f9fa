"""The relaxed one-hot sample of a categorical latent, shared by HiMeta's HL and SD's encoder."""

from __future__ import annotations

import torch


def gumbel_softmax(logits: torch.Tensor, temperature: float = 1.0,
                   generator: torch.Generator | None = None,
                   uniform: torch.Tensor | None = None) -> torch.Tensor:
    """``softmax((logits + g) / tau)`` with ``g = -log(-log u)``, ``u ~ U(0, 1)`` (Jang et al. 2017;
    Maddison et al. 2017), a soft sample. The uniforms are ``uniform`` when given (e.g. per-trial
    streams, :mod:`algorithms.common.keyed_noise`), else drawn on the generator's device (seeded, so
    a stream is reproducible) and moved to the logits' device only if the two differ."""
    if uniform is None:
        device = generator.device if generator is not None else logits.device
        uniform = torch.rand(logits.shape, generator=generator, device=device).to(logits.device)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
    return torch.softmax((logits + gumbel) / temperature, dim=-1)
