"""Pixels: drawn where the state says, same picture in the window, the ideal state's layout."""

import cv2
import gymnasium as gym
import numpy as np
import pytest

import breakout_py
from breakout_py import core, render
from breakout_py.render import Renderer


def played_games(num_games=12, frames=900, seed=0):
    """Snapshots of games at different stages (ball anywhere, bricks missing, lives lost)."""
    state = core.new_games(np.arange(num_games) + seed)
    rng = np.random.default_rng(seed)
    snapshots = []
    for frame in range(frames):
        follow = np.where(state.ball_x < state.paddle_x, core.LEFT, core.RIGHT)
        actions = np.where(rng.random(num_games) < 0.3, rng.integers(0, 3, size=num_games), follow)
        core.step_frame(state, actions)
        if frame % 150 == 149:
            snapshots.append(state.copy())
    return snapshots


def pixel_centres(size):
    """Logical coordinate of each pixel's centre."""
    return (np.arange(size) + 0.5) * core.SCREEN_SIZE / size


@pytest.mark.parametrize("size", [84, 64, 100])
def test_ball_paddle_and_bricks_drawn_where_the_state_says(size):
    renderer = Renderer(size)
    centre = pixel_centres(size)
    checked_balls = 0
    for state in played_games():
        frames = renderer.render(state)
        vectors = breakout_py.state_vector(state)
        for frame, vector in zip(frames, vectors):
            # Positions as the ideal state gives them, back in logical units
            values = dict(zip(breakout_py.STATE_NAMES, vector.tolist()))
            ball_x = core.PLAY_LEFT + values["ball_x"] * (core.PLAY_RIGHT - core.PLAY_LEFT)
            ball_y = core.PLAY_TOP + values["ball_y"] * (core.SCREEN_SIZE - core.PLAY_TOP)
            paddle_x = core.PLAY_LEFT + values["paddle_x"] * (core.PLAY_RIGHT - core.PLAY_LEFT)

            ball_rows, ball_cols = np.nonzero(frame == render.BALL_GREY)
            if ball_y - core.BALL_RADIUS < core.SCREEN_SIZE - 0.5:
                assert ball_rows.size > 0
                tol = 1e-4 + 0.5 * core.SCREEN_SIZE / size  # float32 rounding of the state, half a pixel
                assert np.all(np.abs(centre[ball_cols] - ball_x) <= core.BALL_RADIUS + tol)
                assert np.all(np.abs(centre[ball_rows] - ball_y) <= core.BALL_RADIUS + tol)
                assert abs(centre[ball_cols].mean() - ball_x) <= tol
                assert abs(centre[ball_rows].mean() - ball_y) <= tol
                checked_balls += 1

            paddle_rows, paddle_cols = np.nonzero(frame == render.PADDLE_GREY)
            assert paddle_rows.size > 0
            assert np.all((centre[paddle_rows] >= core.PADDLE_Y) & (centre[paddle_rows] < core.PADDLE_Y + core.PADDLE_HEIGHT))
            assert np.all(np.abs(centre[paddle_cols] - paddle_x) <= core.PADDLE_WIDTH / 2 + 1e-4)
            assert abs(centre[paddle_cols].mean() - paddle_x) <= 0.5 * core.SCREEN_SIZE / size + 1e-4

            bricks = vector[breakout_py.STATE_INDEX["brick_r0_c0"] :].reshape(core.BRICK_ROWS, core.BRICK_COLS)
            for row in range(core.BRICK_ROWS):
                y = int((core.BRICK_Y0 + (row + 0.5) * core.BRICK_HEIGHT) * size / core.SCREEN_SIZE)
                xs = ((core.BRICK_X0 + (np.arange(core.BRICK_COLS) + 0.5) * core.BRICK_WIDTH) * size / core.SCREEN_SIZE).astype(int)
                shown = frame[y, xs]
                present = bricks[row] > 0.5
                not_ball = shown != render.BALL_GREY
                assert np.all(shown[present & not_ball] == render.BRICK_ROW_GREY[row])
                assert np.all(shown[~present & not_ball] == render.BACKGROUND_GREY)
    assert checked_balls > 50


def test_brick_rows_have_distinct_grey_levels():
    levels = [render.BACKGROUND_GREY, render.WALL_GREY, render.PADDLE_GREY, render.BALL_GREY, *render.BRICK_ROW_GREY]
    assert len(set(int(v) for v in levels)) == len(levels)


