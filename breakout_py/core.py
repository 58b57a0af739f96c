"""Breakout's rules, written once as NumPy code that steps a batch of N games together.

The rules follow the pygame clone aknuck/Atari-Breakout, scaled to an 84x84 logical screen
(1 logical unit = 1 pixel of the default 84x84 observation; its 30-pixel-wide bricks become 4 units,
so its lengths and speeds are multiplied by 4/30):

- an 18x6 wall; rows score 3/2/1 from the top pair down (this toolkit's values; aknuck uses 7/4/1);
- the ball speed starts at 5 (aknuck's units: pixels per frame at 30 frames/s) and rises by 1 after the
  4th and after the 12th paddle hit, by 1 on the first brick broken in the middle pair of rows
  (aknuck's "orange" rows) and by 2 on the first brick broken in the top pair (its "red" rows); a new ball
  starts again at speed 5 with these counters cleared, as in aknuck;
- a brick hit reverses the ball's vertical velocity (aknuck does the same whatever side is hit), one brick
  per frame;
- the paddle sends the ball off along (2.5 * offset, -1), offset in [-1, 1] being where the ball met the
  paddle (aknuck: ((ball.x - paddle.x) / 8, -1) over a 40-pixel paddle); the exact centre sends it straight up;
- 3 balls; the game is over when the last one is lost or when the wall is cleared.

Differences from aknuck, on purpose: the ball serves by itself after SERVE_DELAY frames (no launch key),
from a random x on the serve line, heading down at 45 degrees to a random side (aknuck always serves from
the left); these draws come from a per-game random generator kept in the state, so that a game's course
depends only on its own state and actions, never on the other games in the batch.

Every operation acts on whole arrays: no Python loop over games or bricks.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# --- Layout, in logical units (the 84x84 logical screen; y grows downwards) ---
SCREEN_SIZE = 84
HUD_HEIGHT = 8  # score and lives are drawn in y in [0, 8), above the top wall
TOP_WALL_Y0 = HUD_HEIGHT
PLAY_TOP = 11  # bottom edge of the top wall
WALL_WIDTH = 6
PLAY_LEFT = WALL_WIDTH
PLAY_RIGHT = SCREEN_SIZE - WALL_WIDTH
BRICK_ROWS = 6
BRICK_COLS = 18
BRICK_WIDTH = 4
BRICK_HEIGHT = 2
BRICK_X0 = PLAY_LEFT
BRICK_Y0 = 20
BRICK_Y1 = BRICK_Y0 + BRICK_ROWS * BRICK_HEIGHT
PADDLE_WIDTH = 6
PADDLE_HEIGHT = 2
PADDLE_Y = 76  # top edge of the paddle
BALL_SIZE = 2
BALL_RADIUS = BALL_SIZE / 2
SERVE_Y = 46
SERVE_X_MARGIN = 4  # the serve x is drawn uniformly in [PLAY_LEFT + margin, PLAY_RIGHT - margin]
LOST_Y = SCREEN_SIZE + BALL_RADIUS  # ball centre below this: the ball has left the screen, it is lost

# --- Dynamics ---
AKNUCK_TO_LOGICAL = BRICK_WIDTH / 30  # aknuck's bricks are 30 pixels wide
BASE_SPEED = 5 * AKNUCK_TO_LOGICAL  # logical units per frame
SPEED_STEP = 1 * AKNUCK_TO_LOGICAL
PADDLE_HIT_SPEEDUPS = (4, 12)  # +1 step after these paddle hits
ORANGE_ROWS = (2, 3)  # first brick broken here: +1 step
RED_ROWS = (0, 1)  # first brick broken here: +2 steps
MAX_SPEED = BASE_SPEED + SPEED_STEP * (len(PADDLE_HIT_SPEEDUPS) + 1 + 2)
PADDLE_SPEED = 8 * AKNUCK_TO_LOGICAL
PADDLE_ANGLE_FACTOR = 2.5  # horizontal part of the bounce direction at the paddle's edge (vertical part is 1)
PADDLE_MIN_X = PLAY_LEFT + PADDLE_WIDTH / 2
PADDLE_MAX_X = PLAY_RIGHT - PADDLE_WIDTH / 2
START_LIVES = 3
SERVE_DELAY = 20  # frames the ball rests on the serve line before it moves
FPS = 30  # frames per second of the game in a window (aknuck's clock)

ROW_POINTS = np.array([3, 3, 2, 2, 1, 1], dtype=np.int64)
MAX_SCORE = int(ROW_POINTS.sum() * BRICK_COLS)  # 216

NOOP, LEFT, RIGHT = 0, 1, 2
NUM_ACTIONS = 3
ACTION_MEANINGS = ("NOOP", "LEFT", "RIGHT")
_PADDLE_DIRECTION = np.array([0.0, -1.0, 1.0])

# One collision check per frame is enough only while the ball moves less than a brick height per frame.
assert MAX_SPEED < BRICK_HEIGHT, "sub-stepping would be needed: the ball could tunnel through a brick row"

# Per-game random generator: a 32-bit linear congruential generator (Numerical Recipes' constants),
# vectorised over games; draws use the top 24 bits.
_LCG_MUL = np.uint32(1664525)
_LCG_ADD = np.uint32(1013904223)


@dataclass
class GameState:
    """The complete state of N games; every field is an array whose first axis is the game."""

    paddle_x: np.ndarray  # (N,) float64, paddle centre
    ball_x: np.ndarray  # (N,) float64, ball centre
    ball_y: np.ndarray
    ball_vx: np.ndarray  # (N,) float64, logical units per frame
    ball_vy: np.ndarray
    speed: np.ndarray  # (N,) float64, |velocity|
    lives: np.ndarray  # (N,) int64, balls left including the one in play
    score: np.ndarray  # (N,) int64
    paddle_hits: np.ndarray  # (N,) int64, paddle hits by the current ball
    hit_orange: np.ndarray  # (N,) bool, the current ball has broken a brick in ORANGE_ROWS
    hit_red: np.ndarray  # (N,) bool, ... in RED_ROWS
    serve_timer: np.ndarray  # (N,) int64, frames until the ball moves (0: in play)
    bricks: np.ndarray  # (N, 6, 18) bool, True = brick present; row 0 is the top row
    game_over: np.ndarray  # (N,) bool
    rng_state: np.ndarray  # (N,) uint32, the per-game generator

    @classmethod
    def empty(cls, num_games: int) -> "GameState":
        if not isinstance(num_games, (int, np.integer)) or isinstance(num_games, bool) or num_games <= 0:
            raise ValueError(f"number of games must be a positive integer, got {num_games!r}")
        n = int(num_games)
        return cls(
            paddle_x=np.zeros(n),
            ball_x=np.zeros(n),
            ball_y=np.zeros(n),
            ball_vx=np.zeros(n),
            ball_vy=np.zeros(n),
            speed=np.zeros(n),
            lives=np.zeros(n, dtype=np.int64),
            score=np.zeros(n, dtype=np.int64),
            paddle_hits=np.zeros(n, dtype=np.int64),
            hit_orange=np.zeros(n, dtype=bool),
            hit_red=np.zeros(n, dtype=bool),
            serve_timer=np.zeros(n, dtype=np.int64),
            bricks=np.zeros((n, BRICK_ROWS, BRICK_COLS), dtype=bool),
            game_over=np.ones(n, dtype=bool),
            rng_state=np.zeros(n, dtype=np.uint32),
        )

    @property
    def num_games(self) -> int:
        return self.paddle_x.shape[0]

    def copy(self) -> "GameState":
        return GameState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def select(self, index) -> "GameState":
        """The games at `index` (an int, slice or index array) as a new state that owns its arrays."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        return GameState(**{f.name: np.array(getattr(self, f.name)[index]) for f in fields(self)})

    def equals(self, other: "GameState") -> bool:
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))


