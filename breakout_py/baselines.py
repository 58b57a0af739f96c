"""Scripted reference players for BreakoutPy-v0: uniform random, and a ball-follower that moves the paddle toward
the ball's x. Their mean returns are the reference lines of scripts/04_compare.py's plots.

    .venv/bin/python -m breakout_py.baselines                          # frame skips 1-4, 200 games each
    .venv/bin/python -m breakout_py.baselines --frame-skips 4 --games 500 --seed 3

prints one JSON line per (agent, frame skip): mean, std, median, min and max return over the games.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import gymnasium as gym
import numpy as np
import tyro

from . import core
from .core import STATE_INDEX
from .errors import run_script
from .files import json_line

ACTION_NOOP, ACTION_LEFT, ACTION_RIGHT = 0, 1, 2
# The follower holds still while the ball is within this many logical pixels of the paddle's centre (a sixth of the
# paddle's width): moving for less would overshoot by a paddle step.
FOLLOW_DEAD_ZONE = core.PADDLE_WIDTH / 6 / (core.PLAY_RIGHT - core.PLAY_LEFT)
# The ideal-state variables the follower reads.
FOLLOW_BALL_READS = ("ball_x", "paddle_x")


def follow_ball_actions(states: np.ndarray) -> np.ndarray:
    """Actions of the ball-follower for a batch of ideal-state observations (N, STATE_DIM): LEFT or RIGHT toward
    the ball's x, NOOP within the dead zone. It does not anticipate where the ball will land."""
    ball_x, paddle_x = (states[:, STATE_INDEX[name]] for name in FOLLOW_BALL_READS)
    offset = ball_x - paddle_x
    return np.where(offset < -FOLLOW_DEAD_ZONE, ACTION_LEFT,
                    np.where(offset > FOLLOW_DEAD_ZONE, ACTION_RIGHT, ACTION_NOOP)).astype(np.int64)


def random_actions(states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 3, size=len(states))


def play_games(agent: str, games: int, frame_skip: int, seed: int, max_episode_steps: int = 10_000) -> np.ndarray:
    """Return of the first game of each of `games` parallel envs (one vector env, seeded with `seed`)."""
    if agent not in AGENTS:
        raise ValueError(f"unknown baseline agent {agent!r}; choose from {sorted(AGENTS)}")
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    envs = gym.make_vec("BreakoutPy-v0", num_envs=games, vectorization_mode="vector_entry_point",
                        obs_type="state", frame_skip=frame_skip, max_episode_steps=max_episode_steps)
    rng = np.random.default_rng(seed)
    try:
        returns, _ = play_first_games(envs, seed, lambda obs: follow_ball_actions(obs) if agent == "follow_ball"
                                      else random_actions(obs, rng))
    finally:
        envs.close()
    return returns


def play_first_games(envs: gym.vector.VectorEnv, seed: int,
                     choose_actions: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Return and length of the first game of each sub-env of `envs` (reset with `seed`), actions from
    `choose_actions(observations)`; a sub-env's later games (after autoreset) are played but not counted."""
    returns, lengths = np.zeros(envs.num_envs), np.zeros(envs.num_envs, dtype=np.int64)
    finished = np.zeros(envs.num_envs, dtype=bool)
    obs, _ = envs.reset(seed=seed)
    while not finished.all():
        obs, reward, terminated, truncated, _ = envs.step(choose_actions(obs))
        returns[~finished] += reward[~finished]
        lengths[~finished] += 1
        finished |= np.asarray(terminated) | np.asarray(truncated)
    return returns, lengths


AGENTS = ("random", "follow_ball")


def summarise(returns: np.ndarray) -> dict:
    return {"games": int(returns.size), "mean_return": round(float(returns.mean()), 2),
            "std_return": round(float(returns.std()), 2), "median_return": float(np.median(returns)),
            "min_return": float(returns.min()), "max_return": float(returns.max())}


@dataclass
class Args:
    agents: tuple[Literal["random", "follow_ball"], ...] = AGENTS
    """which scripted players to run (a name outside AGENTS is a usage error)"""
    frame_skips: tuple[int, ...] = field(default_factory=lambda: (1, 2, 3, 4))
    """game frames per agent step to measure"""
    games: int = 200
    """games per (agent, frame skip)"""
    seed: int = 0
    """seed of the vector env (and of the random player)"""
    max_episode_steps: int = 10_000
    """agent steps before a game is truncated"""


def main(args: Args) -> list[dict]:
    results = []
    for agent in args.agents:
        for frame_skip in args.frame_skips:
            returns = play_games(agent, args.games, frame_skip, args.seed, args.max_episode_steps)
            result = {"env_id": "BreakoutPy-v0", "agent": agent, "frame_skip": frame_skip, "seed": args.seed,
                      **summarise(returns)}
            print(json_line(result), flush=True)
            results.append(result)
    return results


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
