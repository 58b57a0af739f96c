"""Behaviour cloning of a Game Boy game's scripted player into an agent's network, on that agent's own input.

    demos = scripted_demonstrations("GBCRunner-v0", {"obs_type": "state", "state_scaling": "arrays"}, games=300)
    fit = fit_policy(agent, demos, epochs=100)          # held-out accuracy on games it never saw

When PPO leaves an agent far below the scripted player, this separates two causes: if the network, fed exactly the
observation PPO trains it on, can be fitted to the scripted player's actions and then plays as well, the input and
the network suffice and the gap is PPO's (exploration, credit assignment); if it cannot, the input or the network is
what limits the agent. The scripted player (gbc.baselines.SCRIPTED_PLAYERS) reads the RAM; the network sees only
its own observation.

The states are those the scripted player visits when it takes a uniformly random action with probability `noise`
(labelled with the action the script would have taken): as in DAgger, a clone that drifts from the script's states
has been shown how to act there. Accuracy is measured on the last games, held out whole, since the states within
one game are correlated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from agents.trainer import register_env_packages
from breakout_py.errors import UserError
from gbc.baselines import SCRIPTED_PLAYERS


@dataclass
class Demonstrations:
    """States the scripted player visited (the agent's observations), the script's action in each, which game each
    came from, and each game's return."""

    obs: np.ndarray
    actions: np.ndarray
    game: np.ndarray
    returns: np.ndarray


def scripted_demonstrations(env_id: str, env_kwargs: dict[str, Any], games: int, noise: float = 0.1,
                            seed: int = 0, max_steps: int = 1_500) -> Demonstrations:
    """Play `games` games of `env_id`'s scripted player (game i on env seed `seed` + i, at most `max_steps` agent
    steps), each step taking a random action instead with probability `noise`, and record the observations that
    `env_kwargs` give the agent."""
    if games < 2:
        raise UserError(f"--games must be at least 2 (the last tenth, at least one game, is held out), got {games}")
    if not 0 <= noise < 1:
        raise UserError(f"--noise is a probability below 1, got {noise}")
    register_env_packages()
    env = gym.make(env_id, max_episode_steps=max_steps, **env_kwargs)
    game_env = env.unwrapped
    profile = getattr(game_env, "profile", None)
    if profile is None or profile.name not in SCRIPTED_PLAYERS:
        env.close()
        raise UserError(f"{env_id} has no scripted player to clone; use one of our Game Boy games "
                        f"(profiles {sorted(SCRIPTED_PLAYERS)})")
    rng = np.random.default_rng(seed)
    obs_list, action_list, game_list, returns = [], [], [], []
    try:
        for game in range(games):
            script = SCRIPTED_PLAYERS[profile.name](profile, seed + game)
            obs, _ = env.reset(seed=seed + game)
            done, total = False, 0.0
            while not done:
                action = script.act(game_env.game.ram.read())
                obs_list.append(obs)
                action_list.append(action)
                game_list.append(game)
                if rng.random() < noise:
                    action = int(rng.integers(env.action_space.n))
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return Demonstrations(np.stack(obs_list), np.asarray(action_list, np.int64), np.asarray(game_list, np.int64),
                          np.asarray(returns))


def fit_policy(agent: nn.Module, demos: Demonstrations, epochs: int = 100, batch_size: int = 1_024,
               learning_rate: float = 1e-3, seed: int = 0, held_out: float = 0.1) -> dict[str, Any]:
    """Fit `agent`'s policy (its `policy_logits`) to the demonstrated actions by cross-entropy (Adam), holding out
    the last `held_out` share of the games (at least one); returns the final training loss and the accuracy of the
    most probable action on the training and the held-out states."""
    games = int(demos.game.max()) + 1
    first_held_out = games - max(1, int(round(games * held_out)))
    train_rows = np.flatnonzero(demos.game < first_held_out)
    test_rows = np.flatnonzero(demos.game >= first_held_out)
    if not len(train_rows):
        raise UserError(f"only {games} games: none left to train on after holding out the last")
    obs = torch.as_tensor(demos.obs)
    actions = torch.as_tensor(demos.actions)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(agent.parameters(), lr=learning_rate)
    loss = torch.zeros(())
    for _epoch in range(epochs):
        order = rng.permutation(train_rows)
        for start in range(0, len(order), batch_size):
            rows = torch.as_tensor(order[start:start + batch_size])
            loss = nn.functional.cross_entropy(agent.policy_logits(obs[rows]), actions[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def accuracy(rows: np.ndarray) -> float:
        with torch.inference_mode():
            hits = [(agent.policy_logits(obs[rows[i:i + 4_096]]).argmax(-1) == actions[rows[i:i + 4_096]]).sum().item()
                    for i in range(0, len(rows), 4_096)]
        return round(sum(hits) / len(rows), 4)

    return {"train_states": int(len(train_rows)), "held_out_states": int(len(test_rows)),
            "held_out_games": games - first_held_out, "final_loss": round(float(loss.item()), 4),
            "train_accuracy": accuracy(train_rows), "held_out_accuracy": accuracy(test_rows)}
