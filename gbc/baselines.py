"""Baseline agents for our Game Boy games: uniform random, and each game's scripted player (`follow_ball`):
GBCBreakout-v0 keeps the paddle under the ball, GBCPong-v0 keeps the paddle level with the ball.

    python -m gbc.baselines --episodes 5 --seed 0
    python -m gbc.baselines --env-id GBCPong-v0 --episodes 50

prints one JSON line per episode and one summary line per agent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

import gymnasium as gym
import numpy as np
import tyro

import gbc  # noqa: F401  (registers the envs)
from gbc.hardware import ram_obs_index
from gbc.profiles import GameProfile

ACTION_NOOP, ACTION_LEFT, ACTION_RIGHT = 0, 1, 2


class RandomAgent:
    def __init__(self, action_space: gym.spaces.Discrete, seed: int):
        self._rng = np.random.default_rng(seed)
        self._n = int(action_space.n)

    def act(self, obs: np.ndarray) -> int:
        return int(self._rng.integers(self._n))


class FollowBallAgent:
    """Moves the paddle's centre toward the ball's centre, reading both from the RAM observation.

    Each time the ball turns upward it draws a new aim point within `aim_spread` px of the paddle's centre
    (default a quarter of the paddle): always catching the ball dead centre sends it back the same way, and
    the deterministic game then settles into orbits that never reach a brick.
    """

    def __init__(self, profile: GameProfile, seed: int = 0, aim_spread: int | None = None, dead_zone: int = 3):
        self._paddle_x = ram_obs_index(profile.address("paddle_x"))
        self._ball_x = ram_obs_index(profile.address("ball_x"))
        self._ball_y = ram_obs_index(profile.address("ball_y"))
        self._paddle_half = profile.constants["PADDLE_WIDTH"] // 2
        self._ball_half = profile.constants["BALL_SIZE"] // 2
        self._aim_spread = profile.constants["PADDLE_WIDTH"] // 4 if aim_spread is None else aim_spread
        self._dead_zone = dead_zone
        self._rng = np.random.default_rng(seed)
        self._aim = 0
        self._previous_y: int | None = None
        self._falling = True

    def act(self, obs: np.ndarray) -> int:
        ball_y = int(obs[self._ball_y])
        if self._previous_y is not None:
            if ball_y < self._previous_y and self._falling:  # the ball turned upward: aim anew for its return
                self._aim = int(self._rng.integers(-self._aim_spread, self._aim_spread + 1))
            self._falling = ball_y >= self._previous_y
        self._previous_y = ball_y
        ball_centre = int(obs[self._ball_x]) + self._ball_half
        offset = ball_centre - (int(obs[self._paddle_x]) + self._paddle_half + self._aim)
        if offset < -self._dead_zone:
            return ACTION_LEFT
        if offset > self._dead_zone:
            return ACTION_RIGHT
        return ACTION_NOOP


class PongTrackBallAgent:
    """Moves the player's paddle (Pong's left one) so that its centre meets the ball's height, read from RAM.

    Each time the ball turns toward the player it draws a new aim point within `aim_spread` px of the paddle's
    centre (default 10 of its 12 half-height px): a hit off-centre sends the ball back steeply, which the CPU's
    slow paddle cannot follow, and varies the rallies.
    """

    def __init__(self, profile: GameProfile, seed: int = 0, aim_spread: int = 10, dead_zone: int = 2):
        self._player_y = ram_obs_index(profile.address("player_y"))
        self._ball_y = ram_obs_index(profile.address("ball_y"))
        self._ball_dx = ram_obs_index(profile.address("ball_dx"))
        self._ball_dx_variable = profile.variables["ball_dx"]
        self._paddle_half = profile.constants["PADDLE_HEIGHT"] // 2
        self._ball_half = profile.constants["BALL_SIZE"] // 2
        self._up = profile.action_names.index("UP")
        self._down = profile.action_names.index("DOWN")
        self._aim_spread = aim_spread
        self._dead_zone = dead_zone
        self._rng = np.random.default_rng(seed)
        self._aim = 0
        self._coming = False

    def act(self, obs: np.ndarray) -> int:
        coming = self._ball_dx_variable.value(int(obs[self._ball_dx])) < 0
        if coming and not self._coming:  # the ball turned toward the player: aim anew
            self._aim = int(self._rng.integers(-self._aim_spread, self._aim_spread + 1))
        self._coming = coming
        ball_centre = int(obs[self._ball_y]) + self._ball_half
        offset = ball_centre - (int(obs[self._player_y]) + self._paddle_half + self._aim)
        if offset < -self._dead_zone:
            return self._up
        if offset > self._dead_zone:
            return self._down
        return ACTION_NOOP


# The scripted player (`follow_ball`) of each built-in profile.
SCRIPTED_PLAYERS = {"breakout": FollowBallAgent, "pong": PongTrackBallAgent}


def run_episode(env: gym.Env, agent, seed: int) -> dict:
    """Play one episode; the score, the steps and how it ended."""
    obs, info = env.reset(seed=seed)
    total, steps, terminated, truncated = 0.0, 0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(agent.act(obs))
        total += reward
        steps += 1
    result = {"score": info["score"], "return": total, "steps": steps, "terminated": terminated}
    if "lives" in info:
        result["lives"] = info["lives"]
    return result


AGENTS = ("random", "follow_ball")


def make_agent(name: str, env: gym.Env, seed: int):
    """A scripted player by name (AGENTS) for `env` (one of our games' envs with obs_type="ram")."""
    if name == "random":
        return RandomAgent(env.action_space, seed)
    if name == "follow_ball":
        profile = env.unwrapped.profile
        if profile.name not in SCRIPTED_PLAYERS:
            raise ValueError(f"no scripted player for profile {profile.name!r}; "
                             f"there is one for {sorted(SCRIPTED_PLAYERS)}")
        return SCRIPTED_PLAYERS[profile.name](profile, seed)
    raise ValueError(f"unknown baseline agent {name!r}; choose from {list(AGENTS)}")


def play_episodes(name: str, episodes: int, frame_skip: int, seed: int, max_episode_steps: int = 10_000,
                  env_id: str = "GBCBreakout-v0"):
    """Yields the result of each of `episodes` episodes of scripted player `name`; episode i uses seed + i."""
    env = gym.make(env_id, obs_type="ram", frame_skip=frame_skip, max_episode_steps=max_episode_steps)
    try:
        for episode in range(episodes):
            start = time.perf_counter()
            result = run_episode(env, make_agent(name, env, seed + episode), seed + episode)
            result.update(agent=name, episode=episode, seed=seed + episode,
                          seconds=round(time.perf_counter() - start, 3))
            yield result
    finally:
        env.close()


@dataclass
class Args:
    env_id: Literal["GBCBreakout-v0", "GBCPong-v0"] = "GBCBreakout-v0"
    """the game"""
    episodes: int = 5
    """episodes per agent"""
    seed: int = 0
    """seed of the first episode; episode i uses seed + i"""
    frame_skip: int = 4
    max_episode_steps: int = 10_000
    """agent steps before an episode is truncated"""


def main(args: Args) -> None:
    for name in AGENTS:
        scores = []
        for result in play_episodes(name, args.episodes, args.frame_skip, args.seed, args.max_episode_steps,
                                    args.env_id):
            scores.append(result["score"])
            print(json.dumps(result), flush=True)
        print(json.dumps({"agent": name, "env_id": args.env_id, "episodes": args.episodes,
                          "mean_score": float(np.mean(scores)),
                          "min_score": int(min(scores)), "max_score": int(max(scores))}), flush=True)


if __name__ == "__main__":
    main(tyro.cli(Args))
