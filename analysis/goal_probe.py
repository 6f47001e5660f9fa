"""Does a trained PEARL or PEACH agent know where the goal is? (``python -m analysis.goal_probe RUN_DIR ...``)

For a finished MetaWorld run whose tasks differ by their goal (ML1 reach, push, ...) and its final
checkpoint, three measurements on the tasks that hold context in the checkpoint's replay:

* **z probe**: the posterior mean ``E[z | c]`` of one context batch per task (the batch the update
  draws), regressed linearly onto the task's goal position; leave-one-task-out R^2 per axis
  (:func:`leave_one_out_r2`). ~0 or below: z does not carry the goal.
* **policy direction**: the mean cosine between the hand's intended move (PEARL: the action's xyz;
  PEACH: the top's proposed subgoal minus the hand) and the direction from the hand to the goal, at
  every 10th stored step (:func:`mean_cosine`); and the same with another task's z. The gap between
  the two is what z adds; the rest is the direction every goal shares.
* **critic direction**: which of the six axis moves (PEARL: a unit action; PEACH: a subgoal 5 cm
  away) the critic values most, as the same cosine, and the spread of Q over the moves.
* PEACH only, **level 0 as a follower**: from 20 random hand positions, a subgoal up to 4 cm away
  per axis, 10 deterministic level-0 steps; the median of the remaining / initial distance
  (:func:`remaining_distance`; 1 = the hand did not move towards it).

The goal is the env's ``_target_pos`` after the variant is set and the env reset.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from algorithms.common.context import context_features
from algorithms.registry import method_from_values
from envs.benchmarks import build_suite

AXIS_MOVES = np.vstack([np.eye(3), -np.eye(3)]).astype(np.float32)
SUBGOAL_STEP = 0.05
"""PEACH's candidate subgoals lie this far (metres) from the hand along each axis."""
MIN_DISTANCE = 0.03
"""Steps closer than this to the goal are left out: the direction to it is ill-defined there."""
LEGACY_DEFAULTS = {"peach": {"subgoal_frame": "absolute", "top_transition_starts": "decisions",
                             "goal_input": "absolute"}}
"""Settings added after a run was made, at the value that reproduces the run."""


