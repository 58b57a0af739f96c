"""GBCBreakout-v0 as a Gymnasium env: API, observation layouts, render modes, batched env, bad input."""

import cv2
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import gbc
from gbc.baselines import ACTION_LEFT, ACTION_NOOP, ACTION_RIGHT
from gbc.env import GameBoyEnv
from gbc.hardware import RAM_OBS_SIZE, SCREEN_HEIGHT, SCREEN_WIDTH, WRAM_START, ram_obs_index
from gbc.memory import RamReader
from gbc.vector import BatchedGameBoyEnv
from gbc.profiles import BREAKOUT_ROM

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


@pytest.mark.parametrize("obs_type", ["ram", "pixels"])
def test_check_env_passes(obs_type):
    env = gym.make("GBCBreakout-v0", obs_type=obs_type, render_mode="rgb_array").unwrapped  # spec: render checks
    check_env(env)
    env.close()


def test_registered_ids_and_time_limit():
    env = gym.make("GBCBreakout-v0", max_episode_steps=5)
    assert env.spec.max_episode_steps == 5
    assert gym.spec("GBCBreakout-v0").max_episode_steps == gbc.DEFAULT_MAX_EPISODE_STEPS
    env.reset(seed=0)
    outcomes = [env.step(ACTION_NOOP)[3] for _ in range(5)]
    assert outcomes == [False] * 4 + [True]
    assert env.unwrapped.get_action_meanings() == ["NOOP", "LEFT", "RIGHT"]
    env.close()
    generic = gym.make("GBC-v0", profile="breakout")
    assert generic.unwrapped.profile.name == "breakout"
    generic.close()


def test_ram_observation_is_wram_then_hram():
    env = GameBoyEnv("breakout", obs_type="ram")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (RAM_OBS_SIZE,) and obs.dtype == np.uint8
    for _ in range(20):
        obs, *_ = env.step(ACTION_RIGHT)
    memory = env.game.pyboy.memory
    assert obs.tolist() == memory[0xC000:0xE000] + memory[0xFF80:0xFFFF]
    assert obs[ram_obs_index(env.profile.address("paddle_x"))] == env.game.read("paddle_x")
    assert ram_obs_index(WRAM_START) == 0
    with pytest.raises(ValueError, match="neither in WRAM"):
        ram_obs_index(0x8000)
    env.close()


def test_fast_ram_reader_agrees_with_the_public_memory_api():
    env = GameBoyEnv("breakout", obs_type="ram")
    env.reset(seed=2)
    fast, public = env.game.ram, RamReader(env.game.pyboy, allow_fast=False)
    assert fast.fast and not public.fast
    for action in [ACTION_RIGHT] * 10 + [ACTION_LEFT] * 30:
        env.step(action)
        assert np.array_equal(fast.read(), public.read())
    env.close()


