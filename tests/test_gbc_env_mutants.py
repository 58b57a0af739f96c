"""gbc.env.GameBoyEnv on the real Breakout ROM, a few steps at a time: the tests that kill its mutants.

Every env here boots from the per-process cache of play starts (one boot per module), so each test costs a few
milliseconds of emulation. Exact values come from the seeding contract (Gymnasium's np_random), the score and
game-state variables written by the test, and the screen the emulator renders.
"""

import cv2
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils import seeding

import gbc.env
import gbc.window
from breakout_py.errors import UserError
from gbc.env import MAX_SEED_IDLE_FRAMES, GameBoyEnv, grey_frame
from gbc.extract.spec import StateSpec, StateSpecError, default_spec_path
from gbc.hardware import FRAMES_PER_SECOND, RAM_OBS_SIZE, SCREEN_HEIGHT, SCREEN_WIDTH
from gbc.profiles import BREAKOUT_ROM, get_profile

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")

BREAKOUT = get_profile("breakout")
# a usage error: ValueError today, breakout_py.errors.UserError once the modules switch to it
BAD_INPUT = (ValueError, UserError)
NOOP, LEFT, RIGHT = 0, 1, 2


class FakeWindow:
    """Stands in for gbc.window.Window: records what the env shows."""

    made: list = []

    def __init__(self, title, width, height, scale):
        self.args = (title, width, height, scale)
        self.shown, self.closed = [], False
        FakeWindow.made.append(self)

    def show(self, rgb, fps):
        self.shown.append((rgb.copy(), fps))

    def close(self):
        self.closed = True


@pytest.fixture
def fake_window(monkeypatch):
    FakeWindow.made = []
    monkeypatch.setattr(gbc.window, "Window", FakeWindow)
    return FakeWindow


def first_seed(seed: int, high: int) -> int:
    return int(seeding.np_random(seed)[0].integers(1, high))


@pytest.mark.parametrize("channels, code", [(4, cv2.COLOR_RGBA2GRAY), (3, cv2.COLOR_RGB2GRAY)])
def test_grey_frame_converts_and_area_downscales(channels, code):
    screen = np.random.default_rng(0).integers(0, 256, (SCREEN_HEIGHT, SCREEN_WIDTH, channels), dtype=np.uint8)
    expected = cv2.resize(cv2.cvtColor(screen, code), (10, 10), interpolation=cv2.INTER_AREA)
    frame = grey_frame(screen, 10)
    assert frame.shape == (10, 10) and frame.dtype == np.uint8 and np.array_equal(frame, expected)
    assert not np.array_equal(frame, cv2.resize(cv2.cvtColor(screen, code), (10, 10)))  # not bilinear


def test_rgba_and_rgb_of_one_screen_give_the_same_grey_frame():
    rgba = np.random.default_rng(1).integers(0, 256, (SCREEN_HEIGHT, SCREEN_WIDTH, 4), dtype=np.uint8)
    assert np.array_equal(grey_frame(rgba, 12), grey_frame(rgba[:, :, :3].copy(), 12))


def test_spaces_and_defaults_of_each_observation_type():
    env = GameBoyEnv("breakout")
    try:
        assert (env.obs_type, env.frame_skip, env.obs_size, env.frame_stack) == ("ram", 4, 84, 4)
        assert env.render_mode is None and env.render_scale == 3 and env.state_spec is None
        assert env.observation_space == gym.spaces.Box(0, 255, (RAM_OBS_SIZE,), np.uint8)
        assert env.action_space == gym.spaces.Discrete(3) and env.get_action_meanings() == ["NOOP", "LEFT", "RIGHT"]
        assert env.profile is env.game.profile and env.profile.name == "breakout"
        assert not env._needs_screen and not env.window_closed and env._window is None
    finally:
        env.close()
    pixels = GameBoyEnv("breakout", obs_type="pixels", obs_size=np.int64(10), frame_stack=2, frame_skip=1)
    try:
        assert pixels.observation_space == gym.spaces.Box(0, 255, (2, 10, 10), np.uint8)
        assert pixels._needs_screen and type(pixels.obs_size) is int and pixels.frame_skip == 1
        assert pixels._frames.shape == (2, 10, 10) and not pixels._frames.any()
    finally:
        pixels.close()
    state = GameBoyEnv("breakout", obs_type="state")
    try:
        spec = state.state_spec
        assert isinstance(spec, StateSpec) and spec.size > 0
        assert state.observation_space == gym.spaces.Box(0.0, 1.0, (spec.size,), np.float32)
    finally:
        state.close()
    rendered = GameBoyEnv("breakout", render_mode="rgb_array", render_scale=1)
    assert rendered._needs_screen and rendered.render_scale == 1
    rendered.close()


