"""Rules of the NumPy core that the mutation run of breakout_py/core.py found unchecked: exact serves from the
per-game generator, exact wall and paddle mirrors, the frame a brick or a ball is taken, speed-ups, batches of
games that must not disturb each other, and the ideal state vector's edges."""

import numpy as np
import pytest

from breakout_py import core
from test_breakout_rules import game_with_ball

MASK32 = (1 << 32) - 1
MUL, ADD = 1664525, 1013904223  # Numerical Recipes' LCG, as documented in core


def one_brick(row, col, keep=(0, 17)):
    """A wall of one brick plus another far away that keeps the wall from being cleared."""
    bricks = np.zeros((core.BRICK_ROWS, core.BRICK_COLS), dtype=bool)
    bricks[row, col] = True
    if keep is not None:
        bricks[keep] = True
    return bricks


def brick_centre(row, col):
    return core.BRICK_X0 + (col + 0.5) * core.BRICK_WIDTH, core.BRICK_Y0 + (row + 0.5) * core.BRICK_HEIGHT


def frame(state, action=core.NOOP):
    return core.step_frame(state, np.full(state.num_games, action))


def reference_serve(seed):
    """The serve of a new game, computed from the documented generator with Python integers."""
    draw_x = (seed % (1 << 32) * MUL + ADD) & MASK32
    draw_side = (draw_x * MUL + ADD) & MASK32
    width = core.PLAY_RIGHT - core.PLAY_LEFT - 2 * core.SERVE_X_MARGIN
    x = core.PLAY_LEFT + core.SERVE_X_MARGIN + (draw_x >> 8) / (1 << 24) * width
    diagonal = core.BASE_SPEED / np.sqrt(2.0)
    vx = -diagonal if (draw_side >> 8) / (1 << 24) < 0.5 else diagonal
    return x, vx, draw_side


# --- Game states ---


@pytest.mark.parametrize("num_games", [0, -2, True, 2.5, "3"])
def test_number_of_games_must_be_a_positive_integer(num_games):
    with pytest.raises(ValueError, match="positive integer"):
        core.GameState.empty(num_games)


def test_game_state_fields_have_their_documented_types():
    state = core.new_games([0, 1])
    floats = ("paddle_x", "ball_x", "ball_y", "ball_vx", "ball_vy", "speed")
    ints = ("lives", "score", "paddle_hits", "serve_timer")
    for name in floats:
        assert getattr(state, name).dtype == np.float64, name
    for name in ints:
        assert getattr(state, name).dtype == np.int64, name
    for name in ("hit_orange", "hit_red", "bricks", "game_over"):
        assert getattr(state, name).dtype == bool, name
    assert state.rng_state.dtype == np.uint32
    made = core.state_from_vector(core.state_vector(state))
    for name in ints:
        assert getattr(made, name).dtype == np.int64, name


# --- Serving ---


@pytest.mark.parametrize("seed", [0, 1, 7, 12345, 2**31 + 5, MASK32, -1, (1 << 32) + 7])
def test_serve_follows_the_per_game_generator_exactly(seed):
    x, vx, rng_after = reference_serve(seed)
    state = core.new_games([seed])
    assert state.ball_x[0] == pytest.approx(x, abs=1e-12)
    assert state.ball_vx[0] == pytest.approx(vx, abs=1e-15)
    assert state.rng_state[0] == rng_after
    assert state.ball_y[0] == core.SERVE_Y and state.serve_timer[0] == core.SERVE_DELAY


def test_seeds_count_modulo_2_to_the_32():
    a = core.new_games([-1, 7, 3])
    b = core.new_games([MASK32, (1 << 32) + 7, 3])
    assert a.equals(b)


def test_serve_puts_the_ball_on_the_serve_line_within_the_margins():
    state = core.new_games(np.arange(4000))
    low = core.PLAY_LEFT + core.SERVE_X_MARGIN
    high = core.PLAY_RIGHT - core.SERVE_X_MARGIN
    assert np.all(state.ball_x >= low) and np.all(state.ball_x <= high)
    assert state.ball_x.min() < low + 0.2 and state.ball_x.max() > high - 0.2  # the whole line is used
    assert np.all(state.ball_y == core.SERVE_Y)