def test_pixel_observation_is_a_greyscale_downscaled_frame_stack():
    env = GameBoyEnv("breakout", obs_type="pixels", obs_size=84, frame_stack=4, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert all(np.array_equal(frame, obs[0]) for frame in obs)  # the first frame, repeated
    previous = obs
    for _ in range(3):
        obs, *_ = env.step(ACTION_RIGHT)
        assert np.array_equal(obs[:-1], previous[1:])  # oldest first: the stack shifts by one
        previous = obs
    grey = cv2.cvtColor(env.render(), cv2.COLOR_RGB2GRAY)
    expected = cv2.resize(grey, (84, 84), interpolation=cv2.INTER_AREA)
    assert np.abs(obs[-1].astype(int) - expected).max() <= 1  # RGB vs RGBA conversion rounding
    assert not np.array_equal(obs[-1], obs[0])  # the paddle moved
    env.close()


def test_frame_skip_holds_the_action_for_k_frames():
    moves = {}
    for k in (1, 4):
        env = GameBoyEnv("breakout", frame_skip=k)
        _, info = env.reset(seed=0)
        start = env.game.read("paddle_x")
        _, _, _, _, info = env.step(ACTION_RIGHT)
        assert info["episode_frame_number"] == k
        moves[k] = env.game.read("paddle_x") - start
        env.close()
    assert moves[1] > 0 and moves[4] == 4 * moves[1]


def test_render_modes():
    env = GameBoyEnv("breakout", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (SCREEN_HEIGHT, SCREEN_WIDTH, 3) and frame.dtype == np.uint8
    env.close()
    human = GameBoyEnv("breakout", render_mode="human", frame_skip=4)
    human.reset(seed=0)
    human.step(ACTION_RIGHT)
    assert not human.window_closed
    human.close()


def test_bad_arguments_are_rejected_with_the_fix():
    with pytest.raises(ValueError, match="obs_type must be one of"):
        GameBoyEnv("breakout", obs_type="rgb")
    with pytest.raises(ValueError, match="frame_skip must be a positive integer"):
        GameBoyEnv("breakout", frame_skip=0)
    with pytest.raises(ValueError, match="render_mode"):
        GameBoyEnv("breakout", render_mode="window")
    env = GameBoyEnv("breakout")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(3)
    env.close()
    with pytest.raises(gbc.UnknownProfileError, match="known profiles"):
        GameBoyEnv("tetris")


def test_batched_env_steps_envs_in_worker_processes_and_autoresets_next_step():
    envs = gym.make_vec("GBCBreakout-v0", num_envs=3, num_workers=2, obs_type="ram")
    try:
        assert isinstance(envs.unwrapped, BatchedGameBoyEnv) and envs.unwrapped.num_workers == 2
        assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        obs, info = envs.reset(seed=[5, 6, 7])
        assert obs.shape == (3, RAM_OBS_SIZE) and info["lives"].tolist() == [3, 3, 3]
        lives = ram_obs_index(gbc.get_profile("breakout").address("lives"))
        actions = np.array([ACTION_LEFT, ACTION_RIGHT, ACTION_LEFT])
        for _ in range(3000):
            obs, reward, terminated, truncated, info = envs.step(actions)
            if terminated.any():
                break
        assert terminated.any()
        done = int(np.flatnonzero(terminated)[0])
        assert obs[done, lives] == 0 and info["lives"][done] == 0
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert obs[done, lives] == 3 and reward[done] == 0 and not terminated[done]
    finally:
        envs.close()


def test_batched_env_matches_single_envs_and_truncates():
    envs = gbc.make_batched_env(2, profile="breakout", num_workers=2, max_episode_steps=30, obs_type="pixels")
    singles = [GameBoyEnv("breakout", obs_type="pixels") for _ in range(2)]
    try:
        obs, _ = envs.reset(seed=[1, 2])
        expected = np.stack([env.reset(seed=s)[0] for env, s in zip(singles, (1, 2))])
        assert np.array_equal(obs, expected)
        for t in range(30):
            actions = np.array([ACTION_RIGHT, ACTION_LEFT])
            obs, reward, terminated, truncated, _ = envs.step(actions)
            expected = np.stack([env.step(int(a))[0] for env, a in zip(singles, actions)])
            assert np.array_equal(obs, expected)
        assert truncated.all() and not terminated.any()
    finally:
        envs.close()
        for env in singles:
            env.close()


def test_batched_env_reports_bad_input_and_worker_errors():
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        gbc.make_batched_env(0, profile="breakout")
    with pytest.raises(ValueError, match="num_workers must be an integer from 1 to num_envs"):
        gbc.make_batched_env(2, profile="breakout", num_workers=3)
    envs = gbc.make_batched_env(2, profile="breakout", num_workers=1)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="one action per env"):
        envs.step(np.array([0, 0, 0]))
    with pytest.raises(RuntimeError, match="action must be an integer"):
        envs.step(np.array([0, 7]))
    assert envs.closed


def test_state_observation_is_the_spec_bytes_of_ram_scaled():
    env = gym.make("GBCBreakout-v0", obs_type="state").unwrapped
    check_env(env)
    spec = env.state_spec
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (spec.size,) == env.observation_space.shape
    profile = env.profile
    features = {f["addresses"][0].lower(): f for f in spec.data["features"]}
    for _ in range(40):
        obs, *_ = env.step(ACTION_RIGHT)
        assert np.array_equal(obs, spec.transform(env.game.ram.read()))
        for name in ("paddle_x", "ball_x", "lives"):
            feature = features[f"{profile.address(name):#06x}"]
            value = obs[feature["index"]] * (feature["max"] - feature["min"]) + feature["min"]
            assert round(float(value)) == env.game.read(name), name
    dx = features[f"{profile.address('ball_dx'):#06x}"]
    assert dx["type"] == "int16"
    value = obs[dx["index"]] * (dx["max"] - dx["min"]) + dx["min"]
    raw = env.game.read("ball_dx")
    assert round(float(value)) == (raw - 65536 if raw >= 32768 else raw)
    env.close()


def test_arrays_scaling_gives_an_array_the_weight_of_one_feature():
    ranged = GameBoyEnv("breakout", obs_type="state")
    arrays = GameBoyEnv("breakout", obs_type="state", state_scaling="arrays", state_spec=ranged.state_spec)
    try:
        members = np.array([str(f["group"]).startswith("array@") for f in ranged.state_spec.data["features"]])
        assert members.sum() == 108  # the bricks
        for env in (ranged, arrays):
            env.reset(seed=3)
        for _ in range(30):
            a, *_ = arrays.step(ACTION_RIGHT)
            r, *_ = ranged.step(ACTION_RIGHT)
            assert np.array_equal(a[~members], r[~members])
            assert np.allclose(a[members], r[members] / np.sqrt(108)) and r[members].max() == 1.0
        assert arrays.observation_space.contains(a)
    finally:
        ranged.close()
        arrays.close()
    with pytest.raises(ValueError, match="state_scaling must be one of"):
        GameBoyEnv("breakout", obs_type="state", state_scaling="log")
    with pytest.raises(ValueError, match="state_scaling is only used with obs_type='state'"):
        GameBoyEnv("breakout", obs_type="ram", state_scaling="arrays")


def test_thermometer_inputs_add_up_to_each_features_value():
    """Each feature's first input is its "arrays" input; a feature that is neither a flag nor an array member then
    gets bins that rise one after another across its range, whose sum times the bin width, plus the minimum, gives
    back the value; the runner's obstacle x gets 16 bins, its ring's members none."""
    ranged = GameBoyEnv("runner", obs_type="state", state_scaling="arrays")
    thermo = GameBoyEnv("runner", obs_type="state", state_scaling="thermometer", state_spec=ranged.state_spec)
    try:
        spec, features = thermo.state_spec, ranged.state_spec.data["features"]
        sizes = [len(c) for c in spec.columns]
        assert sum(sizes) == spec.size == thermo.observation_space.shape[0] > len(features)
        assert np.array_equal(np.concatenate(spec.columns), np.arange(spec.size))
        by_address = {tuple(f["addresses"]): k for k, f in enumerate(features)}
        assert sizes[by_address["0xc0b7",]] == 17 and sizes[by_address["0xc0b3",]] == 1  # obstacle x, on_ground
        assert all(size == 1 for size, f in zip(sizes, features) if str(f["group"]).startswith("array@"))
        for env in (ranged, thermo):
            env.reset(seed=3)
        for step in range(60):
            t, *_ = thermo.step(step % 3)
            r, *_ = ranged.step(step % 3)
            assert thermo.observation_space.contains(t)
            assert np.allclose(t[[c[0] for c in spec.columns]], r)
            for k, f in enumerate(features):
                bins = t[spec.columns[k][1:]]
                if len(bins):
                    assert np.all(np.diff(bins) <= 1e-6)  # a thermometer: full bins first
                    assert bins.sum() / len(bins) == pytest.approx(r[k], abs=1e-4)
    finally:
        ranged.close()
        thermo.close()


def test_state_spec_for_another_rom_or_env_is_a_clear_error(tmp_path):
    import json

    from gbc.extract.spec import StateSpecError, default_spec_path

    spec = json.loads(default_spec_path(gbc.get_profile("breakout").rom_path).read_text())
    other_rom = tmp_path / "other_rom.json"
    other_rom.write_text(json.dumps(dict(spec, rom=dict(spec["rom"], sha1="0" * 40))))
    with pytest.raises(StateSpecError, match="SHA-1 0000.*scripts/01_extract_state.py"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(other_rom))
    atari = tmp_path / "atari.json"
    atari.write_text(json.dumps(dict(spec, layout="flat", env_id="ALE/Breakout-v5")))
    with pytest.raises(StateSpecError, match="ALE/Breakout-v5.*not from a Game Boy RAM observation"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(atari))
    with pytest.raises(StateSpecError, match="no state spec at"):
        GameBoyEnv("breakout", obs_type="state", state_spec=str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="state_spec is only used with obs_type='state'"):
        GameBoyEnv("breakout", obs_type="ram", state_spec=str(atari))
