"""HiMeta's consequential choices (docs/himeta.md), each on real ML10 data from an untrained agent.

One test per choice that a review found would stop HiMeta learning or change what it measures:
ST labels from the logits, a reward scale that keeps eq. (9)'s regularisers alive, evaluation ``y``
from the distribution the LL was trained on, log-stds that keep a gradient at their bounds, an HL
that sees its inputs at initialisation, one time-limit rule for critic targets and advantages, and
eq. (12)'s decoder conditioned on ``y``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from algorithms.common.gumbel import gumbel_softmax
from algorithms.common.keyed_noise import EVALUATION_STREAM, keyed_uniform, trial_streams
from algorithms.himeta import agent as agent_module
from algorithms.himeta.equations import shaped_reward
from algorithms.himeta.losses import high_level_loss
from algorithms.himeta.networks import HiMetaNetworkConfig, IntermediateLevel, LowLevel
from algorithms.registry import METHODS_DIR, method_from_values, read_method_file
from envs.ml10 import ML10Suite
from envs.sampler import ParallelSampler
from envs.schedule import TaskSchedule
from envs.policy import DETERMINISTIC_EVALUATION

EPISODE_LENGTH = 50
REFERENCE_REWARD_SCALE = 0.1  # himeta-reference.md section 7: r <- 0.1 g(r), no intrinsic reward


def _agent(suite, variant: str = "cd", **changes):
    values = {**read_method_file(METHODS_DIR / f"himeta-{variant}.yaml"), **changes}
    method = method_from_values(f"himeta-{variant}", values, "test")
    return method.build_agent(suite.spec, 0, torch.device("cpu"))


@pytest.fixture(scope="module")
def data():
    """Iteration 0 of the ML10 schedule (10 classes x 1 episode), played by an untrained HiMeta-CD."""
    torch.manual_seed(0)
    suite = ML10Suite(benchmark_seed=0, episode_length=EPISODE_LENGTH)
    agent = _agent(suite)
    with ParallelSampler(suite, num_workers=1, pipeline_groups=1) as sampler:
        rollout = sampler.collect(agent.policy, TaskSchedule(suite, 0, 1).training_trials(0))
    return suite, rollout


def _episodes(rollout):
    n = rollout.rewards.shape[0] * rollout.rewards.shape[1]
    return (rollout.observations.reshape(n, EPISODE_LENGTH + 1, -1),
            rollout.actions.reshape(n, EPISODE_LENGTH, -1),
            rollout.rewards.reshape(n, EPISODE_LENGTH))


def _batch(agent, rollout) -> dict[str, torch.Tensor]:
    """The HL's update batch for the rollout's episodes, as ``_hierarchy_step`` builds it."""
    obs, actions, rewards = _episodes(rollout)
    states = agent.normalize(obs)
    return {"obs": states[:, :-1], "next_obs": states[:, 1:], "actions": agent.tensor(actions),
            "rewards": agent.tensor(agent.config.reward_scale * agent.extrinsic_reward(rewards))}


def _fill_buffer(agent, rollout, monkeypatch) -> None:
    """``agent.update`` with its gradient steps switched off: the buffer holds the rollout."""
    monkeypatch.setattr(agent, "_hierarchy_step", lambda: {})
    monkeypatch.setattr(agent, "_policy_step", lambda *args: {})
    agent.update(rollout, 0)


# ------------------------------------------------------------------------------------------ 1. ST
def test_st_goals_follow_the_inferred_subtask_not_the_gumbel_noise(data):
    suite, rollout = data
    agent = _agent(suite, "st")
    batch = _batch(agent, rollout)
    agent._set_training(True)  # as in the update: dropout on
    logits, _ = agent.high(batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    draws = [agent.high.sample(logits, torch.Generator().manual_seed(seed)) for seed in (1, 2)]
    goals = [agent.goal_indices(batch, y) for y in draws]
    np.testing.assert_array_equal(goals[0], goals[1])  # a function of the data, not of the noise
    horizon = (goals[0] - np.arange(EPISODE_LENGTH)).mean()
    assert horizon > 5, f"mean ST goal horizon {horizon:.2f} steps: labels flip on most steps"

    reference = _agent(suite, "st", st_labels="sample")
    reference._set_training(True)
    sampled = [reference.goal_indices(batch, y) for y in draws]
    assert (sampled[0] != sampled[1]).any()
    assert (sampled[0] - np.arange(EPISODE_LENGTH)).mean() < 3  # the noise-driven labels it replaces


# ------------------------------------------------------------------------------ 2. reward scale
def test_value_term_at_initialisation_is_within_the_references_ratio_to_the_regularisers(data, monkeypatch):
    """alpha_V L_V / (alpha_e L_ent + alpha_o L_occ) at initialisation, on the same episodes and the same
    untrained networks: with this harness's reward (``c (r_ext + r_in)``) it may not exceed what it is
    with the reference's (``0.1 g(r)``, no intrinsic reward), the scale alpha_V = 20 was tuned for."""
    suite, rollout = data
    agent = _agent(suite)
    _fill_buffer(agent, rollout, monkeypatch)
    size = agent.buffer.size
    obs = agent.normalize(agent.buffer.obs[:size])
    batch = {"obs": obs[:, :-1], "next_obs": obs[:, 1:], "actions": agent.tensor(agent.buffer.actions[:size]),
             "rewards": agent.tensor(agent.buffer.rewards[:size])}
    weights = agent.config.loss_weights

    def ratio(targets: torch.Tensor) -> float:
        with torch.no_grad():
            _, stats, _ = high_level_loss(agent.high, agent.critic, batch, targets, weights,
                                          torch.Generator().manual_seed(0))
        regularisers = (weights.entropy * stats["hl_entropy_loss"]
                        + weights.occupancy * stats["hl_occupancy_loss"])
        return weights.value * stats["hl_value_loss"] / regularisers

    _, _, raw_rewards = _episodes(rollout)
    shaped = shaped_reward(raw_rewards, agent.config.reward_shaping_a)
    reference_rewards = agent.tensor(REFERENCE_REWARD_SCALE * shaped)
    reference_returns, _ = agent_module.generalized_advantages(
        reference_rewards, torch.zeros_like(reference_rewards), reference_rewards.new_zeros(size),
        agent.config.gamma, 1.0)
    ours, reference = ratio(agent.value_targets(np.arange(size), obs[:, -1], batch)), ratio(reference_returns)
    print(f"value / regulariser ratio at initialisation: here {ours:.4g}, reference {reference:.4g}")
    assert ours <= reference