def test_serve_heads_down_at_45_degrees_at_base_speed_to_either_side():
    state = core.new_games(np.arange(2000))
    np.testing.assert_allclose(np.hypot(state.ball_vx, state.ball_vy), core.BASE_SPEED)
    np.testing.assert_allclose(np.abs(state.ball_vx), state.ball_vy)
    assert np.all(state.ball_vy > 0) and np.all(state.speed == core.BASE_SPEED)
    left = np.mean(state.ball_vx < 0)
    assert 0.45 < left < 0.55


def test_a_side_draw_of_exactly_one_half_serves_to_the_right():
    # run the generator backwards from a side draw whose top 24 bits read exactly 0.5
    inverse = pow(MUL, -1, 1 << 32)
    draw_side = 1 << 31
    draw_x = ((draw_side - ADD) * inverse) & MASK32
    seed = ((draw_x - ADD) * inverse) & MASK32
    state = core.new_games([seed])
    assert state.rng_state[0] == draw_side
    assert state.ball_vx[0] > 0  # a draw below one half serves to the left, one half and above to the right


def test_reset_games_takes_a_0_1_mask_and_resets_only_those_games():
    state = core.new_games([1, 2, 3])
    state.score[:] = 50
    state.lives[:] = 1
    state.bricks[:, 0, :] = False
    core.reset_games(state, np.array([0, 1, 0]), seeds=9)
    fresh = core.new_games([9])
    assert state.select(1).equals(fresh)
    for game in (0, 2):
        assert state.score[game] == 50 and state.lives[game] == 1 and not state.bricks[game, 0].any()


# --- Walls ---


@pytest.mark.parametrize(
    "x,y,vx,vy,x_after,y_after",
    [
        (7.5, 50.0, -1.0, 0.0, 7.5, 50.0),  # left wall at x = 7: 6.5 is mirrored to 7.5
        (76.5, 50.0, 1.0, 0.0, 76.5, 50.0),  # right wall at x = 77
        (42.0, 12.5, 0.0, -1.0, 42.0, 12.5),  # top wall at y = 12: 11.5 is mirrored to 12.5
    ],
)
def test_walls_mirror_the_overshoot_exactly(x, y, vx, vy, x_after, y_after):
    state = game_with_ball(x, y, vx, vy, bricks=one_brick(5, 0, keep=None), speed=1.0)
    frame(state)
    assert state.ball_x[0] == x_after and state.ball_y[0] == y_after
    assert state.ball_vx[0] == -vx and state.ball_vy[0] == -vy


@pytest.mark.parametrize(
    "x,y,vx,vy",
    [
        (8.0, 50.0, -1.0, 0.0),  # reaches x = 7, the left wall's contact line
        (76.0, 50.0, 1.0, 0.0),  # reaches x = 77
        (42.0, 13.0, 0.0, -1.0),  # reaches y = 12
    ],
)
def test_a_ball_exactly_touching_a_wall_turns_only_once_it_would_overshoot(x, y, vx, vy):
    state = game_with_ball(x, y, vx, vy, bricks=one_brick(5, 0, keep=None), speed=1.0)
    frame(state)
    assert (state.ball_x[0], state.ball_y[0]) == (x + vx, y + vy)  # touching, not past
    assert (state.ball_vx[0], state.ball_vy[0]) == (vx, vy)
    frame(state)
    assert (state.ball_x[0], state.ball_y[0]) == (x, y)  # the overshoot mirrored back
    assert (state.ball_vx[0], state.ball_vy[0]) == (-vx, -vy)


# --- Bricks ---


def test_a_rising_ball_breaks_a_brick_when_its_top_edge_enters_it():
    x, _ = brick_centre(5, 8)  # row 5 spans y in [30, 32)
    state = game_with_ball(x, 34.0, 0.0, -1.0, bricks=one_brick(5, 8))
    assert frame(state)[0] == 0  # y = 33: top edge at 32, just below the brick
    assert frame(state)[0] == 1  # y = 32: top edge at 31, inside it
    assert not state.bricks[0, 5, 8] and state.ball_y[0] == 32.0 and state.ball_vy[0] == 1.0


