"""Baseline agents for our Game Boy games: uniform random, and one scripted player per game (SCRIPTED_PLAYERS):
Breakout keeps the paddle under the ball, Snake steers toward the food without running into itself, Pong keeps the
paddle level with the ball, the runner jumps over blocks and ducks under bars, the shooter fires from under the
nearest enemy column and steps aside from falling shots.

    python -m gbc.baselines --episodes 5 --seed 0 [--game snake]

prints one JSON line per episode and one summary line per agent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import tyro

import gbc  # noqa: F401  (registers the envs)
from breakout_py.errors import UserError, run_script
from breakout_py.files import json_line
from gbc.hardware import ram_obs_index
from gbc.profiles import GameProfile, UnknownProfileError

ACTION_NOOP, ACTION_LEFT, ACTION_RIGHT = 0, 1, 2
# GBCSnake-v0's actions press one direction of the D-pad; its DIR_* constants number the directions.
SNAKE_ACTION_NOOP, SNAKE_ACTION_UP, SNAKE_ACTION_DOWN, SNAKE_ACTION_LEFT, SNAKE_ACTION_RIGHT = range(5)
RUNNER_NOOP, RUNNER_JUMP, RUNNER_DUCK = 0, 1, 2
# GBCShooter-v0's actions after NOOP, LEFT, RIGHT
SHOOTER_FIRE, SHOOTER_LEFT_FIRE, SHOOTER_RIGHT_FIRE = 3, 4, 5


class RandomAgent:
    def __init__(self, action_space: gym.spaces.Discrete, seed: int):
        self._rng = np.random.default_rng(seed)
        self._n = int(action_space.n)

    def act(self, obs: np.ndarray) -> int:
        return int(self._rng.integers(self._n))


class FollowBallAgent:
    """Breakout: moves the paddle's centre toward the ball's centre, reading both from the RAM observation.

    Each time the ball turns upward it draws a new aim point within `aim_spread` px of the paddle's centre
    (default a quarter of the paddle): always catching the ball dead centre sends it back the same way, and
    the deterministic game then settles into orbits that never reach a brick.
    """

    name = "follow_ball"
    reads = ("paddle_x", "ball_x", "ball_y")  # the profile variables __init__ looks up

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


class ChaseFoodAgent:
    """Snake: steps toward the food on a move that neither hits a wall or the body nor shuts the head into a space
    smaller than the snake (counted by a flood fill), reading the grid, head and food from the RAM observation.

    Among the safe moves it takes the one that brings the head closest to the food (Manhattan distance), keeping
    its direction on a tie; with none safe, any move that survives this step; with none at all, NOOP.
    """

    name = "chase_food"
    reads = ("body_x", "body_y", "head_index", "tail_index", "length", "board", "food_x", "food_y", "direction")

    def __init__(self, profile: GameProfile, seed: int = 0):
        c = profile.constants
        self._width, self._height = c["GRID_WIDTH"], c["GRID_HEIGHT"]
        self._body, self._food = c["CELL_BODY"], c["CELL_FOOD"]
        self._steps = {c["DIR_UP"]: (0, -1), c["DIR_DOWN"]: (0, 1), c["DIR_LEFT"]: (-1, 0), c["DIR_RIGHT"]: (1, 0)}
        self._actions = {c["DIR_UP"]: SNAKE_ACTION_UP, c["DIR_DOWN"]: SNAKE_ACTION_DOWN,
                         c["DIR_LEFT"]: SNAKE_ACTION_LEFT, c["DIR_RIGHT"]: SNAKE_ACTION_RIGHT}
        index = {name: ram_obs_index(profile.address(name)) for name in (
            "body_x", "body_y", "head_index", "tail_index", "length", "board", "food_x", "food_y", "direction")}
        self._index = index
        self._board = slice(index["board"], index["board"] + self._width * self._height)

    def act(self, obs: np.ndarray) -> int:
        at = self._index
        head, tail = int(obs[at["head_index"]]), int(obs[at["tail_index"]])
        hx, hy = int(obs[at["body_x"] + head]), int(obs[at["body_y"] + head])
        tail_cell = (int(obs[at["body_x"] + tail]), int(obs[at["body_y"] + tail]))
        food = (int(obs[at["food_x"]]), int(obs[at["food_y"]]))
        length, direction = int(obs[at["length"]]), int(obs[at["direction"]])
        board = obs[self._board].reshape(self._height, self._width)
        candidates = []  # (trapped, distance to food, turns, direction)
        for move, (dx, dy) in self._steps.items():
            if move == (direction + 2) % 4:
                continue  # the game ignores a reversal
            x, y = hx + dx, hy + dy
            if not (0 <= x < self._width and 0 <= y < self._height):
                continue
            eats = (x, y) == food
            if board[y, x] == self._body and (eats or (x, y) != tail_cell):
                continue
            room = self._room(board, (x, y), None if eats else tail_cell, length + 1)
            trapped = room < length + eats
            distance = abs(x - food[0]) + abs(y - food[1])
            candidates.append((trapped, distance, move != direction, move))
        if not candidates:
            return SNAKE_ACTION_NOOP
        return self._actions[min(candidates)[3]]

    def _room(self, board: np.ndarray, start: tuple[int, int], freed: tuple[int, int] | None, enough: int) -> int:
        """Cells reachable from `start` through cells that are not body (`freed`, the tail that moves away, counts
        as free), up to `enough`."""
        blocked = board == self._body
        if freed is not None:
            blocked[freed[1], freed[0]] = False
        blocked[start[1], start[0]] = True
        stack, seen = [start], 1
        while stack and seen < enough:
            x, y = stack.pop()
            for dx, dy in self._steps.values():
                nx, ny = x + dx, y + dy
                if 0 <= nx < self._width and 0 <= ny < self._height and not blocked[ny, nx]:
                    blocked[ny, nx] = True
                    seen += 1
                    stack.append((nx, ny))
        return seen


class PongTrackBallAgent:
    """Moves the player's paddle (Pong's left one) so that its centre meets the ball's height, read from RAM.

    Each time the ball turns toward the player it draws a new aim point within `aim_spread` px of the paddle's
    centre (default 10 of its 12 half-height px): a hit off-centre sends the ball back steeply, which the CPU's
    slow paddle cannot follow, and varies the rallies.
    """

    name = "track_ball"
    reads = ("player_y", "ball_y", "ball_dx")

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


class RunnerAgent:
    """Jumps when a ground block is near ahead and ducks while an overhead bar is near, reading the runner's
    `next_obstacle_x`, `next_obstacle_kind` and `speed` from the RAM observation.

    "Near" is `lead_frames` frames of scrolling plus `margin` px between the player's front and the obstacle:
    with 4-frame decisions the jump then starts 3.5-8 frames of travel before the block, inside the window
    that clears it (the player is 8 px up from frame 3 to frame 30 of a jump).
    """

    name = "jump_duck"
    reads = ("next_obstacle_x", "next_obstacle_kind", "speed")

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
class AimAndDodgeAgent:
    """The shooter's script: fires whenever it can, moving toward the spot under the live enemy column nearest the
    cannon, but never onto a spot where an enemy shot is falling. Reads the RAM observation only.

    Each step it weighs the cannon's three next positions (left, stay, right; `step_px` apart, the cannon's speed
    times the frame skip); a position is unsafe while a shot within `danger_px` above the cannon would come down
    within `margin_px` of it. Of the safe positions it takes the nearest to its target, else the one farthest from
    the shots.
    """

    name = "aim_and_dodge"
    reads = ("player_x", "formation_x", "enemy_alive", "enemy_shots")

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


# Each game's scripted player, by profile name.
SCRIPTED_PLAYERS = {"breakout": FollowBallAgent, "snake": ChaseFoodAgent, "pong": PongTrackBallAgent,
                    "runner": RunnerAgent, "shooter": AimAndDodgeAgent}


def agent_names(game: str) -> tuple[str, str]:
    """The players of `game`: random, then its scripted player."""
    if game not in SCRIPTED_PLAYERS:
        raise UnknownProfileError(f"no scripted player for game {game!r}; games: {sorted(SCRIPTED_PLAYERS)}")
    return "random", SCRIPTED_PLAYERS[game].name


AGENTS = agent_names("breakout")


def run_episode(env: gym.Env, agent, seed: int) -> dict:
    """Play one episode; the score, the steps and how it ended (and the lives left, in a game with lives)."""
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


def make_agent(name: str, env: gym.Env, seed: int):
    """A player by name (agent_names of the env's game) for `env` (one of our GBC envs with obs_type="ram")."""
    profile = env.unwrapped.profile
    names = agent_names(profile.name)
    if name == "random":
        return RandomAgent(env.action_space, seed)
    if name == names[1]:
        return SCRIPTED_PLAYERS[profile.name](profile, seed)
    raise UserError(f"unknown baseline agent {name!r} for {profile.name}; choose from {list(names)}")


def play_episodes(name: str, episodes: int, frame_skip: int, seed: int, max_episode_steps: int = 10_000,
                  game: str = "breakout"):
    """Yields the result of each of `episodes` episodes of player `name` on `game` (a profile name); episode i uses
    seed + i."""
    agent_names(game)
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
    episodes: int = 5
    """episodes per agent"""
    seed: int = 0
    """seed of the first episode; episode i uses seed + i"""
    frame_skip: int = 4
    max_episode_steps: int = 10_000
    """agent steps before an episode is truncated"""
    game: str = "breakout"
    """the game (profile name) to play: one with a scripted player (breakout, snake, pong, runner, shooter)"""


def main(args: Args) -> None:
    if args.episodes < 1 or args.frame_skip < 1 or args.max_episode_steps < 1:
        raise UserError(f"--episodes, --frame-skip and --max-episode-steps must be positive, got {args}")
    for name in agent_names(args.game):
        scores = []
        for result in play_episodes(name, args.episodes, args.frame_skip, args.seed, args.max_episode_steps,
                                    args.game):
            scores.append(result["score"])
            print(json_line(result), flush=True)
        print(json_line({"agent": name, "game": args.game, "episodes": args.episodes,
                          "mean_score": float(np.mean(scores)),
                          "min_score": int(min(scores)), "max_score": int(max(scores))}), flush=True)


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
