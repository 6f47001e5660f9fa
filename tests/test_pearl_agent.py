"""PEARL end to end: config, gradient isolation, truncation, acting with prior/posterior z, checkpoints,
learning on the point robot, and a short ML10 run that resumes to the same numbers."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import assert_short_ml10_run_resumes, run_training, step_floats

from algorithms.common.context import context_features
from algorithms.common.sac import bellman_target, policy_loss, twin_q_loss, value_loss
from algorithms.common.trial_belief import latent_sac_inputs
from algorithms.pearl.agent import PEARLAgent
from algorithms.pearl.config import load_pearl_config, pearl_config
from algorithms.registry import load_method
from envs.point_robot import PointRobotSuite
from envs.policy import DETERMINISTIC_EVALUATION, Transition
from envs.sampler import ParallelSampler
from envs.schedule import Trial

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "methods" / "pearl.yaml"
LOSS_TERMS = {"q_loss", "v_loss", "policy_loss", "kl", "q_mean", "v_mean", "log_pi", "posterior_variance"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Gradient steps on small nets run fastest single-threaded on a shared 2-core box."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def _small(config, **overrides):
    """The YAML config sized for the 4-dim point robot and a quick test."""
    sac = dataclasses.replace(config.sac, hidden_sizes=(64, 64), reward_scale=5.0, policy_lr=1e-3,
                              q_lr=1e-3, v_lr=1e-3)
    values = dict(encoder_hidden=(64, 64), latent_dim=5, meta_batch_size=8, batch_size=64,
                  embedding_batch_size=32, gradient_steps=100, prior_episodes=2, replay_capacity=100_000,
                  context_lr=1e-3)
    return dataclasses.replace(config, sac=sac, **{**values, **overrides})


def _filled_agent(seed=0, **overrides):
    suite = PointRobotSuite(episode_length=5)
    agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH), **overrides), seed=seed)
    rng = np.random.default_rng(seed)
    for task in range(4):
        agent.buffer.add_trial(task, rng.normal(size=(3, 6, 4)).astype(np.float32),
                               rng.uniform(-1, 1, (3, 5, 2)).astype(np.float32),
                               rng.random((3, 5)).astype(np.float32), np.array([True, True, False]))
    return agent


# ---------------------------------------------------------------------------------------- config
def test_config_loads_through_the_registry():
    method = load_method("pearl")
    assert method.algorithm == "pearl" and method.config == load_pearl_config(CONFIG_PATH)
    assert method.config.sac.hidden_sizes == (300, 300, 300) and method.config.latent_dim == 7
    assert next(iter(yaml.safe_load(CONFIG_PATH.read_text()))) == "algorithm"


def test_malformed_config_names_the_problem_and_the_file():
    values = yaml.safe_load(CONFIG_PATH.read_text())
    with pytest.raises(ValueError, match=r"unknown PEARL setting\(s\) \['kl_lamda'\] in my.yaml"):
        pearl_config({**values, "kl_lamda": 0.1}, "my.yaml")
    del values["batch_size"]
    with pytest.raises(ValueError, match=r"missing PEARL setting\(s\) \['batch_size'\] in my.yaml"):
        pearl_config(values, "my.yaml")
    values = yaml.safe_load(CONFIG_PATH.read_text())
    with pytest.raises(ValueError, match=r"unknown PEARL setting\(s\) \['tau'\] in my.yaml.sac"):
        pearl_config({**values, "sac": {**values["sac"], "tau": 0.1}}, "my.yaml")
    with pytest.raises(ValueError, match="prior_episodes must be >= 1.*my.yaml"):
        pearl_config({**values, "prior_episodes": 0}, "my.yaml")


# ---------------------------------------------------------------------------------------- update
def test_meta_batches_draw_only_tasks_with_recent_context():
    """A uniform draw over every task with context (~270 in the paper study's FIFO) trains on context
    ~20 iterations old; the draw is restricted to the last ``context_window`` iterations' tasks."""
    agent = _filled_agent(context_window=2)  # tasks 0-3, collected at iteration 0
    for iteration, task in ((1, 4), (2, 5), (3, 6)):
        rewards = np.full((3, 5), float(task), np.float32)  # the reward names the task
        agent.buffer.add_trial(task, np.zeros((3, 6, 4), np.float32), np.zeros((3, 5, 2), np.float32), rewards,
                               np.array([True, True, False]), iteration=iteration)
    agent.iteration = 3
    assert agent.eligible_tasks().tolist() == [5, 6]
    drawn = {float(r) for _ in range(10) for r in agent.sample_batch()[0]["rewards"].unique()}
    assert drawn == {5.0, 6.0}
    assert agent.buffer.recent_tasks(3, window=0).tolist() == list(range(7))  # window 0: every task


def test_only_the_q_loss_and_the_kl_reach_the_encoder():
    agent = _filled_agent()
    batch, context = agent.sample_batch()
    mean, variance = agent.encoder.posterior(context)
    z = mean + variance.sqrt() * torch.randn(mean.shape)
    critic, actor, following = latent_sac_inputs(batch, z)
    sac = agent.sac
    sample = sac.policy.rsample(actor, torch.Generator().manual_seed(0))
    min_q = sac.min_q(actor, sample.action)
    encoder = list(agent.encoder.parameters())

    def reaches_encoder(loss):
        grads = torch.autograd.grad(loss, encoder, retain_graph=True, allow_unused=True)
        return any(g is not None and g.abs().sum() > 0 for g in grads)

    actions, rewards = batch["actions"].reshape(-1, 2), batch["rewards"].reshape(-1)
    target = bellman_target(rewards, sac.v_target(following), 0.99, 5.0)
    assert reaches_encoder(twin_q_loss(sac.q1(critic, actions), sac.q2(critic, actions), target))
    assert reaches_encoder(agent.config.kl_lambda * (mean.pow(2) + variance).sum())
    assert not reaches_encoder(policy_loss(sample, min_q, agent.config.sac))
    assert not reaches_encoder(value_loss(sac.v(actor), min_q, sample.log_prob))
    assert not reaches_encoder(sac.v_target(following).sum())


def test_truncated_last_step_bootstraps_from_the_true_final_observation():
    """A real rollout's last step is truncated; its stored next obs is s_T and the target keeps gamma V(s_T)."""
    suite = PointRobotSuite(episode_length=5)
    agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH), gradient_steps=0), seed=0)
    with ParallelSampler(suite, num_workers=1) as sampler:
        rollout = sampler.collect(agent.policy, [Trial("point-goal", 7, 2)])
    assert rollout.truncated[0, :, -1].all()
    agent.update(rollout, 0)
    final = agent.buffer.observations[:2, -1]
    np.testing.assert_array_equal(final, rollout.observations[0, :, -1])
    assert not np.array_equal(final, rollout.observations[0, :, 0])  # not the next episode's reset obs
    next_inputs = torch.cat([torch.as_tensor(final), torch.zeros(2, 5)], -1)
    with torch.no_grad():
        bootstrap = agent.sac.v_target(next_inputs)
        rewards = torch.as_tensor(rollout.rewards[0, :, -1], dtype=torch.float32)
        target = bellman_target(rewards, bootstrap, 0.99, 5.0)
    torch.testing.assert_close(target, 5.0 * rewards + 0.99 * bootstrap)
    assert (bootstrap != 0).all()


