"""The rules of Python Breakout, checked on the NumPy core one situation at a time."""

import numpy as np
import pytest

from breakout_py import core


def game_with_ball(x, y, vx, vy, bricks=None, paddle_x=None, speed=None, num_games=1):
    """Games in play with the ball placed by hand (no serve pause); also used by test_breakout_core_mutants.py."""
    state = core.new_games(np.arange(num_games))
    state.serve_timer[:] = 0
    state.ball_x[:] = x
    state.ball_y[:] = y
    state.ball_vx[:] = vx
    state.ball_vy[:] = vy
    state.speed[:] = speed if speed is not None else np.hypot(vx, vy)
    if bricks is not None:
        state.bricks[:] = bricks
    if paddle_x is not None:
        state.paddle_x[:] = paddle_x
    return state


def run_until(state, condition, max_frames=500, action=core.NOOP):
    for frame in range(max_frames):
        if condition(state):
            return frame
        core.step_frame(state, np.array([action]))
    raise AssertionError("condition never met")


def brick_centre(row, col):
    return core.BRICK_X0 + (col + 0.5) * core.BRICK_WIDTH, core.BRICK_Y0 + (row + 0.5) * core.BRICK_HEIGHT


@pytest.mark.parametrize("row,points", [(0, 3), (1, 3), (2, 2), (3, 2), (4, 1), (5, 1)])
def test_brick_scores_by_row_and_reverses_the_ball(row, points):
    bricks = np.zeros((core.BRICK_ROWS, core.BRICK_COLS), dtype=bool)
    bricks[row, 7] = True
    bricks[row, 12] = True  # another brick keeps the wall from being cleared
    x, _ = brick_centre(row, 7)
    state = game_with_ball(x, core.SERVE_Y, 0.0, -core.BASE_SPEED, bricks=bricks)
    total = 0
    for _ in range(200):
        total += core.step_frame(state, np.array([core.NOOP]))[0]
        if not state.bricks[0, row, 7]:
            break
    assert total == points == core.ROW_POINTS[row]
    assert state.score[0] == points
    assert state.ball_vy[0] > 0  # bounced back down
    assert state.bricks[0, row, 12] and state.bricks[0].sum() == 1


def test_row_points_add_up_to_max_score():
    assert core.MAX_SCORE == 216 == core.BRICK_COLS * 2 * (3 + 2 + 1)


def bounce_on_paddle(state):
    """Drops the ball onto the paddle centre from above and waits for the bounce."""
    hits = state.paddle_hits[0]
    state.ball_x[:] = state.paddle_x
    state.ball_y[:] = core.PADDLE_Y - 6
    state.ball_vx[:] = 0.0
    state.ball_vy[:] = state.speed
    run_until(state, lambda s: s.paddle_hits[0] == hits + 1, max_frames=50)


def test_speed_rises_after_4th_and_12th_paddle_hit():
    state = game_with_ball(42.0, 50.0, 0.0, core.BASE_SPEED, paddle_x=42.0)
    speeds = []
    for _ in range(14):
        bounce_on_paddle(state)
        speeds.append(state.speed[0])
    steps = np.round((np.array(speeds) - core.BASE_SPEED) / core.SPEED_STEP).astype(int)
    assert steps.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]
    np.testing.assert_allclose(np.hypot(state.ball_vx, state.ball_vy), state.speed)


def break_brick(state, row, col):
    x, y = brick_centre(row, col)
    state.ball_x[:] = x
    state.ball_y[:] = y + 4
    speed = state.speed[0]
    state.ball_vx[:] = 0.0
    state.ball_vy[:] = -speed
    run_until(state, lambda s: not s.bricks[0, row, col], max_frames=50)