def leave_one_out_r2(features: np.ndarray, targets: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """R^2 per target column of a ridge regression (with intercept) predicting each row from all
    the others: ``1 - sum (y - y_hat)^2 / sum (y - mean y)^2``."""
    design = np.c_[features, np.ones(len(features))]
    predicted = np.empty_like(targets, dtype=float)
    for row in range(len(features)):
        others = np.arange(len(features)) != row
        gram = design[others].T @ design[others] + ridge * np.eye(design.shape[1])
        predicted[row] = design[row] @ np.linalg.solve(gram, design[others].T @ targets[others])
    return 1 - ((predicted - targets) ** 2).sum(0) / ((targets - targets.mean(0)) ** 2).sum(0)


def mean_cosine(moves: np.ndarray, directions: np.ndarray) -> float:
    """Mean cosine between rows of ``moves`` and ``directions`` (a zero move counts as 0)."""
    norms = np.linalg.norm(moves, axis=-1) * np.linalg.norm(directions, axis=-1)
    return float(np.mean((moves * directions).sum(-1) / np.maximum(norms, 1e-9)))


@dataclass(frozen=True)
class GoalReader:
    """What the probe reads from one method's agent: its episode replay, the SAC level that reads z,
    the hand move an action means, and the action of a move along each axis."""

    buffer: object
    level: object
    move: Callable[[np.ndarray, np.ndarray], np.ndarray]
    axis_action: Callable[[np.ndarray, np.ndarray], np.ndarray]


def goal_reader(method: str, agent) -> GoalReader:
    """The :class:`GoalReader` of a PEARL or PEACH agent."""
    if method == "pearl":
        def move(action, obs):
            return action[:, :3]

        def axis_action(axis, obs):
            action = np.zeros((len(obs), agent.spec.action_dim), np.float32)
            action[:, :3] = axis
            return action
        return GoalReader(agent.buffer, agent.sac, move, axis_action)
    if method == "peach":
        space = agent.space

        def move(action, obs):
            return space.goal_from_action(action, space.achieved(obs))[:, :3] - obs[:, :3]

        def axis_action(axis, obs):
            target = space.achieved(obs).copy()
            target[:, :3] = obs[:, :3] + SUBGOAL_STEP * axis
            return space.action_from_goal(target, space.achieved(obs))
        return GoalReader(agent.replay.episodes, agent.top, move, axis_action)
    raise ValueError(f"the goal probe reads PEARL and PEACH runs (z and a critic on [obs, z]), not {method!r}")


def task_goals(suite, names: list[str]) -> np.ndarray:
    """The goal position of each ``class/variant`` task name."""
    goals = []
    for name in names:
        class_name, variant = name.rsplit("/", 1)
        env = suite.make_env(class_name)
        suite.set_variant(env, class_name, int(variant))
        env.reset()
        goals.append(np.array(env._target_pos, np.float64))
    return np.array(goals)


def remaining_distance(agent, env, rng: np.random.Generator, trials: int = 20, reach: float = 0.04,
                       steps: int = 10) -> np.ndarray:
    """Per trial, the hand's distance to a subgoal after ``steps`` deterministic steps of a PEACH
    agent's level 0, over its distance at the start: the hand starts after 10 random steps from
    ``env.reset()``, the subgoal is its ego-state with xyz moved by up to ``reach`` per axis."""
    remaining = []
    for _ in range(trials):
        obs, _ = env.reset()
        for _ in range(10):
            obs = env.step(rng.uniform(-1, 1, 4))[0]
        goal = agent.space.achieved(obs).astype(np.float32)
        goal[:3] += rng.uniform(-reach, reach, 3)
        start = np.linalg.norm(goal[:3] - obs[:3])
        for _ in range(steps):
            with torch.no_grad():
                inputs = agent.goal_inputs(torch.as_tensor(obs[None], dtype=torch.float32), torch.as_tensor(goal[None]))
                obs = env.step(agent.levels[0].policy.act(inputs, None)[0].numpy())[0]
        remaining.append(np.linalg.norm(goal[:3] - obs[:3]) / start)
    return np.array(remaining)


def probe(run_dir: Path, checkpoint: Path | None = None) -> dict[str, object]:
    """The three measurements of the module docstring for one run."""
    job = json.loads((run_dir / "manifest.json").read_text())["config"]
    checkpoint = checkpoint or Path("checkpoints") / job["method"] / f"seed_{job['seed']}" / f"{run_dir.name}.pt"
    suite = build_suite(job["benchmark"], benchmark_seed=job["benchmark_seed"], episode_length=job["episode_length"])
    values = {**LEGACY_DEFAULTS.get(job["method"], {}), **job["method_values"]}
    agent = method_from_values(job["method"], values, str(run_dir)).build_agent(suite.spec, job["seed"],
                                                                                torch.device("cpu"))
    agent.load_state_dict(torch.load(checkpoint, weights_only=False, map_location="cpu")["agent"])
    reader = goal_reader(job["method"], agent)
    names = {number: name for name, number in agent.task_ids.items()}
    tasks = reader.buffer.tasks_with_context()
    goals = task_goals(suite, [names[int(task)] for task in tasks])
    rng = np.random.default_rng(0)
    latents = []
    for task in tasks:
        batch = reader.buffer.sample(np.array([task]), agent.config.embedding_batch_size, rng, context_only=True)
        next_obs = batch["next_obs"] if agent.config.use_next_obs_in_context else None
        context = torch.as_tensor(context_features(batch["obs"], batch["actions"], batch["rewards"], next_obs),
                                  dtype=torch.float32)
        with torch.no_grad():
            latents.append(agent.encoder.posterior(context)[0][0].numpy())
    latents = np.array(latents)
    own, other, critic, spread = [], [], [], []
    for task, goal, z, z_other in zip(tasks, goals, latents, np.roll(latents, 1, 0)):
        obs = reader.buffer.observations[reader.buffer.episodes_of(int(task), False)][:, :-1:10]
        obs = obs.reshape(-1, obs.shape[-1])
        obs = obs[np.linalg.norm(goal - obs[:, :3], axis=1) > MIN_DISTANCE]
        if len(obs) == 0:
            continue
        to_goal = goal - obs[:, :3]

        def inputs(latent):
            return torch.cat([torch.as_tensor(obs), torch.as_tensor(np.repeat(latent[None], len(obs), 0))], -1)

        with torch.no_grad():
            for latent, out in ((z, own), (z_other, other)):
                action = torch.tanh(reader.level.policy(inputs(latent))[0]).numpy()
                out.append(mean_cosine(reader.move(action, obs), to_goal))
            values_of_moves = np.stack([
                reader.level.min_q(inputs(z), torch.as_tensor(reader.axis_action(axis, obs))).squeeze(-1).numpy()
                for axis in AXIS_MOVES])
        critic.append(mean_cosine(AXIS_MOVES[values_of_moves.argmax(0)], to_goal))
        spread.append(float(np.mean(values_of_moves.max(0) - values_of_moves.min(0))))
    follow = float("nan")
    if job["method"] == "peach":
        class_name = names[int(tasks[0])].rsplit("/", 1)[0]
        env = suite.make_env(class_name)
        suite.set_variant(env, class_name, 0)
        follow = float(np.median(remaining_distance(agent, env, np.random.default_rng(0))))
    return {"method": job["method"], "seed": job["seed"], "run": run_dir.name, "tasks": len(tasks),
            "level0_remaining": follow,
            "z_r2": leave_one_out_r2(latents, goals), "goal_std": goals.std(0),
            "policy_cosine": float(np.mean(own)), "policy_cosine_other_z": float(np.mean(other)),
            "critic_cosine": float(np.mean(critic)), "q_spread": float(np.mean(spread))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for run_dir in args.run_dirs:
        if not (run_dir / "manifest.json").exists():
            parser.error(f"{run_dir}/manifest.json does not exist: RUN_DIR must be a finished run folder")
        result = probe(run_dir)
        r2 = " ".join(f"{value:+.2f}" for value in result["z_r2"])
        print(f"{result['method']} seed {result['seed']} run {result['run']} ({result['tasks']} tasks): "
              f"goal <- z R^2 (x y z) {r2}; policy . to-goal cosine {result['policy_cosine']:.2f} "
              f"(another task's z: {result['policy_cosine_other_z']:.2f}); critic's best axis move "
              f"cosine {result['critic_cosine']:.2f}, Q spread {result['q_spread']:.1f}"
              + (f"; level 0 leaves {result['level0_remaining']:.2f} of the distance to a subgoal"
                 if result["method"] == "peach" else ""), flush=True)


if __name__ == "__main__":
    main()