def test_update_logs_every_loss_and_is_reproducible():
    first, second = _filled_agent(gradient_steps=3), _filled_agent(gradient_steps=3)
    stats = [step_floats(agent.gradient_step()) for agent in (first, second)]
    assert stats[0] == stats[1] and LOSS_TERMS <= set(stats[0])
    assert all(np.isfinite(value) for value in stats[0].values())


def test_restored_agent_continues_exactly():
    agent = _filled_agent(seed=3)
    agent.gradient_step()
    state = agent.state_dict()
    assert state["buffer"]["observations"].shape[0] == 12  # the filled part of the FIFO only
    restored = _filled_agent(seed=9)  # different weights, buffer and random streams
    stream = io.BytesIO()
    torch.save(state, stream)  # as the trainer's checkpoint does
    stream.seek(0)
    restored.load_state_dict(torch.load(stream, weights_only=False, map_location="cpu"))
    assert step_floats(restored.gradient_step()) == step_floats(agent.gradient_step())


# ---------------------------------------------------------------------------------------- acting
def test_training_uses_the_prior_first_then_the_posterior_evaluation_adapts_after_each_episode():
    suite = PointRobotSuite(episode_length=5)
    agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH)), seed=0)
    trials = [Trial("point-goal", 3, 3), Trial("point-goal", 40, 3)]
    with ParallelSampler(suite, num_workers=1, pipeline_groups=1) as sampler:
        training = sampler.collect(agent.policy, trials)
        evaluation = sampler.collect(agent.policy, trials, DETERMINISTIC_EVALUATION)
    np.testing.assert_array_equal(training.extras["prior_z"][0, :, 0], [True, True, False])
    np.testing.assert_array_equal(evaluation.extras["prior_z"][0, :, 0], [True, False, False])
    z = training.extras["z"]
    assert (z == z[:, :, :1]).all()  # one z per episode
    assert not np.allclose(z[0, 2, 0], z[1, 2, 0])  # posterior z differ between tasks

    # what the policy folded in over the first 2 episodes of trial 1 is q(z | those transitions)
    memory = agent.policy.start_episode(agent.policy.initial_memory(1), first_in_trial=True)
    for e in range(2):
        for t in range(5):
            memory = agent.policy.observe(memory, Transition(
                training.observations[1:, e, t], training.actions[1:, e, t], training.rewards[1:, e, t],
                training.observations[1:, e, t + 1]))
    context = context_features(training.observations[1, :2, :-1], training.actions[1, :2],
                               training.rewards[1, :2]).reshape(1, 10, -1)
    with torch.no_grad():
        torch.testing.assert_close(memory.belief.distribution(), agent.encoder.posterior(torch.as_tensor(context)))