# ------------------------------------------------------------------------------ 3. evaluation y
def test_evaluation_y_is_a_seeded_gumbel_sample_that_leaves_the_training_stream_alone(data):
    suite, rollout = data
    agent = _agent(suite)
    obs = rollout.observations[:, 0, 3]
    keys = np.arange(100, 100 + len(obs))
    start = agent.policy.initial_memory(len(obs), trial_keys=keys)
    memory = dataclasses.replace(start, hidden=start.hidden + 0.1)
    acting_state = agent.act_generator.get_state()
    _, extras, _ = agent.policy.act(obs, memory, DETERMINISTIC_EVALUATION)
    assert torch.equal(agent.act_generator.get_state(), acting_state)
    with torch.no_grad():
        logits = agent.high.head(memory.hidden)
    uniform = keyed_uniform(trial_streams(0, keys, EVALUATION_STREAM), logits.shape[-1], logits.device)
    expected = gumbel_softmax(logits, 1.0, uniform=uniform)  # each slot's draw from its trial's stream
    np.testing.assert_allclose(extras["y"], expected.numpy(), rtol=1e-6)
    assert not np.allclose(extras["y"], torch.softmax(logits, -1).numpy(), atol=1e-3)

    onehot = _agent(suite, eval_y="onehot")
    _, extras, _ = onehot.policy.act(obs, onehot.policy.initial_memory(len(obs)), DETERMINISTIC_EVALUATION)
    assert set(np.unique(extras["y"])) <= {0.0, 1.0} and (extras["y"].sum(-1) == 1).all()


def test_an_evaluation_is_a_function_of_the_weights_not_of_the_sampler_layout(data):
    """Evaluation draws come from per-trial streams: the same trials evaluated in another order, in
    other groups and chunks, and after another evaluation, give the same y and actions."""
    suite, _ = data
    agent = _agent(suite)
    trials = TaskSchedule(suite, 0, 1).evaluation_trials(("reach-v3", "push-v3", "pick-place-v3"), 2, 2)

    def played(order, max_slots, groups):
        with ParallelSampler(suite, num_workers=1, max_slots=max_slots, pipeline_groups=groups) as sampler:
            chosen = [trials[i] for i in order]
            rollout = sampler.collect(agent.policy, chosen, DETERMINISTIC_EVALUATION)
        return {(t.class_name, t.variant): (rollout.extras["y"][i], rollout.actions[i])
                for i, t in enumerate(chosen)}

    first = played(range(len(trials)), max_slots=12, groups=1)
    again = played(list(reversed(range(len(trials)))), max_slots=4, groups=2)
    for trial, (y, actions) in first.items():  # batch shapes differ: equal up to float rounding
        np.testing.assert_allclose(y, again[trial][0], atol=1e-4)
        np.testing.assert_allclose(actions, again[trial][1], atol=1e-4)


