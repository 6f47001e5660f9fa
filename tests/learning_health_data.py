"""Fixture data and per-method harnesses for tests/test_learning_health.py.

Data: one training iteration's trials of the real ML10 suite (the seeded schedule's iteration 0, all
10 train classes, ``EPISODE_LENGTH``-step episodes), played through the project's own
:class:`ParallelSampler` by each method's *untrained* policy built from its default method file.

A harness per method turns that rollout into the method's fixed training batch and measures the
loss of each learned module on it, always with the method's own code:

* the agent's ``update`` is run once with its gradient steps switched off (instance attributes
  shadow the step methods), so buffers, normalisers and reward processing are exactly the method's;
* the fixed batch is what the method's own batch sampler returns (HiMeta, SD: the buffer holds
  exactly one update batch, so every step sees the same data up to its order);
* a "step" is the method's own update function on that batch (HiMeta ``_hierarchy_step``, SD
  ``_vae_step`` / ``ppo_update`` with SD's optimiser, PEARL / PEACH ``gradient_step``);
* losses are measured in eval mode (no dropout) with a fixed generator for every random draw, so
  the loss before and after the steps is the same function of different parameters.

Learning rates are scaled through the method file's own keys (``LR_KEYS``), as a user would edit them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from algorithms.common.trial_belief import latent_sac_inputs
from algorithms.registry import METHODS_DIR, method_from_values, read_method_file
from envs.rollout import Rollout
from envs.schedule import TaskSchedule

BENCHMARK_SEED = 0
EPISODE_LENGTH = 50
SEED = 0
MEASURE_SEED = 12345
"""Seed of the generator that draws every random number of a loss measurement."""

METHOD_FILES = {"himeta": "himeta-cd", "sd": "sd", "pearl": "pearl", "peach": "peach"}
EPISODES_PER_TASK = {
    "himeta": 1,  # 10 episodes = trajectories_per_update: every HL/IL step sees the whole buffer
    "sd": 2,  # 10 trials = vae_batch_trials: every ELBO step sees the whole buffer
    "pearl": 2,  # = prior_episodes: every episode is in its task's context set
    "peach": 2,
}

LR_KEYS: dict[tuple[str, str], str] = {
    ("himeta", "hl"): "lr_high",
    ("himeta", "critic"): "lr_critic",
    ("himeta", "il_decoder"): "lr_intermediate",
    ("sd", "elbo"): "lr_vae",
    ("sd", "ppo_value"): "lr_policy",
    ("pearl", "q"): "sac.q_lr",
    ("pearl", "v"): "sac.v_lr",
    ("pearl", "kl"): "context_lr",
    ("peach", "top_q"): "sac.q_lr",
    ("peach", "level0_q"): "lower_sac.q_lr",
}
"""(method, module) -> the method-file key of that module's learning rate (dotted: nested)."""


def method_values(method: str, lr_key: str | None = None, lr_scale: float = 1.0) -> dict:
    """The raw mapping of the method's default file, with ``lr_key`` multiplied by ``lr_scale``."""
    values = copy.deepcopy(read_method_file(METHODS_DIR / f"{METHOD_FILES[method]}.yaml"))
    if lr_key is not None and lr_scale != 1.0:
        *parents, leaf = lr_key.split(".")
        section = values
        for parent in parents:
            section = section[parent]
        section[leaf] = float(section[leaf]) * lr_scale
    return values


def build_agent(suite, method: str, lr_key: str | None = None, lr_scale: float = 1.0):
    name = METHOD_FILES[method]
    loaded = method_from_values(name, method_values(method, lr_key, lr_scale), f"{name} (learning-health)")
    return loaded.build_agent(suite.spec, SEED, torch.device("cpu"))


def collect_rollouts(suite, sampler) -> dict[str, Rollout]:
    """Iteration 0 of each method's training schedule, played by its untrained default agent."""
    rollouts = {}
    for method in METHOD_FILES:
        agent = build_agent(suite, method)
        trials = TaskSchedule(suite, SEED, EPISODES_PER_TASK[method]).training_trials(0)
        rollouts[method] = sampler.collect(agent.policy, trials)
    return rollouts


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(MEASURE_SEED)


def _update_without_steps(agent, rollout: Rollout, step_names: tuple[str, ...]) -> dict:
    """``agent.update`` with the named step methods replaced by recorders; returns their arguments."""
    calls: dict[str, tuple] = {}
    for name in step_names:
        def record(*args, _name=name):
            calls.setdefault(_name, args)
            return {}
        setattr(agent, name, record)
    try:
        agent.update(rollout, 0)
    finally:
        for name in step_names:
            delattr(agent, name)
    return calls


