"""Play a trained agent for whole games and summarise its returns (used by scripts/evaluate.py and for shipping)."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from agents.checkpoint import CheckpointError, check_state_spec
from agents.trainer import make_vec_env
from breakout_py.baselines import play_first_games
from breakout_py.errors import UserError


def check_agent_fits_env(agent: nn.Module, envs: gym.vector.VectorEnv | gym.Env, where: str) -> None:
    """Raise CheckpointError when the env's observations or actions (a vector env's, or one env's) are not those the
    network was built for, or when the env reads another state spec than the one the agent trained on
    (agents.checkpoint.load_agent)."""
    check_state_spec(getattr(agent, "trained_state_spec", None), envs.metadata.get("state_spec"), where)
    config = agent.config
    obs_shape = list(getattr(envs, "single_observation_space", envs.observation_space).shape)
    n_actions = int(getattr(envs, "single_action_space", envs.action_space).n)
    if config["obs_shape"] != obs_shape or config["n_actions"] != n_actions:
        raise CheckpointError(
            f"{where} was trained on observations {tuple(config['obs_shape'])} with {config['n_actions']} actions, "
            f"but this env gives {tuple(obs_shape)} with {n_actions}; evaluate it on the env id and env kwargs it "
            "was trained with (leave --env-kwargs empty to use the model's own)"
        )


def action_chooser(agent: nn.Module, greedy: bool, generator: torch.Generator,
                   device: str | torch.device = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """Actions for a batch of observations: the most probable one if `greedy`, else sampled from the policy."""
    def choose_actions(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = agent.policy_logits(torch.as_tensor(obs, device=device))
            if greedy:
                return logits.argmax(-1).cpu().numpy()
            return torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).squeeze(-1).cpu().numpy()
    return choose_actions


def evaluate_agent(agent: nn.Module, env_id: str, env_kwargs: dict[str, Any], episodes: int, seed: int,
                   greedy: bool = False, where: str = "the model",
                   device: str | torch.device = "cpu") -> dict[str, Any]:
    """Returns and lengths of the first game of each of `episodes` parallel envs, seeded with `seed`, and the state
    spec the env read (`state_spec`: its metadata's record, None without one).

    Actions are sampled from the policy (as in training) unless `greedy`, which takes the most probable one.
    """
    if episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {episodes}")
    envs = make_vec_env(env_id, episodes, env_kwargs)
    choose_actions = action_chooser(agent, greedy, torch.Generator(device=device).manual_seed(seed), device)

    try:
        check_agent_fits_env(agent, envs, where)
        returns, lengths = play_first_games(envs, seed, choose_actions)
    finally:
        envs.close()
    return {"returns": returns, "lengths": lengths, "state_spec": envs.metadata.get("state_spec")}


def summarise_returns(returns: np.ndarray) -> dict[str, float]:
    return {"episodes": int(returns.size), "mean_return": round(float(returns.mean()), 2),
            "std_return": round(float(returns.std()), 2), "median_return": float(np.median(returns)),
            "min_return": float(returns.min()), "max_return": float(returns.max())}