def test_a_new_trial_resets_the_belief_and_evaluation_leaves_training_streams_alone():
    suite = PointRobotSuite(episode_length=5)
    agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH)), seed=0)
    policy = agent.policy
    memory = policy.start_episode(policy.initial_memory(2), first_in_trial=True)
    obs = np.zeros((2, 4), np.float32)
    before = agent.act_generator.get_state().clone()
    action, _, memory = policy.act(obs, memory, DETERMINISTIC_EVALUATION)
    assert torch.equal(agent.act_generator.get_state(), before)
    again, _, _ = policy.act(obs, policy.start_episode(policy.initial_memory(2), True), DETERMINISTIC_EVALUATION)
    np.testing.assert_array_equal(action, again)  # same weights, same evaluation numbers
    memory = policy.observe(memory, Transition(obs, action, np.ones(2), obs))
    assert (memory.belief.count == 1).all()
    assert (policy.start_episode(memory, first_in_trial=False).belief.count == 1).all()
    fresh = policy.start_episode(memory, first_in_trial=True)
    assert (fresh.belief.count == 0).all() and (fresh.episode == 0).all() and fresh.z_due.all()


# ---------------------------------------------------------------------------------------- runs
def test_learns_the_point_robot_well_above_random(tmp_path):
    suite = PointRobotSuite(episode_length=20)
    config = _small(load_pearl_config(CONFIG_PATH))
    paths = run_training(tmp_path, "pearl", suite, lambda: PEARLAgent(suite.spec, config, seed=0),
                         iterations=10, episodes_per_task=8, eval_variants=10, eval_interval=10,
                         checkpoint_interval=100)
    evaluation = pd.read_csv(paths.evaluation).groupby("iteration")["return"].mean()
    # the untrained policy (iteration 0) stays near the origin: ~0 return over 20 steps
    assert evaluation[0] < 0.5
    assert evaluation[10] > evaluation[0] + 2.0


def test_short_ml10_run_logs_everything_and_resumes_to_the_same_numbers(tmp_path):
    config = dataclasses.replace(load_pearl_config(CONFIG_PATH), gradient_steps=5, meta_batch_size=4,
                                 batch_size=32, embedding_batch_size=16, prior_episodes=1,
                                 replay_capacity=3000)
    log, evaluation = assert_short_ml10_run_resumes(
        tmp_path, lambda spec: PEARLAgent(spec, config, seed=1), LOSS_TERMS)
    assert list(log["buffer_episodes"]) == [20, 40, 60]
    assert evaluation["return"].notna().all()