def test_a_falling_ball_breaks_a_brick_when_its_bottom_edge_enters_it():
    x, _ = brick_centre(0, 8)  # row 0 spans y in [20, 22); the ball comes down on it from above the wall
    state = game_with_ball(x, 16.0, 0.0, 0.5, bricks=one_brick(0, 8))
    points = [frame(state)[0] for _ in range(6)]
    assert points == [0, 0, 0, 0, 0, 3]  # y = 19: bottom edge at 20
    assert not state.bricks[0, 0, 8] and state.ball_y[0] == 19.0 and state.ball_vy[0] < 0


@pytest.mark.parametrize("row,steps", [(0, 2), (1, 2), (2, 1), (3, 1), (4, 0), (5, 0)])
def test_the_first_brick_of_each_row_pair_speeds_the_ball_up(row, steps):
    x, y = brick_centre(row, 8)
    state = game_with_ball(x, y + 4, 0.0, -core.BASE_SPEED, bricks=one_brick(row, 8))
    for _ in range(20):
        frame(state)
        if not state.bricks[0, row, 8]:
            break
    assert not state.bricks[0, row, 8]
    assert state.speed[0] == pytest.approx(core.BASE_SPEED + steps * core.SPEED_STEP)
    assert state.hit_orange[0] == (row in core.ORANGE_ROWS) and state.hit_red[0] == (row in core.RED_ROWS)


def test_a_brick_speed_up_rescales_the_velocity_in_the_same_frame():
    x, y = brick_centre(3, 8)
    vx, vy = 0.3, -0.5
    state = game_with_ball(x, y + 2.5, vx, vy, bricks=one_brick(3, 8))
    speed = np.hypot(vx, vy)
    while state.bricks[0, 3, 8]:
        frame(state)
    new_speed = speed + core.SPEED_STEP
    assert state.speed[0] == pytest.approx(new_speed)
    assert np.hypot(state.ball_vx[0], state.ball_vy[0]) == pytest.approx(new_speed)
    assert state.ball_vx[0] == pytest.approx(vx * new_speed / speed)  # same direction, vertical part reversed
    assert state.ball_vy[0] == pytest.approx(-vy * new_speed / speed)


def test_a_paddle_speed_up_rescales_the_velocity_in_the_same_frame():
    # the 4th paddle hit, off the paddle's centre
    state = game_with_ball(43.0, core.PADDLE_Y - 3, 0.0, core.BASE_SPEED, paddle_x=42.0)
    state.paddle_hits[:] = 3
    while state.paddle_hits[0] == 3:
        frame(state)
    new_speed = core.BASE_SPEED + core.SPEED_STEP
    assert state.speed[0] == pytest.approx(new_speed)
    assert np.hypot(state.ball_vx[0], state.ball_vy[0]) == pytest.approx(new_speed)
    assert state.ball_vx[0] > 0 and state.ball_vy[0] < 0


def test_a_speed_up_leaves_the_velocity_of_hand_made_balls_with_speed_0_alone():
    # state_from_vector can make such balls: their speed rises, their velocity is only bounced
    x, y = brick_centre(3, 8)
    state = game_with_ball(x, y + 2.5, 0.25, -0.5, bricks=one_brick(3, 8), speed=0.0, num_games=8)
    frames = 0
    while state.bricks[0, 3, 8]:
        frame(state)
        frames += 1
    assert frames == 2
    np.testing.assert_array_equal(state.ball_vx, 0.25)
    np.testing.assert_array_equal(state.ball_vy, 0.5)
    np.testing.assert_allclose(state.speed, core.SPEED_STEP)