@pytest.mark.parametrize("kwargs, message", [
    ({"obs_type": "rgb"}, "obs_type must be one of ('ram', 'pixels', 'state'), got 'rgb'"),
    ({"render_mode": "window"}, "render_mode must be None or one of ['human', 'rgb_array'], got 'window'"),
    ({"frame_skip": 0}, "frame_skip must be a positive integer, got 0"),
    ({"obs_size": -1}, "obs_size must be a positive integer, got -1"),
    ({"frame_stack": 2.0}, "frame_stack must be a positive integer, got 2.0"),
    ({"render_scale": 0}, "render_scale must be a positive integer, got 0"),
    ({"state_spec": "x.json"}, "state_spec is only used with obs_type='state', not 'ram'"),
])
def test_bad_arguments_are_exact_errors(kwargs, message):
    with pytest.raises(BAD_INPUT) as error:
        GameBoyEnv("breakout", **kwargs)
    assert str(error.value) == message


def test_a_state_spec_can_be_given_loaded_or_by_path(tmp_path):
    spec_path = default_spec_path(BREAKOUT.rom_path)
    loaded = StateSpec.load(spec_path)
    given = GameBoyEnv("breakout", obs_type="state", state_spec=loaded)
    assert given.state_spec is loaded
    given.close()
    by_path = GameBoyEnv("breakout", obs_type="state", state_spec=str(spec_path))
    assert by_path.state_spec.size == loaded.size
    by_path.close()
    with pytest.raises(StateSpecError, match="no state spec at"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(tmp_path / "missing.json"))


def test_a_bad_state_spec_closes_the_emulator(monkeypatch, tmp_path):
    closed = []
    real_close = gbc.env.GameBoy.close
    monkeypatch.setattr(gbc.env.GameBoy, "close", lambda self: (closed.append(self), real_close(self)))
    with pytest.raises(StateSpecError):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(tmp_path / "missing.json"))
    assert len(closed) == 1


def test_a_spec_of_another_rom_is_refused(tmp_path):
    import json

    data = json.loads(default_spec_path(BREAKOUT.rom_path).read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(data, rom=dict(data["rom"], sha1="0" * 40))))
    with pytest.raises(StateSpecError, match=f"SHA-1 0{{40}}, but profile 'breakout' runs the ROM with SHA-1 "
                                             f"{BREAKOUT.sha1}; RAM addresses may have moved"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(other))
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(dict(data, layout="flat")))
    with pytest.raises(StateSpecError, match=f"not from a Game Boy RAM observation of {RAM_OBS_SIZE} bytes"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(flat))


@pytest.mark.parametrize("seed", [0, 7])
def test_reset_writes_a_seed_drawn_from_the_env_generator(seed):
    env = GameBoyEnv("breakout")
    try:
        obs, info = env.reset(seed=seed)
        assert env.game.read("rng_state") == first_seed(seed, 256**2)
        assert info == {"score": 0, "episode_frame_number": 0, "lives": 3}
        assert np.array_equal(obs, env.game.ram.read())
        env.step(RIGHT)
        obs, info = env.reset()  # the generator goes on: a different game
        assert info["episode_frame_number"] == 0 and env.game.read("rng_state") != first_seed(seed, 256**2)
    finally:
        env.close()


