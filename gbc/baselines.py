"""Baseline agents for our GBC games: uniform random, and one scripted player per game (SCRIPTED_PLAYERS):
Breakout's keeps the paddle under the ball; the runner's jumps over blocks and ducks under bars.

    python -m gbc.baselines --episodes 5 --seed 0
    python -m gbc.baselines --env-id GBCRunner-v0 --episodes 50

prints one JSON line per episode and one summary line per agent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import tyro

import gbc  # noqa: F401  (registers the envs)
from breakout_py.errors import UserError, run_script
from gbc.hardware import ram_obs_index
from gbc.profiles import GameProfile

ACTION_NOOP, ACTION_LEFT, ACTION_RIGHT = 0, 1, 2
RUNNER_NOOP, RUNNER_JUMP, RUNNER_DUCK = 0, 1, 2


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


class RunnerAgent:
    """Jumps when a ground block is near ahead and ducks while an overhead bar is near, reading the runner's
    `next_obstacle_x`, `next_obstacle_kind` and `speed` from the RAM observation.

    "Near" is `lead_frames` frames of scrolling plus `margin` px between the player's front and the obstacle:
    with 4-frame decisions the jump then starts 3.5-8 frames of travel before the block, inside the window
    that clears it (the player is 8 px up from frame 3 to frame 30 of a jump).
    """

    def __init__(self, profile: GameProfile, seed: int = 0, lead_frames: int = 8, margin: int = 8):
        self._obstacle_x = ram_obs_index(profile.address("next_obstacle_x"))
        self._obstacle_kind = ram_obs_index(profile.address("next_obstacle_kind"))
        self._speed = ram_obs_index(profile.address("speed"))
        constants = profile.constants
        self._player_front = constants["PLAYER_X"] + constants["PLAYER_WIDTH"]
        self._block, self._bar = constants["COLUMN_BLOCK"], constants["COLUMN_BAR"]
        self._lead_frames, self._margin = lead_frames, margin

    def act(self, obs: np.ndarray) -> int:
        kind = int(obs[self._obstacle_kind])
        gap = int(obs[self._obstacle_x]) - self._player_front
        speed = (int(obs[self._speed]) | int(obs[self._speed + 1]) << 8) / 256  # px per frame
        if gap <= self._lead_frames * speed + self._margin:
            if kind == self._block:
                return RUNNER_JUMP
            if kind == self._bar:
                return RUNNER_DUCK
        return RUNNER_NOOP


# The scripted player of each built-in game: profile name -> (player name, class made with (profile, seed)).
SCRIPTED_PLAYERS: dict[str, tuple[str, type]] = {
    "breakout": ("follow_ball", FollowBallAgent),
    "runner": ("jump_duck", RunnerAgent),
}


def agent_names(profile: str) -> tuple[str, ...]:
    """The baseline agents of a game: random, then its scripted player if it has one."""
    scripted = SCRIPTED_PLAYERS.get(profile)
    return ("random",) if scripted is None else ("random", scripted[0])


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


AGENTS = agent_names("breakout")


def make_agent(name: str, env: gym.Env, seed: int):
    """A baseline agent by name (agent_names of the env's profile) for `env` (made with obs_type="ram")."""
    profile = env.unwrapped.profile
    if name == "random":
        return RandomAgent(env.action_space, seed)
    scripted = SCRIPTED_PLAYERS.get(profile.name)
    if scripted is not None and name == scripted[0]:
        return scripted[1](profile, seed)
    raise ValueError(f"unknown baseline agent {name!r} for {profile.name}; choose from {list(agent_names(profile.name))}")


def play_episodes(name: str, episodes: int, frame_skip: int, seed: int, max_episode_steps: int = 10_000,
                  env_id: str = "GBCBreakout-v0"):
    """Yields the result of each of `episodes` episodes of agent `name` on `env_id`; episode i uses seed + i."""
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
    env_id: str = "GBCBreakout-v0"
    """one of our games' envs (GBCBreakout-v0, GBCRunner-v0, ...)"""
    episodes: int = 5
    """episodes per agent"""
    seed: int = 0
    """seed of the first episode; episode i uses seed + i"""
    frame_skip: int = 4
    max_episode_steps: int = 10_000
    """agent steps before an episode is truncated"""


def main(args: Args) -> None:
    games = {env_id: spec.kwargs["profile"] for env_id, spec in gym.registry.items()
             if env_id.startswith("GBC") and spec.kwargs.get("profile") in SCRIPTED_PLAYERS}
    if args.env_id not in games:
        raise UserError(f"no baselines for env {args.env_id!r}: choose one of {sorted(games)}")
    profile = games[args.env_id]
    for name in agent_names(profile):
        scores = []
        for result in play_episodes(name, args.episodes, args.frame_skip, args.seed, args.max_episode_steps,
                                    args.env_id):
            scores.append(result["score"])
            print(json.dumps(result), flush=True)
        print(json.dumps({"agent": name, "episodes": args.episodes, "mean_score": float(np.mean(scores)),
                          "min_score": int(min(scores)), "max_score": int(max(scores))}), flush=True)


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