def test_clearing_one_wall_ends_only_that_game():
    x, y = brick_centre(0, 8)
    state = game_with_ball(x, y + 3, 0.0, -1.0, num_games=2)
    state.bricks[0] = one_brick(0, 8, keep=None)  # game 0: its last brick; game 1: a full wall
    state.ball_x[1] = core.PLAY_LEFT + 3  # game 1's ball rises along the left wall, under no brick yet
    state.ball_y[1] = 60.0
    while state.bricks[0].any():
        frame(state)
    assert state.game_over.tolist() == [True, False]


# --- Paddle ---


def test_a_ball_landing_exactly_on_the_paddle_top_bounces_that_frame():
    state = game_with_ball(42.0, core.PADDLE_Y - 5, 0.0, 1.0, paddle_x=42.0)
    for _ in range(4):  # y = 75: the bottom edge lands exactly on the paddle top
        frame(state)
    assert state.paddle_hits[0] == 1
    assert state.ball_y[0] == core.PADDLE_Y - 1 and state.ball_vy[0] == -1.0


def test_paddle_bounce_mirrors_the_overshoot_above_the_paddle():
    state = game_with_ball(42.0, core.PADDLE_Y - 4.5, 0.0, 1.0, paddle_x=42.0)
    for _ in range(4):  # y = 75.5: the bottom edge 0.5 past the paddle top
        frame(state)
    assert state.paddle_hits[0] == 1
    assert state.ball_y[0] == core.PADDLE_Y - 1.5  # mirrored to 0.5 above the contact line


def test_a_ball_already_level_with_the_paddle_top_is_not_bounced_when_the_paddle_slides_under_it():
    reach = core.PADDLE_WIDTH / 2 + core.BALL_RADIUS
    state = game_with_ball(42.0 + reach + 0.5, core.PADDLE_Y - 5, 0.0, 1.0, paddle_x=42.0)
    for _ in range(4):
        frame(state)
    assert state.ball_y[0] + core.BALL_RADIUS == core.PADDLE_Y  # beside the paddle, bottom edge level with its top
    assert state.paddle_hits[0] == 0
    frame(state, core.RIGHT)  # the paddle moves under the ball, which comes in from the side
    assert abs(state.ball_x[0] - state.paddle_x[0]) < reach
    assert state.paddle_hits[0] == 0 and state.ball_vy[0] > 0
    core.step(state, np.array([core.NOOP]), 20)
    assert state.lives[0] == core.START_LIVES - 1


# --- Lost balls ---


def test_a_ball_centre_exactly_on_the_lost_line_is_still_in_play():
    state = game_with_ball(20.0, core.LOST_Y - 5, 0.0, 1.0, paddle_x=core.PADDLE_MAX_X)
    core.step(state, np.array([core.NOOP]), 5)
    assert state.ball_y[0] == core.LOST_Y and state.lives[0] == core.START_LIVES
    frame(state)
    assert state.lives[0] == core.START_LIVES - 1 and state.ball_y[0] == core.SERVE_Y


def test_a_finished_game_stays_over_while_the_other_games_break_bricks_and_lose_balls():
    x, y = brick_centre(5, 8)
    state = game_with_ball(x, y + 3, 0.0, -1.0, bricks=one_brick(5, 8), num_games=3)
    state.lives[0] = 0
    state.game_over[0] = True  # game 0 is over
    state.ball_x[2] = 20.0  # game 2's ball falls far from its paddle
    state.ball_y[2] = core.PADDLE_Y - 4
    state.ball_vy[2] = 1.0
    state.paddle_x[2] = core.PADDLE_MAX_X
    frozen = state.select(0)
    for _ in range(15):
        frame(state)
        assert state.select(0).equals(frozen)
    assert not state.bricks[1, 5, 8] and state.score[1] == 1 and not state.game_over[1]  # game 1 broke its brick
    assert state.lives[2] == core.START_LIVES - 1 and not state.game_over[2]  # game 2 lost a ball


def test_step_returns_the_points_of_every_frame_as_integers():
    x, y = brick_centre(5, 8)
    state = game_with_ball(x, y + 3, 0.0, -1.0, bricks=one_brick(5, 8))
    points = core.step(state, np.array([core.NOOP]), 10)  # the brick breaks in the 2nd frame
    assert not state.bricks[0, 5, 8]
    assert points.dtype == np.int64 and points.tolist() == [1]