@dataclass
class Harness:
    """A method agent on its fixed batch: ``losses()`` per module, ``steps[module]()`` = one gradient
    step of the method's update that trains that module, ``modules[module]`` = the networks whose
    parameters that module's loss is a function of (for the parameter swap of :func:`measure`)."""

    agent: object
    losses: Callable[[], dict[str, float]]
    steps: dict[str, Callable[[], None]]
    modules: dict[str, list[torch.nn.Module]]


# ---------------------------------------------------------------------------------------- HiMeta
def himeta_harness(agent, rollout: Rollout) -> Harness:
    from algorithms.himeta.losses import high_level_loss, intermediate_level_loss

    _update_without_steps(agent, rollout, ("_hierarchy_step", "_policy_step"))
    buffer = agent.buffer
    assert buffer.size == agent.config.trajectories_per_update, "the buffer must be exactly one HL batch"

    @torch.no_grad()
    def losses() -> dict[str, float]:
        agent._set_training(False)
        generator = _generator()
        obs = agent.normalize(buffer.obs[: buffer.size])
        batch = {"obs": obs[:, :-1], "next_obs": obs[:, 1:],
                 "actions": agent.tensor(buffer.actions[: buffer.size]),
                 "rewards": agent.tensor(buffer.rewards[: buffer.size])}
        weights = agent.config.loss_weights
        targets = agent.value_targets(np.arange(buffer.size), obs[:, -1], batch)
        _, hl, y = high_level_loss(agent.high, agent.critic, batch, targets, weights, generator)
        goals = torch.as_tensor(agent.goal_indices(batch, y))
        ego = obs[..., agent.ego]
        goal_ego = torch.gather(ego, 1, goals.unsqueeze(-1).expand(-1, -1, len(agent.ego)))
        _, il = intermediate_level_loss(agent.intermediate, agent.low, batch["obs"], y, ego[:, :-1],
                                        goal_ego, generator)
        return {"hl": hl["hl_loss"], "critic": hl["hl_value_loss"], "il_decoder": il["il_reconstruction_loss"]}

    def step() -> None:
        agent._set_training(True)
        agent._hierarchy_step()
        agent._set_training(False)

    return Harness(agent, losses, dict.fromkeys(("hl", "critic", "il_decoder"), step),
                   {"hl": [agent.high], "critic": [agent.critic], "il_decoder": [agent.intermediate]})


# ---------------------------------------------------------------------------------------- SD
def sd_harness(agent, rollout: Rollout) -> Harness:
    from algorithms.common.ppo import ppo_update
    from algorithms.sd.losses import elbo_loss

    calls = _update_without_steps(agent, rollout, ("_policy_step", "_vae_step"))
    assert agent.buffer.size == agent.config.vae_batch_trials, "the buffer must be exactly one ELBO batch"
    batch, evaluate = agent._ppo_batch(*calls["_policy_step"])
    trials = agent.buffer.batch(np.arange(agent.buffer.size), agent.device)
    vae = (agent.encoder, agent.state_decoder, agent.reward_decoder, agent.prior)

    @torch.no_grad()
    def losses() -> dict[str, float]:
        for module in (*vae, agent.policy_network):
            module.eval()
        _, stats = elbo_loss(*vae, trials, agent.config.elbo_weights, agent.config.elbo_sampling, _generator())
        _, _, value = evaluate(batch)
        for module in (*vae, agent.policy_network):
            module.train()
        return {"elbo": stats["vae_loss"], "ppo_value": (value - batch["returns"]).pow(2).mean().item()}

    def step_vae() -> None:
        agent._vae_step()

    def step_ppo() -> None:  # one minibatch epoch sweep = epochs x minibatches optimiser steps
        ppo_update(evaluate, agent.policy_network.parameters(), agent.policy_optimizer, batch,
                   agent.config.ppo, agent.update_generator)

    return Harness(agent, losses, {"elbo": step_vae, "ppo_value": step_ppo},
                   {"elbo": list(vae), "ppo_value": [agent.policy_network]})


# ---------------------------------------------------------------------------------------- PEARL / PEACH
def _sac_losses(sac, critic_inputs, actor_inputs, next_inputs, actions, rewards, terminated, generator):
    from algorithms.common.sac import bellman_target, twin_q_loss, value_loss

    config = sac.config
    target = bellman_target(rewards, sac.v_target(next_inputs), config.discount, config.reward_scale, terminated)
    q = twin_q_loss(sac.q1(critic_inputs, actions), sac.q2(critic_inputs, actions), target).item()
    sample = sac.policy.rsample(actor_inputs, generator)
    v = value_loss(sac.v(actor_inputs), sac.min_q(actor_inputs, sample.action), sample.log_prob).item()
    return q, v


def _context_z(agent, batch, context, generator):
    from algorithms.common.context import kl_to_standard_normal, sample_gaussian

    mean, variance = agent.encoder.posterior(context)
    kl = kl_to_standard_normal(mean, variance).sum().item()
    z = sample_gaussian(mean, variance, generator)
    return kl, latent_sac_inputs(batch, z)