def test_our_grey_matches_opencv():
    colours = np.array([render.BACKGROUND_RGB, render.WALL_RGB, render.PADDLE_RGB, render.BALL_RGB, *render.BRICK_ROW_RGB], dtype=np.uint8)
    assert np.array_equal(render.rgb_to_grey(colours), cv2.cvtColor(colours[None], cv2.COLOR_RGB2GRAY)[0])


@pytest.mark.parametrize("obs_size", [84, 72])
def test_window_picture_is_the_agent_picture(obs_size):
    """The colour frame a person sees, shrunk to the agent's size and turned grey, is the observation."""
    env = gym.make(breakout_py.ENV_ID, obs_type="pixels", obs_size=obs_size, render_mode="rgb_array")
    obs, _ = env.reset(seed=5)
    rng = np.random.default_rng(0)
    for step in range(120):
        obs, *_ = env.step(int(rng.integers(0, 3)))
        if step % 20 == 0:
            rgb = env.render()
            scale = env.unwrapped.render_scale
            assert rgb.shape == (obs_size * scale, obs_size * scale, 3) and rgb.dtype == np.uint8
            shrunk = np.ascontiguousarray(rgb[::scale, ::scale])
            assert np.array_equal(cv2.cvtColor(shrunk, cv2.COLOR_RGB2GRAY), obs[-1])
            assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 4  # in colour, not grey


def test_score_and_lives_are_drawn_as_digits():
    renderer = Renderer(84)
    state = core.new_games([0, 0])
    state.score[:] = [216, 7]
    state.lives[:] = [3, 1]
    frames = renderer.render(state)

    def digit_at(frame, x0):
        cells = frame[render.HUD_Y0 : render.HUD_Y0 + render.GLYPH_H, x0 : x0 + render.GLYPH_W] == render.WALL_GREY
        return cells.astype(np.uint8)

    x = render.HUD_DIGIT_X
    assert [np.array_equal(digit_at(frames[0], x[i]), render.GLYPHS[d]) for i, d in enumerate([2, 1, 6, 3])] == [True] * 4
    assert not digit_at(frames[1], x[0]).any() and not digit_at(frames[1], x[1]).any()  # no leading zeros
    assert np.array_equal(digit_at(frames[1], x[2]), render.GLYPHS[7])
    assert np.array_equal(digit_at(frames[1], x[3]), render.GLYPHS[1])


def test_state_vector_layout_ranges_and_inverse():
    names = breakout_py.STATE_NAMES
    assert isinstance(names, tuple) and len(names) == breakout_py.STATE_DIM == 12 + 108
    assert len(breakout_py.STATE_DESCRIPTIONS) == breakout_py.STATE_DIM
    assert names[:3] == ("paddle_x", "ball_x", "ball_y") and names[-1] == "brick_r5_c17"
    renderer = Renderer(84)
    for state in played_games(frames=600):
        vectors = breakout_py.state_vector(state)
        assert vectors.dtype == np.float32
        assert np.all(vectors >= breakout_py.STATE_LOW) and np.all(vectors <= breakout_py.STATE_HIGH)
        rebuilt = breakout_py.state_from_vector(vectors)
        np.testing.assert_array_equal(breakout_py.state_vector(rebuilt), vectors)
        on_screen = state.ball_y < core.SCREEN_SIZE  # a lost ball's y is clipped in the vector
        np.testing.assert_array_equal(renderer.render(rebuilt)[on_screen], renderer.render(state)[on_screen])
    with pytest.raises(ValueError, match="shape"):
        breakout_py.state_from_vector(np.zeros((2, 5)))


def test_renderer_rejects_tiny_frames():
    with pytest.raises(ValueError, match="frame size"):
        Renderer(8)


def test_human_render_shows_the_game_in_a_window():
    import pygame

    env = gym.make(breakout_py.ENV_ID, obs_type="pixels", render_mode="human")
    obs, _ = env.reset(seed=2)
    for _ in range(3):
        obs, *_ = env.step(0)
    surface = pygame.display.get_surface()
    scale = surface.get_width() // obs.shape[-1]
    shown = pygame.surfarray.array3d(surface).transpose(1, 0, 2)[::scale, ::scale]
    assert np.array_equal(cv2.cvtColor(np.ascontiguousarray(shown), cv2.COLOR_RGB2GRAY), obs[-1])
    assert "score 0" in pygame.display.get_caption()[0] and "lives 3" in pygame.display.get_caption()[0]
    env.close()
    assert pygame.display.get_surface() is None