def test_speed_rises_on_first_orange_and_first_red_brick_only():
    bricks = np.zeros((core.BRICK_ROWS, core.BRICK_COLS), dtype=bool)
    for row, col in [(5, 0), (4, 1), (3, 2), (2, 3), (1, 4), (0, 5), (0, 17)]:
        bricks[row, col] = True
    state = game_with_ball(42.0, 50.0, 0.0, -core.BASE_SPEED, bricks=bricks)
    level = lambda: round((state.speed[0] - core.BASE_SPEED) / core.SPEED_STEP)  # noqa: E731
    break_brick(state, 5, 0)
    break_brick(state, 4, 1)
    assert level() == 0  # the bottom rows never speed the ball up
    break_brick(state, 3, 2)
    assert level() == 1 and state.hit_orange[0]
    break_brick(state, 2, 3)
    assert level() == 1  # only the first orange brick counts
    break_brick(state, 1, 4)
    assert level() == 3 and state.hit_red[0]
    break_brick(state, 0, 5)
    assert level() == 3
    np.testing.assert_allclose(np.hypot(state.ball_vx, state.ball_vy), state.speed)


def bounce_direction(offset):
    """Ball velocity after meeting the paddle at `offset` (-1 left edge .. 1 right edge)."""
    reach = core.PADDLE_WIDTH / 2 + core.BALL_RADIUS
    state = game_with_ball(42.0 + offset * reach, core.PADDLE_Y - 4, 0.0, core.BASE_SPEED, paddle_x=42.0)
    run_until(state, lambda s: s.paddle_hits[0] == 1, max_frames=20)
    return state.ball_vx[0], state.ball_vy[0]


def test_paddle_bounce_angle_follows_contact_point():
    vx0, vy0 = bounce_direction(0.0)
    assert vx0 == 0.0 and vy0 == pytest.approx(-core.BASE_SPEED)  # the centre sends the ball straight up
    offsets = [-1.0, -0.5, -0.1, 0.1, 0.5, 0.95]
    angles = []
    for offset in offsets:
        vx, vy = bounce_direction(offset)
        assert vy < 0
        assert np.hypot(vx, vy) == pytest.approx(core.BASE_SPEED)
        angles.append(np.degrees(np.arctan2(vx, -vy)))
    assert np.all(np.diff(angles) > 0)  # further right, further to the right
    # aknuck: direction ((ball.x - paddle.x) / 8, -1) over a 40-pixel paddle, so 2.5 : 1 at the edge
    assert angles[0] == pytest.approx(-np.degrees(np.arctan(2.5)), abs=0.01)
    assert angles[1] == pytest.approx(-np.degrees(np.arctan(1.25)), abs=0.01)


def test_ball_beside_the_paddle_is_not_bounced():
    reach = core.PADDLE_WIDTH / 2 + core.BALL_RADIUS
    state = game_with_ball(42.0 + reach + 0.5, core.PADDLE_Y - 4, 0.0, core.BASE_SPEED, paddle_x=42.0)
    for _ in range(20):
        core.step_frame(state, np.array([core.NOOP]))
    assert state.paddle_hits[0] == 0 and state.lives[0] == core.START_LIVES - 1


@pytest.mark.parametrize(
    "vx,vy,check",
    [
        (-1.0, 0.1, lambda s: s.ball_vx[0] > 0),  # left wall
        (1.0, 0.1, lambda s: s.ball_vx[0] < 0),  # right wall
        (0.1, -1.0, lambda s: s.ball_vy[0] > 0),  # top wall
    ],
)
def test_walls_reflect_the_ball_and_keep_it_inside(vx, vy, check):
    no_bricks = np.zeros((core.BRICK_ROWS, core.BRICK_COLS), dtype=bool)
    no_bricks[5, 0] = True
    state = game_with_ball(42.0, 50.0, vx, vy, bricks=no_bricks)
    xs, ys = [], []
    for _ in range(60):
        core.step_frame(state, np.array([core.NOOP]))
        xs.append(state.ball_x[0])
        ys.append(state.ball_y[0])
    assert check(state)
    assert min(xs) >= core.PLAY_LEFT + core.BALL_RADIUS and max(xs) <= core.PLAY_RIGHT - core.BALL_RADIUS
    assert min(ys) >= core.PLAY_TOP + core.BALL_RADIUS


def test_paddle_moves_and_stops_at_the_walls():
    state = game_with_ball(42.0, 50.0, 0.0, 0.0)
    core.step_frame(state, np.array([core.RIGHT]))
    assert state.paddle_x[0] == pytest.approx(42.0 + core.PADDLE_SPEED)
    core.step(state, np.array([core.LEFT]), 200)
    assert state.paddle_x[0] == core.PADDLE_MIN_X == core.PLAY_LEFT + core.PADDLE_WIDTH / 2
    core.step(state, np.array([core.RIGHT]), 200)
    assert state.paddle_x[0] == core.PADDLE_MAX_X