def _lcg_next(rng_state: np.ndarray) -> np.ndarray:
    return rng_state * _LCG_MUL + _LCG_ADD


def _lcg_uniform(rng_state: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) from generator states (the top 24 bits)."""
    return (rng_state >> np.uint32(8)).astype(np.float64) / float(1 << 24)


def seed_games(state: GameState, mask: np.ndarray, seeds) -> None:
    """Sets the per-game generators of the games in `mask` from integer seeds (N,) or one seed (modulo 2**32)."""
    seeds = np.broadcast_to(np.asarray(seeds, dtype=np.int64) % (1 << 32), mask.shape)
    state.rng_state[mask] = seeds[mask].astype(np.uint32)


def serve(state: GameState, mask: np.ndarray) -> None:
    """Puts a new ball on the serve line for the games in `mask`, resting for SERVE_DELAY frames."""
    games = np.flatnonzero(mask)
    if games.size == 0:
        return
    draw_x = _lcg_next(state.rng_state[games])
    draw_side = _lcg_next(draw_x)
    state.rng_state[games] = draw_side
    diagonal = BASE_SPEED / np.sqrt(2.0)
    serve_width = PLAY_RIGHT - PLAY_LEFT - 2 * SERVE_X_MARGIN
    state.ball_x[games] = PLAY_LEFT + SERVE_X_MARGIN + _lcg_uniform(draw_x) * serve_width
    state.ball_y[games] = SERVE_Y
    state.ball_vx[games] = np.where(_lcg_uniform(draw_side) < 0.5, -diagonal, diagonal)
    state.ball_vy[games] = diagonal
    state.speed[games] = BASE_SPEED
    state.paddle_hits[games] = 0
    state.hit_orange[games] = False
    state.hit_red[games] = False
    state.serve_timer[games] = SERVE_DELAY


def reset_games(state: GameState, mask: np.ndarray, seeds: np.ndarray | None = None) -> None:
    """Starts a new game in the games in `mask`; `seeds` (N,) or scalar sets their generators first."""
    mask = np.asarray(mask, dtype=bool)
    if seeds is not None:
        seed_games(state, mask, seeds)
    state.paddle_x[mask] = (PLAY_LEFT + PLAY_RIGHT) / 2
    state.lives[mask] = START_LIVES
    state.score[mask] = 0
    state.bricks[mask] = True
    state.game_over[mask] = False
    serve(state, mask)


def new_games(seeds) -> GameState:
    """N fresh games, one per seed."""
    seeds = np.atleast_1d(np.asarray(seeds))
    state = GameState.empty(seeds.shape[0])
    reset_games(state, np.ones(seeds.shape[0], dtype=bool), seeds)
    return state


def _set_speed(state: GameState, new_speed: np.ndarray) -> None:
    # a hand-made state (state_from_vector) may hold speed 0: leave its velocity alone
    scale = np.divide(new_speed, state.speed, out=np.ones_like(new_speed), where=state.speed > 0)
    state.ball_vx *= scale
    state.ball_vy *= scale
    state.speed[:] = new_speed


def step_frame(state: GameState, actions: np.ndarray) -> np.ndarray:
    """Advances every game by one frame with actions (N,) in {0, 1, 2}; returns the points scored (N,)."""
    active = ~state.game_over
    # Paddle
    state.paddle_x += _PADDLE_DIRECTION[actions] * PADDLE_SPEED * active
    np.maximum(state.paddle_x, PADDLE_MIN_X, out=state.paddle_x)  # np.clip costs more for small arrays
    np.minimum(state.paddle_x, PADDLE_MAX_X, out=state.paddle_x)

    # Serve pause
    waiting = active & (state.serve_timer > 0)
    state.serve_timer -= waiting
    moving = active & ~waiting

    # Ball motion and the three walls (mirror the overshoot so the ball stays inside)
    prev_bottom = state.ball_y + BALL_RADIUS
    state.ball_x += state.ball_vx * moving
    state.ball_y += state.ball_vy * moving
    x, y = state.ball_x, state.ball_y
    left = x < PLAY_LEFT + BALL_RADIUS
    right = x > PLAY_RIGHT - BALL_RADIUS
    top = y < PLAY_TOP + BALL_RADIUS
    x[:] = np.where(left, 2 * (PLAY_LEFT + BALL_RADIUS) - x, np.where(right, 2 * (PLAY_RIGHT - BALL_RADIUS) - x, x))
    y[:] = np.where(top, 2 * (PLAY_TOP + BALL_RADIUS) - y, y)
    state.ball_vx[:] = np.where(left, np.abs(state.ball_vx), np.where(right, -np.abs(state.ball_vx), state.ball_vx))
    state.ball_vy[:] = np.where(top, np.abs(state.ball_vy), state.ball_vy)

    # Bricks: look up the cell under the ball's leading edge (top when rising, bottom when falling)
    probe_y = y + np.where(state.ball_vy < 0, -BALL_RADIUS, BALL_RADIUS)
    row = np.floor((probe_y - BRICK_Y0) / BRICK_HEIGHT).astype(np.int64)
    col = np.floor((x - BRICK_X0) / BRICK_WIDTH).astype(np.int64)
    in_wall = moving & (row >= 0) & (row < BRICK_ROWS) & (col >= 0) & (col < BRICK_COLS)
    row *= in_wall  # any valid cell for the lookup; `in_wall` masks the result
    col *= in_wall
    games = np.arange(state.num_games)
    hit = in_wall & state.bricks[games, row, col]
    points = np.zeros(state.num_games, dtype=np.int64)
    if hit.any():
        state.bricks[games[hit], row[hit], col[hit]] = False
        state.ball_vy[:] = np.where(hit, -state.ball_vy, state.ball_vy)
        points = ROW_POINTS[row] * hit
        state.score += points
        first_orange = hit & ~state.hit_orange & ((row == ORANGE_ROWS[0]) | (row == ORANGE_ROWS[1]))
        first_red = hit & ~state.hit_red & ((row == RED_ROWS[0]) | (row == RED_ROWS[1]))
        state.hit_orange |= first_orange
        state.hit_red |= first_red
        if first_orange.any() or first_red.any():
            _set_speed(state, state.speed + SPEED_STEP * (first_orange + 2 * first_red))
        state.game_over |= hit & ~state.bricks.any(axis=(1, 2))  # the wall is cleared

    # Paddle: the ball's bottom edge crossed the paddle's top edge this frame, overlapping it horizontally
    bottom = y + BALL_RADIUS
    offset = (x - state.paddle_x) / (PADDLE_WIDTH / 2 + BALL_RADIUS)
    on_paddle = (
        moving & (state.ball_vy > 0) & (prev_bottom < PADDLE_Y) & (bottom >= PADDLE_Y) & (np.abs(offset) <= 1.0)
    )
    if on_paddle.any():
        direction_x = PADDLE_ANGLE_FACTOR * np.clip(offset, -1.0, 1.0)
        norm = np.sqrt(direction_x * direction_x + 1.0)
        state.ball_vx[:] = np.where(on_paddle, state.speed * direction_x / norm, state.ball_vx)
        state.ball_vy[:] = np.where(on_paddle, -state.speed / norm, state.ball_vy)
        y[:] = np.where(on_paddle, 2 * (PADDLE_Y - BALL_RADIUS) - y, y)
        state.paddle_hits += on_paddle
        speedup = on_paddle & np.isin(state.paddle_hits, PADDLE_HIT_SPEEDUPS)
        if speedup.any():
            _set_speed(state, state.speed + SPEED_STEP * speedup)

    # Lost ball, game over
    lost = moving & (y > LOST_Y)
    if lost.any():
        state.lives -= lost
        out_of_balls = lost & (state.lives <= 0)
        state.game_over |= out_of_balls
        serve(state, lost & ~out_of_balls)
    return points


def step(state: GameState, actions: np.ndarray, frames: int) -> np.ndarray:
    """Repeats `actions` for `frames` frames; returns the points scored (N,)."""
    total = np.zeros(state.num_games, dtype=np.int64)
    for _ in range(frames):
        total += step_frame(state, actions)
    return total


# --- The ideal state: a flat float32 vector per game ---
_SCALARS = (
    # name, description, low, high
    ("paddle_x", "paddle centre x; 0 = left wall, 1 = right wall", 0.0, 1.0),
    ("ball_x", "ball centre x; 0 = left wall, 1 = right wall", 0.0, 1.0),
    ("ball_y", "ball centre y; 0 = top wall, 1 = bottom of the screen", 0.0, 1.0),
    ("ball_vx", "ball x velocity / MAX_SPEED (positive: right)", -1.0, 1.0),
    ("ball_vy", "ball y velocity / MAX_SPEED (positive: down)", -1.0, 1.0),
    ("ball_speed", "ball speed / MAX_SPEED", 0.0, 1.0),
    ("lives", "balls left / 3", 0.0, 1.0),
    ("score", "score / MAX_SCORE", 0.0, 1.0),
    ("paddle_hits", "paddle hits by this ball / 12, capped at 1 (speed-ups at 4 and 12)", 0.0, 1.0),
    ("hit_orange", "1 once this ball broke a brick in rows 2-3 (speed-up)", 0.0, 1.0),
    ("hit_red", "1 once this ball broke a brick in rows 0-1 (speed-up)", 0.0, 1.0),
    ("serve_timer", "frames until the ball moves / SERVE_DELAY (0: in play)", 0.0, 1.0),
)
BRICK_NAMES = tuple(f"brick_r{r}_c{c}" for r in range(BRICK_ROWS) for c in range(BRICK_COLS))
STATE_NAMES: tuple[str, ...] = tuple(name for name, *_ in _SCALARS) + BRICK_NAMES
STATE_DESCRIPTIONS: tuple[str, ...] = tuple(d for _, d, *_ in _SCALARS) + tuple(
    f"1 if the brick at row {r} (0 = top), column {c} (0 = left) is present, else 0"
    for r in range(BRICK_ROWS)
    for c in range(BRICK_COLS)
)
STATE_LOW = np.array([lo for *_, lo, _ in _SCALARS] + [0.0] * len(BRICK_NAMES), dtype=np.float32)
STATE_HIGH = np.array([hi for *_, hi in _SCALARS] + [1.0] * len(BRICK_NAMES), dtype=np.float32)
STATE_DIM = len(STATE_NAMES)
STATE_INDEX = {name: i for i, name in enumerate(STATE_NAMES)}
BRICKS_OFFSET = len(_SCALARS)
_PADDLE_HITS_SCALE = PADDLE_HIT_SPEEDUPS[-1]
_Y_RANGE = SCREEN_SIZE - PLAY_TOP


def state_vector(state: GameState) -> np.ndarray:
    """The ideal state of each game, (N, STATE_DIM) float32, laid out as STATE_NAMES."""
    out = np.empty((state.num_games, STATE_DIM), dtype=np.float32)
    width = PLAY_RIGHT - PLAY_LEFT
    out[:, 0] = (state.paddle_x - PLAY_LEFT) / width
    out[:, 1] = (state.ball_x - PLAY_LEFT) / width
    out[:, 2] = (state.ball_y - PLAY_TOP) / _Y_RANGE  # clipped below: a lost ball may sit below the screen
    out[:, 3] = state.ball_vx / MAX_SPEED
    out[:, 4] = state.ball_vy / MAX_SPEED
    out[:, 5] = state.speed / MAX_SPEED
    out[:, 6] = state.lives / START_LIVES
    out[:, 7] = state.score / MAX_SCORE
    out[:, 8] = np.minimum(state.paddle_hits, _PADDLE_HITS_SCALE) / _PADDLE_HITS_SCALE
    out[:, 9] = state.hit_orange
    out[:, 10] = state.hit_red
    out[:, 11] = state.serve_timer / SERVE_DELAY
    # float rounding in the speed-ups may leave |v| a hair above MAX_SPEED
    scalars = out[:, :BRICKS_OFFSET]
    np.maximum(scalars, STATE_LOW[:BRICKS_OFFSET], out=scalars)
    np.minimum(scalars, STATE_HIGH[:BRICKS_OFFSET], out=scalars)
    out[:, BRICKS_OFFSET:] = state.bricks.reshape(state.num_games, -1)
    return out


def state_from_vector(vectors: np.ndarray) -> GameState:
    """Games whose variables are given as ideal-state vectors (N, STATE_DIM), e.g. to render chosen values.

    The inverse of `state_vector` up to float32 rounding, except that paddle hits above 12 read as 12 and
    the per-game generators start at 0.
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.shape[1] != STATE_DIM:
        raise ValueError(f"expected state vectors of shape (N, {STATE_DIM}), got {np.shape(vectors)}")
    state = GameState.empty(v.shape[0])
    width = PLAY_RIGHT - PLAY_LEFT
    state.paddle_x[:] = PLAY_LEFT + v[:, 0] * width
    state.ball_x[:] = PLAY_LEFT + v[:, 1] * width
    state.ball_y[:] = PLAY_TOP + v[:, 2] * _Y_RANGE
    state.ball_vx[:] = v[:, 3] * MAX_SPEED
    state.ball_vy[:] = v[:, 4] * MAX_SPEED
    state.speed[:] = v[:, 5] * MAX_SPEED
    state.lives[:] = np.rint(v[:, 6] * START_LIVES)
    state.score[:] = np.rint(v[:, 7] * MAX_SCORE)
    state.paddle_hits[:] = np.rint(v[:, 8] * _PADDLE_HITS_SCALE)
    state.hit_orange[:] = v[:, 9] > 0.5
    state.hit_red[:] = v[:, 10] > 0.5
    state.serve_timer[:] = np.rint(v[:, 11] * SERVE_DELAY)
    state.bricks[:] = (v[:, BRICKS_OFFSET:] > 0.5).reshape(-1, BRICK_ROWS, BRICK_COLS)
    state.game_over[:] = (state.lives <= 0) | ~state.bricks.any(axis=(1, 2))
    return state