def test_vector_env_renders_every_game():
    envs = gym.make_vec(breakout_py.ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", render_mode="rgb_array")
    envs.reset(seed=0)
    frames = envs.render()
    assert frames.shape == (3, 84 * 4, 84 * 4, 3) and frames.dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])  # different serves


def test_every_accepted_size_renders_and_the_hud_shows_where_a_pixel_covers_it():
    states = core.new_games([0, 1])
    for size in range(16, 90):
        frames = breakout_py.Renderer(size).render(states)
        assert frames.shape == (2, size, size) and frames.dtype == np.uint8
    # at 21 px no pixel centre falls on some HUD digits: the frame is drawn without them, never an IndexError
    renderer = breakout_py.Renderer(21)
    assert any(cols.stop == cols.start for cols in renderer.hud_cols)
    assert all(cols.stop > cols.start for cols in breakout_py.Renderer(84).hud_cols)


def test_state_vector_scales_each_variable_and_clips_and_inverts():
    state = core.new_games([0, 1])
    state.paddle_x[:] = core.PLAY_LEFT + np.array([0.25, 0.75]) * (core.PLAY_RIGHT - core.PLAY_LEFT)
    state.paddle_hits[:] = [6, 30]  # 30 hits read as the 12 that matter
    state.serve_timer[:] = [core.SERVE_DELAY // 2, 0]
    state.score[:] = [108, 216]
    state.lives[:] = [2, 0]
    state.hit_orange[:], state.hit_red[:] = [True, False], [False, True]
    state.ball_vx[:] = [core.MAX_SPEED * 1.001, -core.MAX_SPEED * 1.001]  # a hair above the top speed: clipped
    state.ball_y[:] = [core.PLAY_TOP, core.SCREEN_SIZE + 5]  # a lost ball below the screen: clipped to 1
    state.bricks[1] = False
    vectors = core.state_vector(state)
    index = core.STATE_INDEX
    np.testing.assert_allclose(vectors[:, index["paddle_x"]], [0.25, 0.75], atol=1e-6)
    np.testing.assert_allclose(vectors[:, index["paddle_hits"]], [0.5, 1.0])
    np.testing.assert_allclose(vectors[:, index["serve_timer"]], [0.5, 0.0], atol=0.05)
    np.testing.assert_allclose(vectors[:, index["score"]], [0.5, 1.0])
    np.testing.assert_allclose(vectors[:, index["lives"]], [2 / 3, 0.0], atol=1e-6)
    np.testing.assert_array_equal(vectors[:, index["hit_orange"]], [1, 0])
    np.testing.assert_array_equal(vectors[:, index["hit_red"]], [0, 1])
    np.testing.assert_array_equal(vectors[:, index["ball_vx"]], [1.0, -1.0])
    np.testing.assert_allclose(vectors[:, index["ball_y"]], [0.0, 1.0], atol=1e-6)
    assert np.all(vectors >= core.STATE_LOW) and np.all(vectors <= core.STATE_HIGH)
    np.testing.assert_array_equal(vectors[0, core.BRICKS_OFFSET:], 1)
    np.testing.assert_array_equal(vectors[1, core.BRICKS_OFFSET:], 0)

    games = core.state_from_vector(vectors)
    np.testing.assert_array_equal(games.paddle_hits, [6, 12])
    np.testing.assert_array_equal(games.serve_timer, state.serve_timer)
    np.testing.assert_array_equal(games.score, [108, 216])
    np.testing.assert_array_equal(games.lives, [2, 0])
    np.testing.assert_array_equal(games.hit_orange, [True, False])
    np.testing.assert_array_equal(games.bricks, state.bricks)
    np.testing.assert_array_equal(games.game_over, [False, True])
    np.testing.assert_allclose(games.paddle_x, state.paddle_x, atol=1e-4)
    one = core.state_from_vector(vectors[0])  # a single vector is one game
    assert one.num_games == 1 and one.score[0] == 108
    # a vector of the wrong length is refused with the shape it needs
    with pytest.raises(ValueError, match="expected state vectors of shape"):
        core.state_from_vector(np.zeros((2, 3)))