def miss_the_ball(state):
    """Sends the ball past the paddle and waits until it is lost."""
    lives = state.lives[0]
    state.serve_timer[:] = 0
    state.paddle_x[:] = core.PADDLE_MIN_X
    state.ball_x[:] = core.PADDLE_MAX_X
    state.ball_y[:] = core.PADDLE_Y - 3
    state.ball_vx[:] = 0.0
    state.ball_vy[:] = state.speed
    run_until(state, lambda s: s.lives[0] == lives - 1, max_frames=50)


def test_losing_a_ball_costs_a_life_and_serves_a_fresh_ball():
    state = game_with_ball(42.0, 50.0, 0.0, core.BASE_SPEED)
    state.speed[:] = core.BASE_SPEED + 3 * core.SPEED_STEP
    state.paddle_hits[:] = 5
    state.hit_orange[:] = True
    miss_the_ball(state)
    assert state.lives[0] == 2 and not state.game_over[0]
    assert state.ball_y[0] == core.SERVE_Y and state.serve_timer[0] == core.SERVE_DELAY
    assert state.speed[0] == core.BASE_SPEED and state.paddle_hits[0] == 0 and not state.hit_orange[0]
    assert state.ball_vy[0] > 0  # served downwards
    assert abs(state.ball_vx[0]) == pytest.approx(state.ball_vy[0])  # at 45 degrees
    serve_x = state.ball_x[0]
    core.step(state, np.array([core.NOOP]), core.SERVE_DELAY)
    assert state.ball_x[0] == serve_x and state.ball_y[0] == core.SERVE_Y  # resting during the pause
    core.step_frame(state, np.array([core.NOOP]))
    assert state.ball_y[0] > core.SERVE_Y


def test_game_over_after_the_third_ball_and_then_frozen():
    state = game_with_ball(42.0, 50.0, 0.0, core.BASE_SPEED)
    for lives_left in (2, 1):
        miss_the_ball(state)
        assert state.lives[0] == lives_left and not state.game_over[0]
    miss_the_ball(state)
    assert state.lives[0] == 0 and state.game_over[0]
    frozen = state.copy()
    core.step(state, np.array([core.RIGHT]), 30)
    assert state.equals(frozen)


def test_clearing_the_wall_ends_the_game():
    bricks = np.zeros((core.BRICK_ROWS, core.BRICK_COLS), dtype=bool)
    bricks[0, 17] = True
    x, _ = brick_centre(0, 17)
    state = game_with_ball(x, core.SERVE_Y, 0.0, -core.BASE_SPEED, bricks=bricks)
    state.score[:] = core.MAX_SCORE - 3
    run_until(state, lambda s: s.game_over[0], max_frames=100)
    assert state.score[0] == core.MAX_SCORE and state.lives[0] == 3 and not state.bricks.any()


def test_fastest_ball_cannot_pass_through_a_brick_row():
    """At top speed and any angle the ball must stop at the first brick in its way, never skip a row."""
    rng = np.random.default_rng(3)
    n = 400
    angles = rng.uniform(-1.1, 1.1, size=n)  # up to 63 degrees from vertical
    state = core.new_games(np.arange(n))
    state.serve_timer[:] = 0
    state.bricks[:] = False
    state.bricks[:, 4, :] = True  # a single row, 2 units high
    state.bricks[:, 0, 0] = True  # keeps the wall from being cleared
    state.speed[:] = core.MAX_SPEED
    state.ball_x[:] = rng.uniform(20, 64, size=n)
    state.ball_y[:] = core.SERVE_Y + rng.uniform(0, 2, size=n)
    state.ball_vx[:] = core.MAX_SPEED * np.sin(angles)
    state.ball_vy[:] = -core.MAX_SPEED * np.cos(angles)
    for _ in range(40):
        core.step_frame(state, np.zeros(n, dtype=np.int64))
        assert np.all(state.ball_y > core.BRICK_Y0 + 4 * core.BRICK_HEIGHT - core.BALL_RADIUS)
    assert np.all(state.score == 1)  # every ball broke exactly one brick of that row