def test_evaluation_z_belongs_to_the_trial_not_to_its_slot():
    """Deterministic (evaluation) z noise is keyed by (seed, trial, episode): a trial draws the same z
    whichever slot, group or chunk plays it, and different trials draw different prior z. (Keyed by
    (seed, episode) alone, slots at the same position of different groups shared their noise.)"""
    suite = PointRobotSuite(episode_length=5)
    agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH), gradient_steps=0), seed=0)
    trials = [Trial("point-goal", variant, 2) for variant in range(6)]

    def z_by_trial(order, max_slots, groups):
        with ParallelSampler(suite, num_workers=1, max_slots=max_slots, pipeline_groups=groups) as sampler:
            played = [trials[i] for i in order]
            rollout = sampler.collect(agent.policy, played, DETERMINISTIC_EVALUATION)
        return {played[i].variant: rollout.extras["z"][i, :, 0] for i in range(len(played))}

    one_group = z_by_trial(range(6), max_slots=6, groups=1)
    regrouped = z_by_trial([5, 3, 1, 0, 2, 4], max_slots=4, groups=2)
    for variant in range(6):
        np.testing.assert_array_equal(one_group[variant], regrouped[variant])
    priors = np.stack([one_group[variant][0] for variant in range(6)])
    assert len({tuple(row) for row in priors.round(6)}) == 6, "trials share their prior z"


# ---------------------------------------------------------------------------------------- GPU path
ALGORITHMS = Path(__file__).resolve().parents[1] / "algorithms"


@pytest.fixture
def host_transfers(monkeypatch):
    """Counts, per kind, the host syncs (``item``, ``tolist``, ``cpu``, ``numpy``) and host-to-device
    conversions (``as_tensor``/``tensor``/``from_numpy`` of a non-tensor) made by the harness's own
    code (torch's internals, e.g. Adam's CPU step counter, are not the method's doing). On a CUDA
    learner each of these waits for the device or copies over PCIe; here they are counted on CPU."""
    counts: dict[str, int] = {}

    def ours() -> bool:
        import sys
        return str(ALGORITHMS) in sys._getframe(2).f_code.co_filename

    def wrap(owner, name, counted_when):
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            if ours() and counted_when(args):
                counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)

    for name in ("item", "tolist", "cpu", "numpy"):
        wrap(torch.Tensor, name, lambda args: True)
    for name in ("as_tensor", "tensor", "from_numpy"):
        wrap(torch, name, lambda args: not isinstance(args[0], torch.Tensor))
    return counts


def test_a_gradient_step_neither_syncs_with_nor_copies_from_the_host(host_transfers):
    """Issue 16 item 6: a PEARL step draws its meta-batch on the learner's device and keeps its
    statistics there; formerly ~10 ``.item()`` syncs and two host-to-device batch copies per step."""
    agent = _filled_agent()
    agent.gradient_step()  # the first step of an iteration indexes the buffer once
    host_transfers.clear()
    for _ in range(3):
        stats = agent.gradient_step()
    assert host_transfers == {}
    assert LOSS_TERMS <= set(stats) and all(value.device == agent.device for value in stats.values())


def test_an_update_syncs_with_the_host_a_fixed_number_of_times_whatever_its_gradient_steps(host_transfers):
    suite = PointRobotSuite(episode_length=5)
    trials = [Trial("point-goal", variant, 3) for variant in range(4)]
    counts = []
    for steps in (2, 7):
        agent = PEARLAgent(suite.spec, _small(load_pearl_config(CONFIG_PATH), gradient_steps=steps), seed=0)
        with ParallelSampler(suite, num_workers=1) as sampler:
            rollout = sampler.collect(agent.policy, trials)
        host_transfers.clear()
        stats = agent.update(rollout, 0)
        counts.append(dict(host_transfers))
        assert LOSS_TERMS <= set(stats) and all(isinstance(value, float) for value in stats.values())
    assert counts[0] == counts[1] and counts[0].get("tolist", 0) + counts[0].get("item", 0) == 1


def test_a_checkpoint_from_before_device_meta_batches_is_refused_naming_the_fix():
    agent = _filled_agent()
    state = agent.state_dict()
    state["sample_rng"] = np.random.default_rng(0).bit_generator.state
    del state["sample_generator"]
    with pytest.raises(ValueError, match="before meta-batches were drawn on the learner's device"
                                         ".*delete the checkpoint"):
        _filled_agent().load_state_dict(state)
