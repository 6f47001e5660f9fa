"""An untrained Gaussian policy, recurrent or feed-forward, used to exercise and time the sampler.

The recurrent form has the inference cost of the agents under study (embedding MLP, GRU(256), MLP
head over a batch of envs) and real recurrent memory, which makes it the probe for determinism,
memory-semantics and throughput checks; the feed-forward form (MLP 2x256 on the observation) is
the cheapest realistic policy. With ``uniform_actions=True`` the probe still runs its full forward
pass but plays seeded uniform random actions, so a throughput benchmark can compare the sampler
against a raw env loop on identical physics work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from envs.policy import Acting, MemoryScope, Transition, episode_rows
from envs.suite import EnvSpec


@dataclass(frozen=True)
class ProbeMemory:
    """Per slot the GRU state; per group the training stream and the uniform-action stream."""

    hidden: torch.Tensor
    train_stream: torch.Generator
    uniform_rng: np.random.Generator


class ProbePolicy(nn.Module):
    """Gaussian action head on (s, h), where h is a GRU over (s, a, r, s') transitions (if recurrent)."""

    trial_keyed = True  # group streams from training_seed; the probe ignores the trial keys

    def __init__(
        self,
        spec: EnvSpec,
        seed: int,
        memory_scope: MemoryScope = "episode",
        recurrent: bool = True,
        hidden_size: int = 256,
        uniform_actions: bool = False,
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.spec = spec
        self.memory_scope = memory_scope
        self.uniform_actions = uniform_actions
        self.hidden_size = hidden_size if recurrent else 0
        if recurrent:
            transition_dim = 2 * spec.obs_dim + spec.action_dim + 1
            self.embed = nn.Sequential(nn.Linear(transition_dim, 64), nn.Tanh())
            self.gru = nn.GRUCell(64, hidden_size)
        self.head = nn.Sequential(
            nn.Linear(spec.obs_dim + self.hidden_size, 256), nn.Tanh(),
            nn.Linear(256, 256), nn.Tanh(),
            nn.Linear(256, spec.action_dim),
        )
        self.log_std = nn.Parameter(torch.full((spec.action_dim,), -0.5))
        self.seed_rng = np.random.default_rng(seed)

    def training_seed(self) -> int:
        """The seed of one group's streams, drawn from the probe's own seeded stream."""
        return int(self.seed_rng.integers(2**62))

    def initial_memory(self, batch_size: int, trial_keys: np.ndarray | None = None,
                       training_seed: int | None = None) -> ProbeMemory:
        seed = self.training_seed() if training_seed is None else training_seed
        return ProbeMemory(torch.zeros(batch_size, self.hidden_size), torch.Generator().manual_seed(seed),
                           np.random.default_rng(seed))

    def for_workers(self) -> ProbePolicy:
        """The probe itself: it holds nothing but its networks and settings."""
        return self

    def start_episode(self, memory: ProbeMemory, first_in_trial: bool,
                      rows: np.ndarray | None = None) -> ProbeMemory:
        if self.memory_scope == "episode" or first_in_trial:
            mask = torch.as_tensor(episode_rows(len(memory.hidden), rows))[:, None]
            return dataclasses.replace(memory, hidden=torch.where(mask, 0.0, memory.hidden))
        return memory

    @torch.inference_mode()
    def act(self, obs: np.ndarray, memory: ProbeMemory, acting: Acting):
        mean = self.head(torch.cat([torch.as_tensor(obs), memory.hidden], dim=-1))
        extras = {"hidden_norm": memory.hidden.norm(dim=-1).numpy()}
        if self.uniform_actions:
            size = (obs.shape[0], self.spec.action_dim)
            action = memory.uniform_rng.uniform(self.spec.action_low, self.spec.action_high, size)
            return action.astype(np.float32), extras, memory
        if acting.deterministic:
            return mean.numpy(), extras, memory
        noise = torch.randn(mean.shape, generator=memory.train_stream)
        return (mean + self.log_std.exp() * noise).numpy(), extras, memory

    @torch.inference_mode()
    def observe(self, memory: ProbeMemory, transition: Transition) -> ProbeMemory:
        if not self.hidden_size:
            return memory
        features = torch.cat(
            [
                torch.as_tensor(transition.obs),
                torch.as_tensor(transition.action),
                torch.as_tensor(transition.reward, dtype=torch.float32).unsqueeze(-1),
                torch.as_tensor(transition.next_obs),
            ],
            dim=-1,
        )
        return dataclasses.replace(memory, hidden=self.gru(self.embed(features), memory.hidden))
