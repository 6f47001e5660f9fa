"""HiMeta end to end: configs, learning on the point robot, and short ML10 runs with exact resume."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import torch
import pytest
from helpers import assert_short_ml10_run_resumes, run_training

from algorithms.himeta.agent import HiMetaAgent
from algorithms.himeta.config import himeta_config, load_himeta_config
from envs.point_robot import PointRobotSuite
from envs.policy import DETERMINISTIC_EVALUATION, TRAINING

CONFIGS = Path(__file__).resolve().parents[1] / "config" / "methods"
VARIANTS = ("cd", "cm", "st")
LOSS_TERMS = {"hl_value_loss", "hl_entropy_loss", "hl_occupancy_loss", "il_reconstruction_loss",
              "il_kl", "policy_loss", "entropy", "reward_intrinsic"}


def _small(config):
    """The YAML config with networks sized for a 4-dim point robot."""
    networks = dataclasses.replace(
        config.networks, recurrent_size=64, categorical_hidden=(64,), encoder_hidden=(64,),
        decoder_hidden=(64,), policy_hidden=(64, 64), critic_hidden=(64, 64),
        categorical_dropout=0.0, decoder_dropout=0.0,
    )
    ppo = dataclasses.replace(config.ppo, minibatches=2, entropy_coef=0.0)
    return dataclasses.replace(config, networks=networks, ppo=ppo, lr_high=1e-3, lr_critic=1e-3,
                               lr_intermediate=1e-3, lr_low=1e-3, him_updates=5,
                               trajectories_per_update=16, reward_shaping_a=None)


@pytest.mark.parametrize("variant", VARIANTS)
def test_configs_load_and_differ_only_in_goal_type(variant):
    config = load_himeta_config(CONFIGS / f"himeta-{variant}.yaml")
    assert config.goal_type == variant
    assert dataclasses.replace(config, goal_type="cd") == load_himeta_config(CONFIGS / "himeta-cd.yaml")


def test_malformed_config_names_the_problem():
    import yaml

    values = yaml.safe_load((CONFIGS / "himeta-cd.yaml").read_text())
    with pytest.raises(ValueError, match=r"unknown HiMeta setting\(s\) \['gama'\]"):
        himeta_config({**values, "gama": 0.9})
    with pytest.raises(ValueError, match="HiMeta setting .goal_type. in config: expected one of .cd., .cm., .st., got .xx."):
        himeta_config({**values, "goal_type": "xx"})
    with pytest.raises(ValueError, match=r"unknown HiMeta setting\(s\) \['dropout'\].*networks"):
        himeta_config({**values, "networks": {**values["networks"], "dropout": 0.1}})


@pytest.mark.parametrize("variant", VARIANTS)
def test_learns_the_point_robot_well_above_random(tmp_path, variant):
    suite = PointRobotSuite(episode_length=20)
    config = _small(load_himeta_config(CONFIGS / f"himeta-{variant}.yaml"))
    paths = run_training(tmp_path, variant, suite, lambda: HiMetaAgent(suite.spec, config, seed=0),
                         iterations=20, episodes_per_task=32, eval_variants=10, eval_interval=10,
                         checkpoint_interval=100)
    evaluation = pd.read_csv(paths.evaluation).groupby("iteration")["return"].mean()
    # the untrained policy (iteration 0) is the random reference: ~0 return over 20 steps
    assert evaluation[0] < 0.5
    assert evaluation[20] > evaluation[0] + 2.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_short_ml10_run_logs_everything_and_resumes_to_the_same_numbers(tmp_path, variant):
    config = load_himeta_config(CONFIGS / f"himeta-{variant}.yaml")
    assert_short_ml10_run_resumes(tmp_path, lambda spec: HiMetaAgent(spec, config, seed=1), LOSS_TERMS)


def test_deterministic_acting_draws_no_random_numbers():
    """Evaluation must not shift the random stream of training (else the eval cadence changes results)."""
    import numpy as np
    import torch

    suite = PointRobotSuite(episode_length=20)
    agent = HiMetaAgent(suite.spec, _small(load_himeta_config(CONFIGS / "himeta-st.yaml")), seed=0)
    before = agent.act_generator.get_state().clone()
    memory = agent.policy.initial_memory(3, training_seed=5)
    stream = memory.train_stream.get_state().clone()
    action, extras, _ = agent.policy.act(np.zeros((3, 4), np.float32), memory, DETERMINISTIC_EVALUATION)
    assert torch.equal(agent.act_generator.get_state(), before)
    assert torch.equal(memory.train_stream.get_state(), stream)
    agent.policy.act(np.zeros((3, 4), np.float32), memory, TRAINING)
    assert not torch.equal(memory.train_stream.get_state(), stream)  # training draws from the group's stream
    assert torch.equal(agent.act_generator.get_state(), before)
    agent.policy.initial_memory(3)  # without a seed (a call outside the sampler) it draws one from the agent's
    assert not torch.equal(agent.act_generator.get_state(), before)
    assert action.shape == (3, 2) and extras["y"].shape == (3, 5) and extras["z"].shape == (3, 2)


def test_a_checkpoint_from_another_device_type_is_refused_with_the_fix():
    """CPU and CUDA generator states are different objects: resuming across them must say so."""
    suite = PointRobotSuite(episode_length=20)
    config = _small(load_himeta_config(CONFIGS / "himeta-cd.yaml"))
    state = HiMetaAgent(suite.spec, config, seed=0).state_dict()
    state["act_generator"] = {**state["act_generator"], "device": "cuda"}
    with pytest.raises(ValueError, match="act random stream was drawn on cuda.*resume on a cuda device"):
        HiMetaAgent(suite.spec, config, seed=1).load_state_dict(state)


def test_a_checkpoint_with_bare_generator_states_still_resumes():
    """Checkpoints written before generator devices were recorded hold bare CPU state tensors."""
    suite = PointRobotSuite(episode_length=20)
    config = _small(load_himeta_config(CONFIGS / "himeta-cd.yaml"))
    source = HiMetaAgent(suite.spec, config, seed=0)
    state = source.state_dict()
    for name in ("act_generator", "update_generator"):
        state[name] = state[name]["state"]
    target = HiMetaAgent(suite.spec, config, seed=1)
    target.load_state_dict(state)
    assert torch.equal(target.act_generator.get_state(), source.act_generator.get_state())
