"""SD end to end: config loading, trial-scoped memory, gradient isolation, learning on the point
robot, and a short real ML10 run that resumes to the same numbers after a simulated kill."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import assert_short_ml10_run_resumes, run_training

from algorithms.common.keyed_noise import EVALUATION_STREAM, keyed_uniform, trial_streams
from algorithms.registry import METHODS_DIR, load_method
from algorithms.sd.agent import SDAgent
from algorithms.sd.config import sd_config
from envs.point_robot import PointRobotSuite
from envs.sampler import ParallelSampler
from envs.schedule import Trial
from envs.policy import DETERMINISTIC_EVALUATION, TRAINING

LOSS_TERMS = {"vae_reward_loss", "vae_state_loss", "vae_gauss_loss", "vae_cat_loss", "vae_occ_loss",
              "vae_loss", "policy_loss", "value_loss", "entropy"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The learner in one thread: on a loaded 2-core box torch's thread pool costs 10-20x in updates."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _small(config, **changes):
    """The YAML config with networks and ELBO subsampling sized for a 4-dim point robot."""
    networks = dataclasses.replace(
        config.networks, recurrent_size=64, categorical_hidden=(64,), gaussian_hidden=(64,),
        state_decoder_hidden=(32,), reward_decoder_hidden=(32,), decoder_dropout=0.0,
        policy_embed=32, policy_hidden=(64, 64), critic_hidden=(64, 64),
    )
    ppo = dataclasses.replace(config.ppo, minibatches=4, entropy_coef=0.0)
    sampling = dataclasses.replace(config.elbo_sampling, elbo_steps=20, decode_steps=20)
    return dataclasses.replace(config, networks=networks, ppo=ppo, elbo_sampling=sampling,
                               lr_vae=1e-3, **changes)


def _values():
    return yaml.safe_load((METHODS_DIR / "sd.yaml").read_text())


def test_config_loads_through_the_registry():
    method = load_method("sd")
    assert method.algorithm == "sd" and next(iter(method.values)) == "algorithm"
    assert method.config == sd_config(_values())
    agent = method.build_agent(PointRobotSuite().spec, seed=0, device=torch.device("cpu"))
    assert isinstance(agent, SDAgent) and agent.policy.memory_scope == "trial"


def test_malformed_config_names_the_problem():
    values = _values()
    with pytest.raises(ValueError, match=r"unknown SD setting\(s\) \['gama'\] in sd.yaml"):
        sd_config({**values, "gama": 0.9}, "sd.yaml")
    with pytest.raises(ValueError, match=r"unknown SD setting\(s\) \['latent_dims'\] in sd.yaml.networks"):
        networks = {**values["networks"], "latent_dims": 5}
        sd_config({**values, "networks": networks}, "sd.yaml")
    without = {key: value for key, value in values.items() if key != "lr_vae"}
    with pytest.raises(ValueError, match=r"missing SD setting\(s\) \['lr_vae'\] in sd.yaml"):
        sd_config(without, "sd.yaml")
    with pytest.raises(ValueError, match="SD setting .advantage_horizon. in sd.yaml: expected one of .episode., .trial., got .step."):
        sd_config({**values, "advantage_horizon": "step"}, "sd.yaml")


def test_memory_carries_across_episodes_and_resets_between_trials():
    suite = PointRobotSuite(episode_length=6)
    agent = SDAgent(suite.spec, _small(load_method("sd").config), seed=0)
    prior = agent.encoder.belief(torch.zeros(1, 64), None).prob
    trials = [Trial("point-goal", v, episodes=3) for v in (0, 25, 49)]
    with ParallelSampler(suite, num_workers=1) as sampler:
        rollouts = [sampler.collect(agent.policy, trials, DETERMINISTIC_EVALUATION) for _ in range(2)]
    for rollout in rollouts:
        probs = torch.as_tensor(rollout.extras["prob"])  # [trial, episode, step, K]
        # a new trial (and a new collection) starts from the prior, h = 0
        torch.testing.assert_close(probs[:, 0, 0], prior.expand(3, -1))
        # later episodes start from the belief after every earlier transition of the same trial
        for episode in (1, 2):
            n = episode * suite.episode_length
            flat = lambda values: torch.as_tensor(  # noqa: E731
                values[:, :episode].reshape(3, n, *values.shape[3:]), dtype=torch.float32)
            hidden = agent.encoder.encode(flat(rollout.actions), flat(rollout.observations[:, :, 1:]),
                                          flat(rollout.rewards))[:, -1]
            carried = agent.encoder.belief(hidden, None).prob
            torch.testing.assert_close(probs[:, episode, 0], carried, rtol=1e-5, atol=1e-6)
            assert not torch.allclose(probs[:, episode, 0], prior.expand(3, -1), atol=1e-4)
    memory = dataclasses.replace(agent.policy.initial_memory(2), hidden=torch.ones(2, 64))
    assert torch.equal(agent.policy.start_episode(memory, first_in_trial=False).hidden, memory.hidden)
    assert not agent.policy.start_episode(memory, first_in_trial=True).hidden.any()


def test_ppo_loss_never_reaches_the_encoder_and_the_elbo_never_reaches_the_policy():
    suite = PointRobotSuite(episode_length=10)
    agent = SDAgent(suite.spec, _small(load_method("sd").config, vae_updates=0), seed=0)
    encoder_before = [p.detach().clone() for p in agent.encoder.parameters()]
    policy_before = [p.detach().clone() for p in agent.policy_network.parameters()]
    with ParallelSampler(suite, num_workers=1) as sampler:
        rollout = sampler.collect(agent.policy, [Trial("point-goal", 3, episodes=2)] * 2)
    stats = agent.update(rollout, 0)
    assert "policy_loss" in stats and not any(key.startswith("vae_") for key in stats)
    assert all(p.grad is None for p in agent.encoder.parameters())  # no backward ever touched it
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, agent.encoder.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(policy_before, agent.policy_network.parameters()))

    agent.policy_optimizer.zero_grad(set_to_none=True)
    stats = agent._vae_step()
    assert stats["vae_loss"] > 0
    assert all(p.grad is None for p in agent.policy_network.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in agent.encoder.parameters())


def test_evaluation_acts_on_a_seeded_gumbel_sample_and_leaves_the_training_stream_alone():
    """Deterministic acting feeds the policy a Gumbel-softmax ``y`` (what training fed it and what the
    latent normaliser was fitted on) from each slot's trial stream, never ``prob``; the training
    stream does not move. ``eval_y: prob`` is the former behaviour, as a switch."""
    suite = PointRobotSuite(episode_length=20)
    agent = SDAgent(suite.spec, _small(load_method("sd").config), seed=0)
    before = agent.act_generator.get_state().clone()
    keys = np.array([7, 8, 9])
    hidden = torch.randn(3, agent.config.networks.recurrent_size)
    memory = dataclasses.replace(agent.policy.initial_memory(3, trial_keys=keys, training_seed=5), hidden=hidden)
    stream = memory.train_stream.get_state().clone()
    action, extras, memory = agent.policy.act(np.zeros((3, 4), np.float32), memory, DETERMINISTIC_EVALUATION)
    assert torch.equal(agent.act_generator.get_state(), before)
    assert torch.equal(memory.train_stream.get_state(), stream)
    assert action.shape == (3, 2) and extras["latent"].shape == (3, 10) and extras["prob"].shape == (3, 10)
    with torch.no_grad():
        uniform = keyed_uniform(trial_streams(0, keys, EVALUATION_STREAM), 10, agent.device)
        sampled = agent.encoder.belief(hidden, None, uniform)
        mean_y = agent.encoder.belief(hidden, None)
    np.testing.assert_allclose(extras["latent"], sampled.policy_latent.numpy(), rtol=1e-5)
    assert not np.allclose(extras["latent"], mean_y.policy_latent.numpy(), atol=1e-4)
    _, again, _ = agent.policy.act(np.zeros((3, 4), np.float32), memory, DETERMINISTIC_EVALUATION)
    assert not np.allclose(again["latent"], extras["latent"])  # each trial's stream moves on

    prob_agent = SDAgent(suite.spec, _small(load_method("sd").config, eval_y="prob"), seed=0)
    prob_memory = dataclasses.replace(prob_agent.policy.initial_memory(3), hidden=hidden)
    _, extras, _ = prob_agent.policy.act(np.zeros((3, 4), np.float32), prob_memory, DETERMINISTIC_EVALUATION)
    np.testing.assert_allclose(extras["latent"], mean_y.policy_latent.numpy(), rtol=1e-5)
    agent.policy.act(np.zeros((3, 4), np.float32), memory, TRAINING)
    assert not torch.equal(memory.train_stream.get_state(), stream)  # training draws from the group's stream
    assert torch.equal(agent.act_generator.get_state(), before)  # which the sampler seeded from the agent's


def test_an_evaluation_is_a_function_of_the_weights_not_of_the_sampler_layout():
    """The same trials evaluated in another order and grouping draw the same y: per-trial streams."""
    suite = PointRobotSuite(episode_length=10)
    agent = SDAgent(suite.spec, _small(load_method("sd").config), seed=0)
    trials = [Trial("point-goal", variant, episodes=2) for variant in range(5)]

    def latents(order, max_slots, groups):
        with ParallelSampler(suite, num_workers=1, max_slots=max_slots, pipeline_groups=groups) as sampler:
            chosen = [trials[i] for i in order]
            rollout = sampler.collect(agent.policy, chosen, DETERMINISTIC_EVALUATION)
        return {t.variant: rollout.extras["latent"][i] for i, t in enumerate(chosen)}

    first, again = latents(range(5), 5, 1), latents([4, 2, 0, 1, 3], 3, 2)
    for variant, latent in first.items():
        np.testing.assert_allclose(latent, again[variant], atol=1e-5)


def test_acting_keeps_its_tensors_on_the_learners_device_and_skips_the_critic(monkeypatch):
    """An act call copies to the host only what it returns (action, latent, prob): normalisers and
    generators live on the learner's device, and the critic is not evaluated."""
    suite = PointRobotSuite(episode_length=20)
    agent = SDAgent(suite.spec, _small(load_method("sd").config), seed=0)
    assert agent.act_generator.device == agent.device
    assert all(norm.device == agent.device for norm in agent.normalizers.values())
    copies = []
    original_cpu = torch.Tensor.cpu
    def counting_cpu(self, *args, **kwargs):
        copies.append(tuple(self.shape))
        return original_cpu(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "cpu", counting_cpu)
    critic_calls = []
    agent.policy_network.critic.register_forward_hook(lambda *args: critic_calls.append(1))
    for acting in (TRAINING, DETERMINISTIC_EVALUATION):
        copies.clear()
        agent.policy.act(np.zeros((3, 4), np.float32), agent.policy.initial_memory(3), acting)
        assert sorted(copies) == [(3, 2), (3, 10), (3, 10)], copies
    assert not critic_calls


