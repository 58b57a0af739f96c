"""The reward is the score of the brick broken, row by row, through the envs (not only through the game core).

Each game gets a wall of one brick per row (written into the game state: the core's arrays for Python Breakout,
RAM through the profile's named variables for the Game Boy ROM), then the ball is sent straight up under the brick
of one row. The step that breaks it must pay that row's points (3, 3, 2, 2, 1, 1 from the top), not 1 per brick.
"""

import gymnasium as gym
import numpy as np
import pytest

import breakout_py
from breakout_py import core
from breakout_py.env import BreakoutEnv

# Points of a brick by row, from the top, as both games define them (breakout_py/core.py, roms/breakout/breakout.c).
ROW_POINTS = (3, 3, 2, 2, 1, 1)


def column_of_row(row: int) -> int:
    """The column of row `row`'s one brick: a different column per row, so a rising ball meets only its target."""
    return 3 * row + 1


def one_brick_per_row(rows: int, columns: int) -> np.ndarray:
    wall = np.zeros((rows, columns), dtype=bool)
    wall[np.arange(rows), [column_of_row(r) for r in range(rows)]] = True
    return wall


def aim_python_ball_at(state: core.GameState, game: int, row: int) -> None:
    """Ball of `game` in flight, straight up under row `row`'s brick, from just below the wall."""
    state.bricks[game] = one_brick_per_row(core.BRICK_ROWS, core.BRICK_COLS)
    state.serve_timer[game] = 0
    state.ball_x[game] = core.BRICK_X0 + (column_of_row(row) + 0.5) * core.BRICK_WIDTH
    state.ball_y[game] = core.BRICK_Y1 + 2 * core.BALL_SIZE
    state.ball_vx[game], state.ball_vy[game] = 0.0, -core.BASE_SPEED
    state.speed[game] = core.BASE_SPEED


def test_row_points_match_the_core():
    assert tuple(core.ROW_POINTS) == ROW_POINTS and core.MAX_SCORE == sum(ROW_POINTS) * core.BRICK_COLS


@pytest.mark.parametrize("row", range(core.BRICK_ROWS))
def test_python_env_reward_is_the_row_points(row):
    env = BreakoutEnv(obs_type="state")
    env.reset(seed=row)
    aim_python_ball_at(env.game, 0, row)
    for _ in range(40):
        _, reward, terminated, truncated, info = env.step(core.NOOP)
        if reward:
            break
    assert reward == ROW_POINTS[row] and info["score"] == ROW_POINTS[row]
    assert not terminated and not truncated  # five bricks are left
    expected_wall = one_brick_per_row(core.BRICK_ROWS, core.BRICK_COLS)
    expected_wall[row, column_of_row(row)] = False
    assert np.array_equal(env.game.bricks[0], expected_wall)