def test_seeds_are_never_zero():
    """0 is a fixed point of the ROM's xorshift generator: the draw must start at 1 and cover the variable's bytes."""

    class Recorder:
        draws = []

        def integers(self, low, high):
            self.draws.append((low, high))
            return low

    env = GameBoyEnv("breakout")
    env._np_random = Recorder()
    env.reset()
    assert Recorder.draws == [(1, 256**2)] and env.game.read("rng_state") == 1
    env.close()


def test_without_a_seed_variable_reset_idles_a_seeded_number_of_frames():
    import dataclasses

    env = GameBoyEnv(dataclasses.replace(BREAKOUT, seed_variable=None), obs_type="pixels", frame_stack=2)
    try:
        env.game.restart()
        vblank_at_start = env.game.read("vblank_count")
        start_frame = grey_frame(env.game.screen_rgba_view(), 84)
        for seed in (0, 3, 11):  # 51, 48 and 8 idle frames
            idle = int(seeding.np_random(seed)[0].integers(0, MAX_SEED_IDLE_FRAMES))
            assert idle > 0
            obs, info = env.reset(seed=seed)
            assert info["episode_frame_number"] == idle
            assert env.game.read("vblank_count") == (vblank_at_start + idle) % 256
            assert np.array_equal(obs[0], grey_frame(env.game.screen_rgba_view(), 84))
            # rendered while idling: after 40 frames the served ball has moved from where the restart showed it
            assert np.array_equal(obs[0], start_frame) == (idle < 40)
            _, _, _, _, info = env.step(NOOP)
            assert info["episode_frame_number"] == idle + 4
    finally:
        env.close()
    assert MAX_SEED_IDLE_FRAMES == 60


def test_a_zero_idle_draw_ticks_nothing(monkeypatch):
    import dataclasses

    env = GameBoyEnv(dataclasses.replace(BREAKOUT, seed_variable=None))
    ticks = []
    monkeypatch.setattr(env.game, "tick", lambda frames, render: ticks.append(frames))
    seed = next(s for s in range(200) if seeding.np_random(s)[0].integers(0, MAX_SEED_IDLE_FRAMES) == 0)
    _, info = env.reset(seed=seed)
    assert ticks == [] and info["episode_frame_number"] == 0
    env.close()


def test_step_holds_the_action_for_frame_skip_frames_and_counts_them():
    env = GameBoyEnv("breakout", frame_skip=3)
    try:
        env.reset(seed=0)
        paddle = env.game.read("paddle_x")
        _, reward, terminated, truncated, info = env.step(RIGHT)
        assert env.game.read("joypad_held") == 0x01 and env.game.read("paddle_x") == paddle + 3 * 2
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert info == {"score": 0, "episode_frame_number": 3, "lives": 3}
        env.step(np.int64(LEFT))
        assert env.game.read("joypad_held") == 0x02 and env.game.read("paddle_x") == paddle
        _, _, _, _, info = env.step(NOOP)
        assert env.game.read("joypad_held") == 0 and info["episode_frame_number"] == 9
    finally:
        env.close()


@pytest.mark.parametrize("action", [3, -1, 1.5, "1"])
def test_step_refuses_an_action_outside_the_space(action):
    env = GameBoyEnv("breakout")
    env.reset(seed=0)
    with pytest.raises(BAD_INPUT) as error:
        env.step(action)
    assert str(error.value) == f"action must be an integer in [0, 3), got {action!r}"
    env.close()


def test_reward_is_the_score_gained_in_the_step_and_game_over_terminates():
    env = GameBoyEnv("breakout")
    try:
        env.reset(seed=0)
        env.game.write("score", 7)
        obs, reward, terminated, _, info = env.step(NOOP)
        assert reward == 7.0 and type(reward) is float and info["score"] == 7
        _, reward, _, _, _ = env.step(NOOP)
        assert reward == 0.0
        env.game.write("score", 3)
        _, reward, _, _, _ = env.step(NOOP)
        assert reward == -4.0
        env.game.write("lives", 1)
        env.game.write("game_state", 2)
        _, _, terminated, truncated, info = env.step(NOOP)
        assert terminated is True and truncated is False and info["lives"] == 1
    finally:
        env.close()