# ------------------------------------------------------------------------------ 4. log-std bound
@pytest.mark.parametrize("module", ["low", "intermediate"])
def test_a_log_std_at_its_bound_still_gets_a_gradient(module):
    config = HiMetaNetworkConfig()
    torch.manual_seed(0)
    obs, z = torch.randn(16, 39), torch.rand(16, 4) - 0.5
    y = torch.softmax(torch.randn(16, config.categories), -1)
    if module == "low":
        net, head = LowLevel(39, 4, config), None
        head = net.net[-1]
        distribution = lambda: net(obs, y, z)  # noqa: E731
    else:
        net = IntermediateLevel(39, 4, 8, config)
        head = net.encoder[-1]
        distribution = lambda: net.distribution(obs, y)  # noqa: E731
    with torch.no_grad():
        head.bias[4:] = 2.0  # raw log-std far above log(std_max) = 0.405
    std = distribution().stddev
    assert (std < config.std_max).all() and (std > 0.99 * config.std_max).all()
    distribution().entropy().sum().backward()
    assert head.bias.grad[4:].abs().min() > 1e-4, "the log-std gets no gradient at its upper bound"


# ------------------------------------------------------------------------------ 5. HL inputs
def test_the_high_level_sees_its_inputs_at_initialisation(data):
    suite, rollout = data
    agent = _agent(suite)
    batch = _batch(agent, rollout)
    with torch.no_grad():
        embedded = agent.high.embed(batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
        logits, hidden = agent.high(batch["obs"], batch["actions"], batch["rewards"], batch["next_obs"])
    assert embedded.abs().mean() > 0.1, f"embedded MDP_t ~ {embedded.abs().mean():.2g}"
    spread = hidden.reshape(-1, hidden.shape[-1]).std(0).mean()
    assert spread > 0.02, f"h_t varies by {spread:.2g} across the batch"
    assert logits.reshape(-1, logits.shape[-1]).std(0).mean() > 0.02


# ------------------------------------------------------------------------------ 6. time limit
@pytest.mark.parametrize("time_limit", ["terminal", "bootstrap"])
def test_critic_targets_and_advantages_use_the_same_time_limit_rule(data, monkeypatch, time_limit):
    suite, rollout = data
    agent = _agent(suite, time_limit=time_limit, him_updates=1)
    seen: list[torch.Tensor] = []
    original = agent_module.generalized_advantages

    def recording(rewards, values, bootstrap_values, gamma, lam, terminated=None):
        seen.append(bootstrap_values.clone())
        return original(rewards, values, bootstrap_values, gamma, lam, terminated)

    monkeypatch.setattr(agent_module, "generalized_advantages", recording)
    agent.update(rollout, 0)
    _, gae_bootstrap = seen  # the buffer's Monte-Carlo returns to T, then PPO's GAE
    size = agent.buffer.size
    obs = agent.normalize(agent.buffer.obs[:size])
    batch = {"obs": obs[:, :-1], "next_obs": obs[:, 1:], "actions": agent.tensor(agent.buffer.actions[:size]),
             "rewards": agent.tensor(agent.buffer.rewards[:size])}
    stored = agent.tensor(agent.buffer.returns[:size])
    extra = agent.value_targets(np.arange(size), obs[:, -1], batch) - stored
    if time_limit == "terminal":  # the critic's targets are the returns to T: GAE must not bootstrap
        assert not gae_bootstrap.any()
    else:
        assert gae_bootstrap.abs().min() > 0 and extra[:, -1].abs().min() > 0
        torch.testing.assert_close(extra[:, -2], agent.config.gamma * extra[:, -1])


# ------------------------------------------------------------------------------ 7. eq. (12)
@pytest.mark.parametrize("condition_y", [True, False])
def test_the_goal_decoder_is_conditioned_on_y_as_eq_12(condition_y):
    config = HiMetaNetworkConfig(decoder_condition_y=condition_y)
    torch.manual_seed(0)
    intermediate = IntermediateLevel(39, 4, 8, config).eval()
    for layer in intermediate.decoder:  # larger weights than the small output init, so y's effect shows
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.normal_(layer.weight)
    ego, z = torch.randn(5, 8), torch.rand(5, 4) - 0.5
    first, second = torch.eye(config.categories)[[0] * 5], torch.eye(config.categories)[[3] * 5]
    changed = not torch.allclose(intermediate.decode(ego, z, first), intermediate.decode(ego, z, second))
    assert changed == condition_y
