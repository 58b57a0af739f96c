"""How a trained agent plays a Game Boy game: its action and named RAM variables at every step of whole games.

    from agents.play_trace import trace_games, summarise_trace
    trace = trace_games(agent, "GBCRunner-v0", env_kwargs, ["player_y", "next_obstacle_kind"], games=20, seed=20000)
    summary = summarise_trace(trace)

scripts/evaluate.py --trace player_y,next_obstacle_kind writes the steps as CSV and prints the summary: how often
each action is taken; each variable's spread over the steps, its most common value and that value's share (the
runner on the ground, say); and its values at each game's last step (what the agent loses to). Games are played one
at a time on one env, so the RAM is read in this process after every step (a vector env's games live in workers).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from agents.evaluation import action_chooser, check_agent_fits_env
from agents.trainer import register_env_packages
from breakout_py.errors import UserError

FEW_VALUES = 8  # a variable with at most this many distinct values gets its share at each value


def trace_games(agent: nn.Module, env_id: str, env_kwargs: dict[str, Any], variables: list[str], games: int,
                seed: int, greedy: bool = False, where: str = "the model") -> dict[str, Any]:
    """Play `games` whole games (game i on env seed `seed` + i; actions sampled from a generator seeded `seed`
    unless `greedy`) and record each step's action, reward and the named variables after the step.

    Returns {"action_names", "variables", "game", "step", "action", "reward", "values" (steps x variables), "returns"}.
    """
    if games < 1:
        raise UserError(f"--trace-games must be at least 1, got {games}")
    if not variables:
        raise UserError("--trace needs at least one RAM variable name, e.g. --trace player_y,next_obstacle_kind")
    register_env_packages()
    env = gym.make(env_id, **env_kwargs)
    try:
        profile = getattr(env.unwrapped, "profile", None)  # a Game Boy env's (gbc.profiles)
        if profile is None:
            raise UserError(f"--trace reads a Game Boy game's RAM variables by name; {env_id} is not a Game Boy env "
                            "(trace one of the GBC*-v0 envs)")
        game = env.unwrapped.game
        unknown = [name for name in variables if name not in profile.variables]
        if unknown:
            raise UserError(f"--trace: {profile.name} has no RAM variables {unknown}; it has "
                            f"{sorted(profile.variables)}")
        decoders = [profile.variables[name] for name in variables]
        check_agent_fits_env(agent, env, where)
        choose_actions = action_chooser(agent, greedy, torch.Generator().manual_seed(seed))
        game_ids, steps, actions, rewards, values, returns = [], [], [], [], [], []
        for index in range(games):
            obs, _ = env.reset(seed=seed + index)
            done, step, total = False, 0, 0.0
            while not done:
                action = int(choose_actions(obs[None])[0])
                obs, reward, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
                total += reward
                game_ids.append(index)
                steps.append(step)
                actions.append(action)
                rewards.append(reward)
                values.append([variable.value(game.read(variable.name)) for variable in decoders])
                step += 1
            returns.append(total)
    finally:
        env.close()
    return {"action_names": list(profile.action_names), "variables": list(variables),
            "game": np.asarray(game_ids), "step": np.asarray(steps), "action": np.asarray(actions),
            "reward": np.asarray(rewards, np.float64),
            "values": np.asarray(values, np.int64).reshape(-1, len(variables)),
            "returns": np.asarray(returns, np.float64)}


def _shares(values: np.ndarray) -> dict[int, float]:
    counts = Counter(values.tolist())
    return {value: round(count / values.size, 4) for value, count in sorted(counts.items())}


def summarise_trace(trace: dict[str, Any]) -> dict[str, Any]:
    """Action shares; per variable its quantiles over all steps, most common value and share, shares per value
    (at most FEW_VALUES distinct) and the values at each game's last step."""
    last_steps = np.flatnonzero(np.diff(trace["game"], append=-1) != 0)
    actions = {trace["action_names"][action]: share for action, share in _shares(trace["action"]).items()}
    variables = {}
    for column, name in enumerate(trace["variables"]):
        values = trace["values"][:, column]
        mode, mode_count = Counter(values.tolist()).most_common(1)[0]
        at_end = values[last_steps]
        summary = {"p10": float(np.percentile(values, 10)), "median": float(np.median(values)),
                   "p90": float(np.percentile(values, 90)), "mode": int(mode),
                   "mode_share": round(mode_count / values.size, 4)}
        if np.unique(values).size <= FEW_VALUES:
            summary["shares"] = _shares(values)
        summary["at_end"] = (_shares(at_end) if np.unique(at_end).size <= FEW_VALUES
                             else {"p10": float(np.percentile(at_end, 10)), "median": float(np.median(at_end)),
                                   "p90": float(np.percentile(at_end, 90))})
        variables[name] = summary
    return {"games": int(trace["returns"].size), "steps": int(trace["step"].size),
            "mean_return": round(float(trace["returns"].mean()), 2), "actions": actions, "variables": variables}


def trace_rows(trace: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The trace as a table: game, step, action (its name), reward, then one column per variable."""
    header = ["game", "step", "action", "reward", *trace["variables"]]
    rows = [[int(g), int(s), trace["action_names"][a], float(r), *map(int, v)]
            for g, s, a, r, v in zip(trace["game"], trace["step"], trace["action"], trace["reward"], trace["values"])]
    return header, rows
