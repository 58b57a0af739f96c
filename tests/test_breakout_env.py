"""The Gymnasium envs: registration, check_env, seeding, batch/single agreement, autoreset, bad input."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import breakout_py
from breakout_py import core
from breakout_py.env import BreakoutEnv, BreakoutVectorEnv


def make_vec(num_envs, **kwargs):
    return gym.make_vec(breakout_py.ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def test_registered_with_both_entry_points():
    spec = gym.spec(breakout_py.ENV_ID)
    assert spec.entry_point == "breakout_py.env:BreakoutEnv"
    assert spec.vector_entry_point == "breakout_py.env:BreakoutVectorEnv"
    envs = make_vec(3)
    assert isinstance(envs, BreakoutVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_action_space == gym.spaces.Discrete(3)


@pytest.mark.parametrize("obs_type", ["state", "pixels"])
def test_check_env_passes(obs_type):
    env = gym.make(breakout_py.ENV_ID, obs_type=obs_type).unwrapped
    check_env(env, skip_render_check=False)


def test_observation_spaces():
    env = gym.make(breakout_py.ENV_ID)
    obs, info = env.reset(seed=0)
    assert obs.shape == (len(breakout_py.STATE_NAMES),) == (breakout_py.STATE_DIM,) and obs.dtype == np.float32
    assert len(set(breakout_py.STATE_NAMES)) == breakout_py.STATE_DIM
    assert info == {"score": 0, "lives": 3}
    env = gym.make(breakout_py.ENV_ID, obs_type="pixels", obs_size=64, frame_stack=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 64, 64) and obs.dtype == np.uint8
    assert all(np.array_equal(obs[0], frame) for frame in obs)  # the stack starts filled with the first frame
    next_obs, *_ = env.step(0)
    assert np.array_equal(next_obs[:-1], obs[1:])  # oldest first: frames shift by one per step


def play(env, actions):
    """(observations, rewards, terminated, truncated, infos) of a fixed action sequence."""
    out = []
    for action in actions:
        out.append(env.step(action))
    return out


@pytest.mark.parametrize("obs_type", ["state", "pixels"])
def test_same_seed_same_episode(obs_type):
    actions = np.random.default_rng(0).integers(0, 3, size=300)
    runs = []
    for _ in range(2):
        env = gym.make(breakout_py.ENV_ID, obs_type=obs_type)
        first, _ = env.reset(seed=123)
        runs.append((first, play(env, actions)))
    assert np.array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1], runs[1][1]):
        assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    other = gym.make(breakout_py.ENV_ID, obs_type=obs_type)
    other.reset(seed=124)
    other_run = play(other, actions)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(runs[0][1], other_run))


def test_vector_env_same_seed_same_episodes():
    actions = np.random.default_rng(1).integers(0, 3, size=(200, 5))
    results = []
    for _ in range(2):
        envs = make_vec(5, obs_type="state", max_episode_steps=60)
        obs, _ = envs.reset(seed=9)
        steps = [envs.step(a) for a in actions]
        results.append((obs, np.stack([s[0] for s in steps]), np.stack([s[1] for s in steps])))
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def tracking_actions(paddle_x, ball_x, rng, noise=0.3):
    """Follows the ball, with a random action a fraction `noise` of the time: long games that score."""
    follow = np.where(ball_x < paddle_x - 1, core.LEFT, np.where(ball_x > paddle_x + 1, core.RIGHT, core.NOOP))
    return np.where(rng.random(paddle_x.shape) < noise, rng.integers(0, 3, size=paddle_x.shape), follow)


def test_batched_core_agrees_with_single_games_step_for_step():
    seeds = np.array([0, 1, 2, 3, 10, 20, 30, 2**32 - 1])
    batch = core.new_games(seeds)
    singles = [core.new_games([seed]) for seed in seeds]
    rng = np.random.default_rng(5)
    for frame in range(3000):
        actions = tracking_actions(batch.paddle_x, batch.ball_x, rng, noise=0.2)
        points = core.step_frame(batch, actions)
        for i, single in enumerate(singles):
            assert core.step_frame(single, actions[i : i + 1])[0] == points[i]
        if frame % 50 == 0:
            for i, single in enumerate(singles):
                assert batch.select(i).equals(single), f"game {i} differs at frame {frame}"
    for i, single in enumerate(singles):
        assert batch.select(i).equals(single)
    # the run went through real play: points, lost balls, speed-ups
    assert (batch.score > 0).all() and (batch.lives < 3).any() and (batch.speed > core.BASE_SPEED).any()


@pytest.mark.parametrize("obs_type", ["state", "pixels"])
def test_vector_env_agrees_with_single_env(obs_type):
    """Game 0 of the vector env reset with seed s plays like the single env reset with seed s."""
    envs = make_vec(4, obs_type=obs_type)
    env = gym.make(breakout_py.ENV_ID, obs_type=obs_type)
    vec_obs, _ = envs.reset(seed=77)
    obs, _ = env.reset(seed=77)
    assert np.array_equal(vec_obs[0], obs)
    rng = np.random.default_rng(2)
    for _ in range(500):
        actions = rng.integers(0, 3, size=4)
        vec_obs, vec_reward, vec_term, vec_trunc, vec_info = envs.step(actions)
        obs, reward, term, trunc, info = env.step(int(actions[0]))
        assert np.array_equal(vec_obs[0], obs) and vec_reward[0] == reward and vec_term[0] == term
        assert vec_info["score"][0] == info["score"] and vec_info["lives"][0] == info["lives"]
        if term:
            break


def test_reward_is_the_score_gained_and_info_tracks_score_and_lives():
    envs = make_vec(16, obs_type="state")
    obs, _ = envs.reset(seed=3)
    rng = np.random.default_rng(3)
    totals = np.zeros(16)
    ended = np.zeros(16, dtype=bool)
    lives_seen = set()
    paddle, ball = breakout_py.STATE_INDEX["paddle_x"], breakout_py.STATE_INDEX["ball_x"]
    for _ in range(600):
        obs, reward, terminated, truncated, info = envs.step(tracking_actions(obs[:, paddle], obs[:, ball], rng))
        totals = np.where(ended, 0.0, totals + reward)  # a game restarted by autoreset counts from 0
        assert np.array_equal(info["score"], totals)
        lives_seen.update(info["lives"].tolist())
        ended = terminated | truncated
    assert totals.max() > 0 and 3 in lives_seen and min(lives_seen) < 3


def test_truncation_and_next_step_autoreset():
    envs = make_vec(2, obs_type="pixels", max_episode_steps=5)
    envs.reset(seed=0)
    for step in range(1, 6):
        obs, reward, terminated, truncated, info = envs.step(np.array([2, 2]))
        assert truncated.tolist() == [step == 5] * 2 and not terminated.any()
    assert (envs.games.paddle_x > 42).all()
    obs, reward, terminated, truncated, info = envs.step(np.array([2, 2]))  # the autoreset step
    assert not terminated.any() and not truncated.any() and (reward == 0).all()
    assert (envs.games.paddle_x == 42).all() and (info["score"] == 0).all() and (info["lives"] == 3).all()
    assert all(np.array_equal(obs[i, 0], obs[i, -1]) for i in range(2))  # a fresh stack
    obs, reward, terminated, truncated, info = envs.step(np.array([1, 0]))
    assert envs.games.paddle_x[0] < 42 and envs.games.paddle_x[1] == 42  # actions count again


def test_termination_then_autoreset_with_a_new_game():
    envs = make_vec(3, obs_type="state")
    envs.reset(seed=4)
    games = envs.games
    games.lives[1] = 1
    games.serve_timer[1] = 0
    games.paddle_x[1] = core.PADDLE_MIN_X
    games.ball_x[1], games.ball_y[1], games.ball_vx[1], games.ball_vy[1] = core.PADDLE_MAX_X, 80.0, 0.0, 1.0
    for _ in range(3):
        obs, reward, terminated, truncated, info = envs.step(np.zeros(3, dtype=np.int64))
        if terminated[1]:
            break
    assert terminated.tolist() == [False, True, False] and info["lives"][1] == 0
    obs, reward, terminated, truncated, info = envs.step(np.zeros(3, dtype=np.int64))
    assert not terminated.any() and reward[1] == 0 and info["lives"][1] == 3
    assert obs[1][breakout_py.STATE_INDEX["lives"]] == 1.0


def test_single_env_terminates_when_the_last_ball_is_lost():
    env = BreakoutEnv()
    env.reset(seed=0)
    env.game.lives[:] = 1
    env.game.serve_timer[:] = 0
    env.game.paddle_x[:] = core.PADDLE_MIN_X
    env.game.ball_x[:], env.game.ball_y[:], env.game.ball_vx[:], env.game.ball_vy[:] = core.PADDLE_MAX_X, 80.0, 0.0, 1.0
    terminated = False
    for _ in range(5):
        _, _, terminated, truncated, info = env.step(0)
        if terminated:
            break
    assert terminated and not truncated and info["lives"] == 0


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="unknown obs_type 'rgb'"):
        gym.make(breakout_py.ENV_ID, obs_type="rgb")
    with pytest.raises(ValueError, match="unknown obs_type"):
        make_vec(2, obs_type="ram")
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        make_vec(0)
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
        BreakoutVectorEnv(num_envs=-3)
    with pytest.raises(ValueError, match="number of games must be a positive integer"):
        core.GameState.empty(0)
    with pytest.raises(ValueError, match="obs_size"):
        BreakoutEnv(obs_type="pixels", obs_size=0)
    with pytest.raises(ValueError, match="render_mode"):
        BreakoutEnv(render_mode="ansi")
    env = BreakoutEnv()
    env.reset(seed=0)
    for bad in (3, -1, 1.5, "LEFT"):
        with pytest.raises(ValueError, match="outside the action space"):
            env.step(bad)
    envs = BreakoutVectorEnv(num_envs=2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        envs.step(np.array([0, 3]))
    with pytest.raises(ValueError, match=r"expected 2 actions"):
        envs.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        envs.step(np.array([0.0, 1.0]))


def test_vector_render_frames_equal_the_single_env_frames_of_the_same_game():
    """Game 0 of the vector env (reset with seed s) and the single env (reset with seed s) draw the same frames."""
    envs = make_vec(3, obs_type="state", render_mode="rgb_array", render_scale=2)
    env = gym.make(breakout_py.ENV_ID, obs_type="state", render_mode="rgb_array", render_scale=2)
    envs.reset(seed=11)
    env.reset(seed=11)
    rng = np.random.default_rng(4)
    for _ in range(60):
        frames = envs.render()
        frame = env.render()
        assert frames.shape == (3,) + frame.shape and frame.shape == (2 * 84, 2 * 84, 3)
        assert np.array_equal(frames[0], frame)
        actions = rng.integers(0, 3, size=3)
        envs.step(actions)
        env.step(int(actions[0]))
    assert not np.array_equal(frames[0], frames[1])  # other seeds, other games


@pytest.mark.parametrize("vector", [False, True])
def test_human_window_shows_the_colour_frame_enlarged(vector):
    """The window holds the rgb_array picture at render_scale * 2 (headless: SDL's dummy driver, read back)."""
    import pygame

    kwargs = dict(obs_type="state", render_mode="human", render_scale=1)
    env = make_vec(2, **kwargs) if vector else gym.make(breakout_py.ENV_ID, **kwargs)
    viewer = make_vec(2, obs_type="state", render_mode="rgb_array", render_scale=2) if vector else \
        gym.make(breakout_py.ENV_ID, obs_type="state", render_mode="rgb_array", render_scale=2)
    try:
        env.reset(seed=5)
        viewer.reset(seed=5)
        for action in [core.RIGHT] * 8:
            env.step(np.array([action, action]) if vector else action)
            viewer.step(np.array([action, action]) if vector else action)
            window = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
            expected = viewer.render()[0] if vector else viewer.render()
            assert np.array_equal(window, expected)
    finally:
        env.close()


def test_arrays_scaling_divides_only_the_brick_flags_by_the_root_of_their_number():
    plain, scaled = BreakoutVectorEnv(num_envs=3), BreakoutVectorEnv(num_envs=3, state_scaling="arrays")
    plain_obs, _ = plain.reset(seed=4)
    scaled_obs, _ = scaled.reset(seed=4)
    for _ in range(30):  # bricks break and the ball moves: the same games, observed two ways
        actions = np.array([1, 2, 0])
        plain_obs, *_ = plain.step(actions)
        scaled_obs, *_ = scaled.step(actions)
    bricks = slice(core.BRICKS_OFFSET, None)
    np.testing.assert_array_equal(scaled_obs[:, :core.BRICKS_OFFSET], plain_obs[:, :core.BRICKS_OFFSET])
    np.testing.assert_allclose(scaled_obs[:, bricks], plain_obs[:, bricks] / np.sqrt(108), rtol=1e-6)
    # the whole wall has the squared norm of one feature at full range
    np.testing.assert_allclose((scaled.single_observation_space.high[bricks] ** 2).sum(), 1.0, rtol=1e-5)
    check_env(gym.make(breakout_py.ENV_ID, state_scaling="arrays").unwrapped, skip_render_check=False)
    with pytest.raises(ValueError, match="unknown state_scaling 'bytes'"):
        BreakoutEnv(state_scaling="bytes")
    with pytest.raises(ValueError, match="scales obs_type 'state' only"):
        make_vec(2, obs_type="pixels", state_scaling="arrays")