# --- The ideal state vector ---


def test_state_vector_scales_counters_and_timers():
    state = core.new_games([0])
    state.paddle_hits[:] = 3
    state.serve_timer[:] = 5
    vector = core.state_vector(state)[0]
    assert vector[core.STATE_INDEX["paddle_hits"]] == pytest.approx(3 / 12)
    assert vector[core.STATE_INDEX["serve_timer"]] == pytest.approx(5 / core.SERVE_DELAY)


def test_state_vector_clips_every_scalar_into_its_bounds():
    state = core.new_games([0])
    state.paddle_x[:] = 0.0  # hand-made values outside the screen and above the top speed
    state.ball_y[:] = 200.0
    state.ball_vx[:] = -5 * core.MAX_SPEED
    state.ball_vy[:] = 5 * core.MAX_SPEED
    state.speed[:] = 5 * core.MAX_SPEED
    state.score[:] = 2 * core.MAX_SCORE
    vector = core.state_vector(state)[0]
    index = core.STATE_INDEX
    assert vector[index["paddle_x"]] == 0.0 and vector[index["ball_y"]] == 1.0
    assert vector[index["ball_vx"]] == -1.0 and vector[index["ball_vy"]] == 1.0
    assert vector[index["ball_speed"]] == 1.0 and vector[index["score"]] == 1.0
    assert np.all(vector >= core.STATE_LOW) and np.all(vector <= core.STATE_HIGH)


def test_state_from_vector_reads_each_flag_and_the_serve_timer_from_its_own_entry():
    vectors = core.state_vector(core.new_games([0, 1, 2]))
    index = core.STATE_INDEX
    vectors[:, index["hit_orange"]] = [1, 0, 0]
    vectors[:, index["hit_red"]] = [0, 1, 0]
    vectors[:, index["serve_timer"]] = [0.0, 0.0, 1.0]
    state = core.state_from_vector(vectors)
    assert state.hit_orange.tolist() == [True, False, False]
    assert state.hit_red.tolist() == [False, True, False]
    assert state.serve_timer.tolist() == [0, 0, core.SERVE_DELAY]


def test_state_from_vector_reads_flags_and_bricks_as_set_only_above_one_half():
    vectors = np.zeros((2, core.STATE_DIM))
    vectors[:, core.STATE_INDEX["lives"]] = 1.0
    for name in ("hit_orange", "hit_red"):
        vectors[:, core.STATE_INDEX[name]] = [0.5, 0.51]
    vectors[:, core.BRICKS_OFFSET :] = 0.5
    vectors[:, core.BRICKS_OFFSET + 3] = [0.51, 0.51]  # one brick present in both games
    state = core.state_from_vector(vectors)
    assert state.hit_orange.tolist() == [False, True] and state.hit_red.tolist() == [False, True]
    assert state.bricks.sum(axis=(1, 2)).tolist() == [1, 1] and state.bricks[:, 0, 3].all()


def test_state_from_vector_sets_game_over_from_lives_and_bricks_game_by_game():
    lives = [0, 1, 3, 3, 0]
    has_bricks = [True, True, True, False, False]
    vectors = np.zeros((5, core.STATE_DIM))
    vectors[:, core.STATE_INDEX["lives"]] = np.array(lives) / core.START_LIVES
    vectors[has_bricks, core.BRICKS_OFFSET + 20] = 1.0
    state = core.state_from_vector(vectors)
    assert state.lives.tolist() == lives
    assert state.game_over.tolist() == [True, False, False, True, True]


def test_state_from_vector_names_the_shape_it_was_given():
    with pytest.raises(ValueError, match=rf"\(N, {core.STATE_DIM}\), got \(3, 7\)"):
        core.state_from_vector(np.zeros((3, 7)))
    with pytest.raises(ValueError, match=r"got \(2, 3, 4\)"):
        core.state_from_vector(np.zeros((2, 3, 4)))
    one = core.state_from_vector(np.zeros(core.STATE_DIM))
    assert one.num_games == 1
