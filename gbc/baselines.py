"""Baseline agents for our Game Boy games: uniform random, and one scripted player per game (SCRIPTED_PLAYERS):
Breakout keeps the paddle under the ball; the shooter aims under the nearest enemy column and dodges shots.

    python -m gbc.baselines --episodes 5 --seed 0 [--game shooter]

prints one JSON line per episode and one summary line per agent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

import gymnasium as gym
import numpy as np
import tyro

import gbc  # noqa: F401  (registers the envs)
from breakout_py.errors import UserError, run_script
from gbc.hardware import ram_obs_index
from gbc.profiles import GameProfile

ACTION_NOOP, ACTION_LEFT, ACTION_RIGHT = 0, 1, 2  # GBCBreakout-v0 (and the first three of GBCShooter-v0)
SHOOTER_FIRE, SHOOTER_LEFT_FIRE, SHOOTER_RIGHT_FIRE = 3, 4, 5  # GBCShooter-v0's other actions


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


class AimAndDodgeAgent:
    """The shooter's script: fires whenever it can, moving toward the spot under the live enemy column nearest the
    cannon, but never onto a spot where an enemy shot is falling. Reads the RAM observation only.

    Each step it weighs the cannon's three next positions (left, stay, right; `step_px` apart, the cannon's speed
    times the frame skip); a position is unsafe while a shot within `danger_px` above the cannon would come down
    within `margin_px` of it. Of the safe positions it takes the nearest to its target, else the one farthest from
    the shots.
    """

    def __init__(self, profile: GameProfile, seed: int = 0, danger_px: int = 48, margin_px: int = 3,
                 step_px: int = 8):
        del seed  # deterministic: the seeded game varies the episodes
        c = profile.constants
        self._player_x = ram_obs_index(profile.address("player_x"))
        self._formation_x = ram_obs_index(profile.address("formation_x"))
        self._alive = ram_obs_index(profile.address("enemy_alive"))
        self._shots = ram_obs_index(profile.address("enemy_shots"))
        self._rows, self._columns, self._shot_count = c["FORMATION_ROWS"], c["FORMATION_COLUMNS"], c["ENEMY_SHOTS"]
        self._spacing, self._enemy_width = c["COLUMN_SPACING"], c["ENEMY_WIDTH"]
        self._shot_offset, self._shot_width = c["SHOT_OFFSET_X"], c["ENEMY_SHOT_WIDTH"]
        self._shot_height, self._player_y, self._player_width = c["SHOT_HEIGHT"], c["PLAYER_Y"], c["PLAYER_WIDTH"]
        self._left, self._right = c["PLAYFIELD_LEFT"], c["PLAYER_X_MAX"]
        self._danger, self._margin, self._step = danger_px, margin_px, step_px

    def _falling_shots(self, obs: np.ndarray) -> list[int]:
        """Left pixel columns of the enemy shots about to come down on the cannon's row."""
        columns = []
        for i in range(self._shot_count):
            active, sx, sy = (int(v) for v in obs[self._shots + 3 * i : self._shots + 3 * i + 3])
            if active and sy + self._shot_height >= self._player_y - self._danger and sy <= self._player_y + 8:
                columns.append(sx + self._shot_offset)
        return columns

    def _target(self, obs: np.ndarray, x: int) -> int:
        """Cannon x that puts its shot over the middle of the nearest live enemy column (x itself if none)."""
        formation_x = int(obs[self._formation_x]) | int(obs[self._formation_x + 1]) << 8
        formation_x -= (formation_x >> 15) << 16  # int16_t
        columns = 0
        for row in range(self._rows):
            columns |= int(obs[self._alive + row])
        targets = [formation_x + c * self._spacing + self._enemy_width // 2 - self._shot_offset - 1
                   for c in range(self._columns) if columns >> c & 1]
        return min(targets, key=lambda t: abs(t - x)) if targets else x

    def act(self, obs: np.ndarray) -> int:
        x = int(obs[self._player_x])
        shots = self._falling_shots(obs)
        target = self._target(obs, x)
        options = {SHOOTER_FIRE: x, SHOOTER_LEFT_FIRE: max(x - self._step, self._left),
                   SHOOTER_RIGHT_FIRE: min(x + self._step, self._right)}

        def clearance(position: int) -> int:
            """Pixels between the cannon at `position` (with the margin) and the nearest falling shot."""
            gaps = [max(column - (position + self._player_width), position - (column + self._shot_width))
                    for column in shots]
            return min(gaps, default=self._danger) - self._margin

        safe = [action for action, position in options.items() if clearance(position) >= 0]
        if not safe:
            return max(options, key=lambda action: clearance(options[action]))
        # within 3 px of the target the shot still meets the enemy: stay rather than overshoot
        return min(safe, key=lambda action: (max(abs(options[action] - target) - 3, 0), action != SHOOTER_FIRE))