def test_ram_steps_do_not_render_and_ram_observations_are_the_ram():
    env = GameBoyEnv("breakout")
    try:
        env.reset(seed=0)
        screen = env.game.screen_rgb()
        for _ in range(3):
            obs, *_ = env.step(RIGHT)
        assert np.array_equal(env.game.screen_rgb(), screen)
        assert obs.dtype == np.uint8 and np.array_equal(obs, env.game.ram.read())
    finally:
        env.close()


def test_pixel_observations_stack_rendered_frames_oldest_first():
    env = GameBoyEnv("breakout", obs_type="pixels", obs_size=16, frame_stack=3)
    try:
        obs, _ = env.reset(seed=0)
        first = grey_frame(env.game.screen_rgba_view(), 16)
        assert obs.shape == (3, 16, 16) and all(np.array_equal(frame, first) for frame in obs)
        frames = [first]
        for action in (RIGHT, RIGHT):
            stepped, *_ = env.step(action)
            frames.append(grey_frame(env.game.screen_rgba_view(), 16))
            assert np.array_equal(stepped[-1], frames[-1])
        assert np.array_equal(stepped, np.stack([first, frames[1], frames[2]]))
        assert not np.array_equal(frames[1], first) and not np.array_equal(frames[2], frames[1])
        assert np.array_equal(obs[0], first)  # the returned stack is a copy, not the live buffer
        stepped_copy = stepped.copy()
        env.step(RIGHT)
        assert np.array_equal(stepped, stepped_copy)
    finally:
        env.close()


def test_state_observations_are_the_spec_of_the_ram():
    env = GameBoyEnv("breakout", obs_type="state")
    try:
        obs, _ = env.reset(seed=0)
        assert obs.dtype == np.float32 and np.array_equal(obs, env.state_spec.transform(env.game.ram.read()))
        obs, *_ = env.step(RIGHT)
        assert np.array_equal(obs, env.state_spec.transform(env.game.ram.read()))
    finally:
        env.close()


def test_info_has_no_lives_for_a_profile_without_them():
    import dataclasses

    env = GameBoyEnv(dataclasses.replace(BREAKOUT, lives=None))
    _, info = env.reset(seed=0)
    assert info == {"score": 0, "episode_frame_number": 0}
    env.close()


def test_rgb_array_render_is_the_screen():
    env = GameBoyEnv("breakout", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(RIGHT)
    frame = env.render()
    assert frame.shape == (SCREEN_HEIGHT, SCREEN_WIDTH, 3) and np.array_equal(frame, env.game.screen_rgb())
    assert not env.window_closed
    env.close()
    assert GameBoyEnv("breakout").render() is None


def test_human_render_shows_each_frame_in_one_window(fake_window):
    env = GameBoyEnv("breakout", render_mode="human", frame_skip=2, render_scale=2)
    env.reset(seed=0)
    assert len(fake_window.made) == 1
    window = fake_window.made[0]
    assert window.args == ("gbc: breakout", SCREEN_WIDTH, SCREEN_HEIGHT, 2)
    env.step(RIGHT)
    assert env.render() is None and len(fake_window.made) == 1 and len(window.shown) == 3
    assert np.array_equal(window.shown[1][0], env.game.screen_rgb())
    assert all(fps == FRAMES_PER_SECOND / 2 for _, fps in window.shown)
    assert not env.window_closed
    window.closed = True
    assert env.window_closed
    game = env.game
    closed = []
    game.close = lambda: closed.append(True)
    env.close()
    assert env._window is None and closed == [True] and window.closed
    env.close()  # again: the window is gone, the emulator is told again
    assert closed == [True, True]
    game.pyboy.stop(save=False)