def test_python_vector_env_rewards_each_game_its_row_points():
    envs = gym.make_vec(breakout_py.ENV_ID, num_envs=core.BRICK_ROWS, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    for game in range(core.BRICK_ROWS):
        aim_python_ball_at(envs.games, game, row=game)
    totals, paid = np.zeros(core.BRICK_ROWS), np.zeros(core.BRICK_ROWS, dtype=bool)
    for _ in range(40):
        _, reward, terminated, _, info = envs.step(np.zeros(core.BRICK_ROWS, dtype=np.int64))
        totals += reward
        paid |= reward > 0
        if paid.all():
            break
    assert totals.tolist() == list(ROW_POINTS) and info["score"].tolist() == list(ROW_POINTS)
    assert not terminated.any()


def test_python_env_clearing_the_wall_pays_the_last_brick_and_ends_the_game():
    env = BreakoutEnv(obs_type="state")
    env.reset(seed=0)
    aim_python_ball_at(env.game, 0, row=0)
    env.game.bricks[0, 1:] = False  # the top row's brick is the last one
    rewards = []
    for _ in range(40):
        _, reward, terminated, _, info = env.step(core.NOOP)
        rewards.append(reward)
        if terminated:
            break
    assert terminated and sum(rewards) == rewards[-1] == ROW_POINTS[0] and info["score"] == ROW_POINTS[0]


# --- Game Boy Color Breakout ---------------------------------------------------------------------------------

gbc_profiles = pytest.importorskip("gbc.profiles")
needs_rom = pytest.mark.skipif(not gbc_profiles.BREAKOUT_ROM.is_file(),
                               reason="roms/breakout/breakout.gb absent: make -C roms")


def aim_rom_ball_at(env, row: int) -> None:
    """RAM writes, each through a variable the profile names: one brick per row, the ball rising under `row`'s."""
    game, constants = env.game, env.profile.constants
    rows, columns = constants["BRICK_ROWS"], constants["BRICK_COLUMNS"]
    wall = one_brick_per_row(rows, columns)
    assert env.profile.variables["bricks"].size == wall.size
    game.write("bricks", int.from_bytes(wall.astype(np.uint8).tobytes(), "little"))  # row-major, one byte a brick
    game.write("bricks_left", int(wall.sum()))
    game.write("serve_timer", 0)
    # the ROM breaks the brick under the ball's centre column: ball_x is its left edge
    game.write("ball_x", constants["PLAYFIELD_LEFT"] + column_of_row(row) * constants["BRICK_WIDTH"]
               + constants["BRICK_WIDTH"] // 2 - constants["BALL_SIZE"] // 2)
    game.write("ball_y", constants["BRICK_BOTTOM"] + 2 * constants["BALL_SIZE"])
    game.write("ball_x_frac", 0)
    game.write("ball_y_frac", 0)
    game.write("ball_dx", 0)
    game.write("ball_dy", -256 & 0xFFFF)  # int16_t: one pixel per frame, upwards


@needs_rom
def test_gbc_env_reward_is_the_row_points_of_each_row():
    from gbc.env import GameBoyEnv

    env = GameBoyEnv("breakout", obs_type="ram")
    try:
        rows, columns = env.profile.constants["BRICK_ROWS"], env.profile.constants["BRICK_COLUMNS"]
        assert rows == len(ROW_POINTS)
        for row in range(rows):
            env.reset(seed=row)
            aim_rom_ball_at(env, row)
            for _ in range(30):
                _, reward, terminated, truncated, info = env.step(0)  # NOOP
                if reward:
                    break
            assert (reward, info["score"], env.game.read("score")) == (ROW_POINTS[row],) * 3, f"row {row}"
            assert not terminated and not truncated and env.game.read("bricks_left") == rows - 1
            expected = one_brick_per_row(rows, columns)
            expected[row, column_of_row(row)] = False
            assert env.game.read_bytes("bricks") == expected.astype(np.uint8).ravel().tolist()
    finally:
        env.close()


@needs_rom
def test_gbc_env_clearing_the_wall_pays_the_last_brick_and_ends_the_game():
    from gbc.env import GameBoyEnv

    env = GameBoyEnv("breakout", obs_type="ram")
    try:
        env.reset(seed=0)
        aim_rom_ball_at(env, row=0)
        constants = env.profile.constants
        top_row_only = one_brick_per_row(constants["BRICK_ROWS"], constants["BRICK_COLUMNS"])
        top_row_only[1:] = False
        env.game.write("bricks", int.from_bytes(top_row_only.astype(np.uint8).tobytes(), "little"))
        env.game.write("bricks_left", 1)
        rewards = []
        for _ in range(30):
            _, reward, terminated, _, info = env.step(0)
            rewards.append(reward)
            if terminated:
                break
        assert terminated and sum(rewards) == rewards[-1] == ROW_POINTS[0] and info["score"] == ROW_POINTS[0]
        assert env.game.read("game_won") == 1
    finally:
        env.close()