@dataclass(frozen=True)
class ScriptedPlayer:
    """A game's scripted player: its name and how to make one for the game's profile and a seed."""

    name: str
    make: Callable[[GameProfile, int], object]


SCRIPTED_PLAYERS: dict[str, ScriptedPlayer] = {  # profile name -> its scripted player
    "breakout": ScriptedPlayer("follow_ball", FollowBallAgent),
    "shooter": ScriptedPlayer("aim_and_dodge", AimAndDodgeAgent),
}


def players(game: str) -> tuple[str, ...]:
    """The baseline players of a game: random and its scripted player."""
    if game not in SCRIPTED_PLAYERS:
        raise UserError(f"no scripted player for game {game!r}; games with one: {sorted(SCRIPTED_PLAYERS)}")
    return ("random", SCRIPTED_PLAYERS[game].name)


def run_episode(env: gym.Env, agent, seed: int) -> dict:
    """Play one episode; the score, the steps and how it ended."""
    obs, info = env.reset(seed=seed)
    total, steps, terminated, truncated = 0.0, 0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(agent.act(obs))
        total += reward
        steps += 1
    return {"score": info["score"], "return": total, "steps": steps, "terminated": terminated, "lives": info["lives"]}


AGENTS = players("breakout")  # GBCBreakout-v0's players


def make_agent(name: str, env: gym.Env, seed: int):
    """A baseline player by name (`players(game)`) for `env` (one of our games' envs with obs_type="ram")."""
    profile = env.unwrapped.profile
    if name == "random":
        return RandomAgent(env.action_space, seed)
    scripted = SCRIPTED_PLAYERS.get(profile.name)
    if scripted is not None and name == scripted.name:
        return scripted.make(profile, seed)
    raise ValueError(f"unknown baseline agent {name!r} for {profile.name}; choose from {list(players(profile.name))}")


def play_episodes(name: str, episodes: int, frame_skip: int, seed: int, max_episode_steps: int = 10_000,
                  game: str = "breakout"):
    """Yields the result of each of `episodes` episodes of player `name` of `game` (a profile name with a scripted
    player); episode i uses seed + i."""
    players(game)  # a clear error for a game without a scripted player
    env = gym.make("GBC-v0", profile=game, obs_type="ram", frame_skip=frame_skip,
                   max_episode_steps=max_episode_steps)
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
    game: str = "breakout"
    """the game (profile name): breakout or shooter"""
    episodes: int = 5
    """episodes per agent"""
    seed: int = 0
    """seed of the first episode; episode i uses seed + i"""
    frame_skip: int = 4
    max_episode_steps: int = 10_000
    """agent steps before an episode is truncated"""


def main(args: Args) -> None:
    for name in players(args.game):
        scores = []
        for result in play_episodes(name, args.episodes, args.frame_skip, args.seed, args.max_episode_steps,
                                    args.game):
            scores.append(result["score"])
            print(json.dumps(result), flush=True)
        print(json.dumps({"agent": name, "game": args.game, "episodes": args.episodes,
                          "mean_score": float(np.mean(scores)), "min_score": int(min(scores)),
                          "max_score": int(max(scores))}), flush=True)


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