def pearl_harness(agent, rollout: Rollout) -> Harness:
    _update_without_steps(agent, rollout, ("gradient_step",))
    fixed = agent.sample_batch()
    agent.sample_batch = lambda: fixed  # every gradient step sees the same meta-batch

    @torch.no_grad()
    def losses() -> dict[str, float]:
        batch, context = fixed
        generator = _generator()
        kl, (critic, actor, after) = _context_z(agent, batch, context, generator)
        q, v = _sac_losses(agent.sac, critic, actor, after, batch["actions"].reshape(-1, agent.spec.action_dim),
                           batch["rewards"].reshape(-1), None, generator)
        return {"q": q, "v": v, "kl": kl}

    sac = agent.sac
    return Harness(agent, losses, dict.fromkeys(("q", "v", "kl"), agent.gradient_step),
                   {"q": [sac.q1, sac.q2], "v": [sac.v], "kl": [agent.encoder]})


def peach_harness(agent, rollout: Rollout) -> Harness:
    _update_without_steps(agent, rollout, ("gradient_step",))
    top = agent.top_batch()
    levels = [agent.level_batch(level) for level in range(agent.config.levels - 1)]
    agent.top_batch = lambda: top
    agent.level_batch = lambda level: levels[level]

    @torch.no_grad()
    def losses() -> dict[str, float]:
        batch, context = top
        generator = _generator()
        out = {}
        kl, (critic, actor, after) = _context_z(agent, batch, context, generator)
        out["top_q"], out["top_v"] = _sac_losses(
            agent.top, critic, actor, after, batch["actions"].reshape(-1, agent.space.dim),
            batch["rewards"].reshape(-1), batch["terminated"].reshape(-1), generator)
        out["kl"] = kl
        for level, lower in enumerate(levels):
            inputs = torch.cat([lower["obs"], lower["goals"]], -1)
            after = torch.cat([lower["next_obs"], lower["goals"]], -1)
            out[f"level{level}_q"], out[f"level{level}_v"] = _sac_losses(
                agent.levels[level], inputs, inputs, after, lower["actions"], lower["rewards"],
                lower["terminated"], generator)
        return out

    modules = {"top_q": [agent.top.q1, agent.top.q2], "top_v": [agent.top.v], "kl": [agent.encoder]}
    for level in range(agent.config.levels - 1):
        modules |= {f"level{level}_q": [agent.levels[level].q1, agent.levels[level].q2],
                    f"level{level}_v": [agent.levels[level].v]}
    return Harness(agent, losses, dict.fromkeys(modules, agent.gradient_step), modules)


HARNESSES = {"himeta": himeta_harness, "sd": sd_harness, "pearl": pearl_harness, "peach": peach_harness}


def make_harness(suite, rollouts: dict[str, Rollout], method: str, lr_key: str | None = None,
                 lr_scale: float = 1.0) -> Harness:
    """A fresh seeded agent of ``method`` (``lr_key`` scaled) on its fixed batch from ``rollouts``."""
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    return HARNESSES[method](build_agent(suite, method, lr_key, lr_scale), rollouts[method])


@dataclass(frozen=True)
class Drop:
    """One module's loss on the fixed batch: ``initial`` (initial parameters, everything else at its
    trained state), ``before`` / ``after`` (the whole agent before / after the steps)."""

    initial: float
    before: float
    after: float

    @property
    def fraction(self) -> float:
        """``1 - after / initial``: how much the module's own training reduced its loss."""
        return 1.0 - self.after / self.initial


def measure(harness: Harness, steps: dict[str, int]) -> dict[str, Drop]:
    """``steps[module]`` gradient steps for each named module (modules sharing a step function, e.g.
    PEARL's ``gradient_step``, share one sweep and must ask for the same count), then each :class:`Drop`.

    ``initial`` swaps the module's initial parameters back in while every other network keeps its
    trained state, so a moving target (a bootstrapped V, an encoder's z, the HL's y) neither hides
    nor fakes the module's own progress; the plain ``before`` is reported alongside.
    """
    snapshots = {name: [copy.deepcopy(m.state_dict()) for m in harness.modules[name]] for name in steps}
    before = harness.losses()
    sweeps: dict[int, int] = {}
    for name, count in steps.items():
        step = harness.steps[name]
        if id(step) in sweeps:
            assert sweeps[id(step)] == count, f"{name} shares its step function with another module"
            continue
        sweeps[id(step)] = count
        for _ in range(count):
            step()
    after = harness.losses()
    drops = {}
    for name in steps:
        trained = [copy.deepcopy(m.state_dict()) for m in harness.modules[name]]
        for module, state in zip(harness.modules[name], snapshots[name]):
            module.load_state_dict(state)
        initial = harness.losses()[name]
        for module, state in zip(harness.modules[name], trained):
            module.load_state_dict(state)
        drops[name] = Drop(initial, before[name], after[name])
    return drops