def test_learns_the_point_robot_well_above_random(tmp_path):
    suite = PointRobotSuite(episode_length=20)
    config = _small(load_method("sd").config)
    paths = run_training(tmp_path, "sd", suite, lambda: SDAgent(suite.spec, config, seed=0),
                         iterations=10, episodes_per_task=16, eval_variants=10, eval_interval=10,
                         checkpoint_interval=100)
    evaluation = pd.read_csv(paths.evaluation).groupby("iteration")["return"].mean()
    # the untrained policy (iteration 0) is the random reference: ~0 return over 20 steps
    assert evaluation[0] < 0.5
    assert evaluation[10] > evaluation[0] + 2.0


def test_short_ml10_run_logs_everything_and_resumes_to_the_same_numbers(tmp_path):
    config = load_method("sd").config
    assert_short_ml10_run_resumes(tmp_path, lambda spec: SDAgent(spec, config, seed=1), LOSS_TERMS)


def test_the_table4_variant_slows_only_the_decoders_the_prior_and_the_categorical_head():
    default, table4 = load_method("sd"), load_method("sd-table4")
    assert {k: v for k, v in table4.values.items() if k != "lr_decoders"} == \
        {k: v for k, v in default.values.items() if k != "lr_decoders"}
    agent = SDAgent(PointRobotSuite().spec, table4.config, seed=0)
    groups = {group["name"]: group for group in agent.vae_optimizer.param_groups}
    assert {name: group["lr"] for name, group in groups.items()} == {"encoder": 1e-3, "decoders+categorical": 5e-7}
    slow = {id(p) for p in groups["decoders+categorical"]["params"]}
    expected = [*agent.state_decoder.parameters(), *agent.reward_decoder.parameters(),
                *agent.prior.parameters(), *agent.encoder.categorical.parameters()]
    assert slow == {id(p) for p in expected}
    everything = {id(p) for group in agent.clip_groups for p in group}
    assert slow | {id(p) for p in groups["encoder"]["params"]} == everything
    assert not slow & {id(p) for p in groups["encoder"]["params"]}
    whole = SDAgent(PointRobotSuite().spec, default.config, seed=0).vae_optimizer.param_groups
    assert len(whole) == 1 and whole[0]["lr"] == 1e-3


def test_a_variant_file_states_only_what_differs_and_refuses_a_typo(tmp_path):
    from algorithms.registry import read_method_file

    (tmp_path / "sd.yaml").write_text((METHODS_DIR / "sd.yaml").read_text())
    (tmp_path / "typo.yaml").write_text("base: sd\nlr_decoder: 1.0e-6\n")
    with pytest.raises(ValueError, match=r"'lr_decoder' is not a setting of this method"):
        read_method_file(tmp_path / "typo.yaml")
    (tmp_path / "a.yaml").write_text("base: b\n")
    (tmp_path / "b.yaml").write_text("base: a\n")
    with pytest.raises(ValueError, match="'base' chain loops back"):
        read_method_file(tmp_path / "a.yaml")
