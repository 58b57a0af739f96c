"""Pong (roms/pong/, GBCPong-v0): build outputs, the rules checked on every frame while the scripted player plays
(read from RAM through the symbols file), seeded resets, game over, the sound driver, DMG mode and the env contract."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gbc
from gbc.baselines import PongTrackBallAgent, RandomAgent, make_agent, run_episode
from gbc.env import GameBoyEnv
from gbc.hardware import ram_obs_index
from gbc.play import play
from gbc.profiles import PONG_DIR, PONG_ROM, PONG_SYMBOLS, RomNotFoundError, UnknownProfileError, read_symbols

pytestmark = pytest.mark.skipif(not PONG_ROM.is_file(), reason="roms/pong/pong.gb absent: make -C roms")

MAP_PATH = PONG_DIR / "pong.map"
HEADER_TITLE, HEADER_CGB_FLAG, CGB_COMPATIBLE = slice(0x134, 0x143), 0x143, 0x80
CPU_TYPE_CGB = 0x11  # register A at boot on a Game Boy Color
# Sound registers (Pan Docs, "Audio Registers"); readable only while PyBoy emulates sound
NR22, NR52 = 0xFF17, 0xFF26
NR52_ON, NR52_CHANNEL_1, NR52_CHANNEL_2 = 0x80, 0x01, 0x02
ENVELOPE_TUNE = 0x92  # sound.c: channel 2's volume envelope for the tune


@pytest.fixture(scope="module")
def symbols() -> dict:
    return read_symbols(PONG_SYMBOLS)


@pytest.fixture(scope="module")
def env():
    env = GameBoyEnv("pong", obs_type="ram", frame_skip=1)
    yield env
    env.close()


class Frame:
    """The variables of one frame, by name, from a RAM observation (signed types as signed)."""

    def __init__(self, profile, obs: np.ndarray):
        self._profile, self._obs = profile, obs

    def __getattr__(self, name: str) -> int:
        var = self._profile.variables[name]
        index = ram_obs_index(var.address)
        return var.value(int.from_bytes(bytes(self._obs[index : index + var.size]), "little"))

    def text_line(self, line: int, width: int = 20) -> np.ndarray:
        start = ram_obs_index(self._profile.address("text_buffer")) + line * width
        return self._obs[start : start + width]


def text_tiles(constants: dict, text: str, net: bool) -> list[int]:
    """A text line as pong.c's text_show draws it: centred, blank around, the net in its column."""
    tiles = [constants["TILE_EMPTY"]] * 20
    if net:
        tiles[constants["NET_COL"]] = constants["TILE_NET"]
    start = (20 - len(text)) // 2
    for i, char in enumerate(text):
        digit_or_letter = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".find(char)
        tiles[start + i] = constants["TILE_FONT"] + digit_or_letter if digit_or_letter >= 0 else constants["TILE_EMPTY"]
    return tiles


# ---- build outputs ----


def test_header_and_symbols_file_agree_with_map_and_rom(symbols):
    rom = PONG_ROM.read_bytes()
    assert rom[HEADER_TITLE].rstrip(b"\0") == b"PONG" and rom[HEADER_CGB_FLAG] == CGB_COMPATIBLE
    assert symbols["sha1"] == hashlib.sha1(rom).hexdigest() and symbols["rom"] == PONG_ROM.name
    map_text = MAP_PATH.read_text()
    addresses = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9A-F]{8})\s+_(\w+)", map_text, re.M)}
    by_name = {v["name"]: v for v in symbols["variables"]}
    for v in symbols["variables"]:
        assert v["address"] == addresses[v["name"]] and v["description"], v["name"]
    # every RAM global of pong.c and sound.c has a kind, and the file names the game's contract
    expected = {
        "game_state": (1, "state", "uint8_t"), "player_y": (1, "state", "uint8_t"), "cpu_y": (1, "state", "uint8_t"),
        "ball_dx": (1, "state", "int8_t"), "ball_dy": (1, "state", "int8_t"), "player_score": (1, "state", "uint8_t"),
        "cpu_score": (1, "state", "uint8_t"), "rng_state": (2, "state", "uint16_t"),
        "text_buffer": (60, "screen", "uint8_t[60]"), "shadow_oam": (160, "screen", "uint8_t[160]"),
        "music_position": (1, "runtime", "uint8_t"), "music_tick": (1, "runtime", "uint8_t"),
        "sfx_id": (1, "runtime", "uint8_t"), "sfx_tick": (1, "runtime", "uint8_t"),
    }
    for name, fields in expected.items():
        assert (by_name[name]["size"], by_name[name]["kind"], by_name[name]["type"]) == fields, name
    assert by_name["player_score"]["module"] == "pong" and by_name["sfx_id"]["module"] == "sound"
    spans = sorted((v["address"], v["address"] + v["size"]) for v in symbols["variables"])
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))  # no overlaps


# ---- rules, every frame ----


def expected_cpu_y(before: Frame, c: dict) -> int:
    """pong.c's move_cpu from the previous frame's state (the CPU moves before the ball)."""
    target = c["PADDLE_START_Y"]
    if before.serve_timer == 0 and before.ball_dx > 0 and before.ball_x >= c["CPU_REACT_X"]:
        centre = before.ball_y + c["BALL_SIZE"] // 2
        target = min(max(centre - c["PADDLE_HEIGHT"] // 2, c["PADDLE_Y_MIN"]), c["PADDLE_Y_MAX"])
    if before.cpu_y + c["CPU_DEAD_ZONE"] < target:
        return before.cpu_y + c["CPU_SPEED"]
    if before.cpu_y > target + c["CPU_DEAD_ZONE"]:
        return before.cpu_y - c["CPU_SPEED"]
    return before.cpu_y


def test_rules_hold_on_every_frame_while_the_scripted_player_plays(env):
    """The scripted player plays a whole game, idling through every third rally so that the CPU scores too."""
    profile, c = env.profile, env.profile.constants
    up, down = profile.action_names.index("UP"), profile.action_names.index("DOWN")
    agent = PongTrackBallAgent(profile, seed=1)
    obs, _ = env.reset(seed=1)
    before = Frame(profile, obs)
    seen = {"player_point": 0, "cpu_point": 0, "player_hit": 0, "cpu_hit": 0, "wall": 0, "serves": 0}
    rally, total_reward = 0, 0.0
    for frame in range(20_000):
        action = 0 if rally % 3 == 2 else agent.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        total_reward += reward
        now = Frame(profile, obs)
        where = f"frame {frame}"
        # paddles: the player's follows the d-pad, the CPU's follows its rule; both stay on the court
        step = {up: -c["PLAYER_SPEED"], down: c["PLAYER_SPEED"]}.get(action, 0)
        assert now.player_y == min(max(before.player_y + step, c["PADDLE_Y_MIN"]), c["PADDLE_Y_MAX"]), where
        assert now.cpu_y == expected_cpu_y(before, c), where
        # the ball stays in the court, at its rally's speed
        assert c["PLAYFIELD_TOP"] <= now.ball_y <= c["PLAYFIELD_BOTTOM"] - c["BALL_SIZE"], where
        assert 0 <= now.ball_x <= 160 - c["BALL_SIZE"], where
        speed = min(c["BALL_SPEED_BASE"] + c["BALL_SPEED_STEP"] * (now.hit_count // c["SPEEDUP_HITS"]),
                    c["BALL_SPEED_MAX"])
        assert now.ball_speed == speed, where
        assert abs(now.ball_dy) <= c["BALL_DY_PER_PX"] * (c["PADDLE_REACH"] - 1), where
        # the HUD line of the text buffer shows both scores
        hud = now.text_line(c["TEXT_LINE_HUD"])
        assert hud[c["PLAYER_SCORE_COL"]] == c["TILE_FONT"] + now.player_score, where
        assert hud[c["CPU_SCORE_COL"]] == c["TILE_FONT"] + now.cpu_score, where
        assert reward == now.player_score - before.player_score and info["score"] == now.player_score, where

        points = (now.player_score - before.player_score, now.cpu_score - before.cpu_score)
        over = now.game_state == c["GAME_STATE_GAME_OVER"]
        assert terminated == over and not truncated, where
        if points != (0, 0):
            assert points in ((1, 0), (0, 1)), where
            # a point ends the rally where the ball left the court, and the next serve waits (unless game over)
            if points == (1, 0):
                assert before.ball_dx > 0 and before.ball_x > c["CPU_X"], where
                seen["player_point"] += 1
            else:
                assert before.ball_dx < 0 and before.ball_x < c["PLAYER_X"] + c["PADDLE_WIDTH"], where
                seen["cpu_point"] += 1
            point_sound = c["SFX_PLAYER_POINT"] if points == (1, 0) else c["SFX_CPU_POINT"]
            assert now.sfx_id == (c["SFX_GAME_OVER"] if over else point_sound), where
            if not over:
                assert (now.serve_timer, now.ball_x, now.ball_dx, now.hit_count) == (
                    c["SERVE_DELAY"], c["SERVE_X"], 0, 0), where
                assert list(now.text_line(c["TEXT_LINE_MESSAGE"])) == text_tiles(c, "SERVE", net=True), where
            rally += 1
        elif before.serve_timer:
            # resting on the centre line; the serve's draws happen on the first frame of the rest
            assert now.ball_x == c["SERVE_X"] and now.serve_timer == before.serve_timer - 1, where
            if before.serve_timer == c["SERVE_DELAY"]:
                seen["serves"] += 1
                assert c["SERVE_Y_MIN"] <= now.ball_y <= c["SERVE_Y_MAX"], where
                assert abs(now.ball_dx) == c["BALL_SPEED_BASE"] and abs(now.ball_dy) <= c["SERVE_DY_MAX"], where
            else:
                assert (now.ball_y, now.ball_dx, now.ball_dy) == (before.ball_y, before.ball_dx, before.ball_dy), where
            if now.serve_timer == 0:
                assert list(now.text_line(c["TEXT_LINE_MESSAGE"])) == text_tiles(c, "", net=True), where
        else:
            assert abs(now.ball_dx) == now.ball_speed, where
            if before.ball_dx < 0 < now.ball_dx:  # only the player's paddle sends the ball right
                assert now.ball_x <= c["PLAYER_X"] + c["PADDLE_WIDTH"] + 4, where
                assert before.player_y - c["BALL_SIZE"] - 4 < now.ball_y < before.player_y + c["PADDLE_HEIGHT"] + 4
                assert now.hit_count == min(before.hit_count + 1, c["HIT_COUNT_MAX"]), where
                assert now.sfx_id in (c["SFX_PADDLE"], c["SFX_WALL"]), where
                seen["player_hit"] += 1
            elif before.ball_dx > 0 > now.ball_dx:  # only the CPU's sends it left
                assert now.ball_x + c["BALL_SIZE"] >= c["CPU_X"] - 4, where
                assert before.cpu_y - c["BALL_SIZE"] - 4 < now.ball_y < before.cpu_y + c["PADDLE_HEIGHT"] + 4
                assert now.sfx_id in (c["SFX_PADDLE"], c["SFX_WALL"]), where
                seen["cpu_hit"] += 1
            else:
                assert now.hit_count == before.hit_count and now.ball_dx == before.ball_dx, where
                if before.ball_dy * now.ball_dy < 0:  # a vertical turn without a paddle: a wall
                    assert now.ball_y <= c["PLAYFIELD_TOP"] + 3 or now.ball_y >= c["PLAYFIELD_BOTTOM"] - 7, where
                    assert now.sfx_id == c["SFX_WALL"], where
                    seen["wall"] += 1
        if terminated:
            break
        before = now
    assert terminated, "the game did not end"
    assert max(now.player_score, now.cpu_score) == c["WIN_SCORE"] and total_reward == now.player_score
    assert all(count > 0 for count in seen.values()), seen


def test_seeded_reset_replays_exactly_and_seeds_vary_the_serve(env):
    def play(seed: int) -> list[bytes]:
        env.reset(seed=seed)
        rng = np.random.default_rng(0)
        return [env.step(int(rng.integers(3)))[0].tobytes() for _ in range(200)]

    assert play(5) == play(5)
    serves = set()
    for seed in range(4):
        env.reset(seed=seed)
        frame = Frame(env.profile, env.step(0)[0])  # the serve is drawn on the first frame of its rest
        serves.add((frame.ball_y, frame.ball_dx, frame.ball_dy))
    assert len(serves) > 1


def test_game_over_at_seven_then_title_on_start(env):
    profile, c = env.profile, env.profile.constants
    env.reset(seed=2)
    env.game.write("player_score", c["WIN_SCORE"] - 1)
    agent = make_agent("track_ball", env, seed=2)
    obs = env.game.ram.read()
    for _ in range(3000):
        obs, reward, terminated, _, info = env.step(agent.act(obs))
        if terminated:
            break
    frame = Frame(profile, obs)
    assert terminated and reward == 1 and info["score"] == c["WIN_SCORE"] and frame.cpu_score < c["WIN_SCORE"]
    assert list(frame.text_line(c["TEXT_LINE_MESSAGE"])) == text_tiles(c, "GAME OVER", net=True)
    assert list(frame.text_line(c["TEXT_LINE_PROMPT"])) == text_tiles(c, "YOU WIN", net=True)
    env.game.tick(60, False)
    assert env.game.game_over()  # stays until a button
    env.game.hold(("start",))
    env.game.tick(10, False)
    env.game.hold(())
    frame = Frame(profile, env.game.ram.read())
    assert frame.game_state == c["GAME_STATE_TITLE"] and frame.music_on == 1
    assert list(frame.text_line(c["TEXT_LINE_MESSAGE"])) == text_tiles(c, "PONG", net=False)
    # the CPU's seventh point ends the game too, as a loss
    env.reset(seed=2)
    env.game.write("cpu_score", c["WIN_SCORE"] - 1)
    for _ in range(3000):
        obs, reward, terminated, _, info = env.step(0)
        if terminated:
            break
    frame = Frame(profile, obs)
    assert terminated and reward == 0 and frame.cpu_score == c["WIN_SCORE"]
    assert list(frame.text_line(c["TEXT_LINE_PROMPT"])) == text_tiles(c, "CPU WINS", net=True)


def test_sound_driver_plays_the_tune_on_the_title_and_effects_in_play(symbols):
    from pyboy import PyBoy

    c = symbols["constants"]
    address = {v["name"]: v["address"] for v in symbols["variables"]}
    pyboy = PyBoy(str(PONG_ROM), window="null", sound_emulated=True, log_level="ERROR")
    try:
        pyboy.tick(150, False)
        memory = pyboy.memory
        assert memory[address["game_state"]] == c["GAME_STATE_TITLE"] and memory[address["music_on"]] == 1
        assert memory[NR52] & (NR52_ON | NR52_CHANNEL_2) == NR52_ON | NR52_CHANNEL_2
        assert memory[NR22] == ENVELOPE_TUNE
        positions = set()
        for _ in range(40):
            pyboy.tick(4, False)
            positions.add(memory[address["music_position"]])
        assert len(positions) >= 4  # the tune moves on
        pyboy.button("start")
        pyboy.tick(10, False)
        assert memory[address["game_state"]] == c["GAME_STATE_PLAY"] and memory[address["music_on"]] == 0
        assert memory[NR52] & NR52_CHANNEL_2 == 0
        # put the ball just right of the player's paddle, flying at it
        memory[address["serve_timer"]] = 0
        memory[address["ball_x"]] = c["PLAYER_X"] + c["PADDLE_WIDTH"] + 1
        memory[address["ball_y"]] = memory[address["player_y"]] + 8
        memory[address["ball_dx"]] = 256 - c["BALL_SPEED_BASE"]
        memory[address["ball_dy"]] = 0
        pyboy.tick(2, False)
        assert memory[address["sfx_id"]] == c["SFX_PADDLE"] and memory[address["hit_count"]] == 1
        assert memory[NR52] & NR52_CHANNEL_1
    finally:
        pyboy.stop(save=False)


def test_runs_on_the_original_game_boy(symbols):
    from pyboy import PyBoy

    c = symbols["constants"]
    address = {v["name"]: v["address"] for v in symbols["variables"]}
    pyboy = PyBoy(str(PONG_ROM), window="null", sound_emulated=False, cgb=False, log_level="ERROR")
    try:
        pyboy.tick(150, False)
        pyboy.button("start")
        pyboy.tick(10, True)
        assert pyboy.memory[address["game_state"]] == c["GAME_STATE_PLAY"]
        assert pyboy.memory[address["boot_cpu_type"]] != CPU_TYPE_CGB
        screen = pyboy.screen.ndarray[:, :, :3]
        player_y = pyboy.memory[address["player_y"]]
        paddle = screen[player_y + 2, c["PLAYER_X"] + 1]
        court = screen[player_y + 2, c["PLAYER_X"] + 20]
        assert (paddle != court).any()  # the paddle shows in a shade of its own
    finally:
        pyboy.stop(save=False)


# ---- the env ----


@pytest.mark.parametrize("obs_type", ["ram", "pixels"])
def test_check_env_passes(obs_type):
    env = gym.make("GBCPong-v0", obs_type=obs_type, render_mode="rgb_array").unwrapped
    check_env(env)
    assert env.get_action_meanings() == ["NOOP", "UP", "DOWN"]
    env.close()


def test_scripted_player_beats_random_play():
    env = gym.make("GBCPong-v0", obs_type="ram", max_episode_steps=800)
    scripted = [run_episode(env, make_agent("track_ball", env, seed), seed)["score"] for seed in (0, 1)]
    random = [run_episode(env, RandomAgent(env.action_space, seed), seed)["score"] for seed in (0, 1)]
    env.close()
    assert sum(scripted) >= sum(random) + 4, (scripted, random)


def test_bad_game_names_and_a_missing_rom_are_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(UnknownProfileError, match=r"unknown game profile 'pongg'; known profiles: \[.*'pong'"):
        gym.make("GBC-v0", profile="pongg")
    import gbc.profiles as profiles

    monkeypatch.setattr(profiles, "PONG_SYMBOLS", tmp_path / "pong.symbols.json")
    with pytest.raises(RomNotFoundError) as err:
        gym.make("GBCPong-v0")
    assert "\n" not in str(err.value) and "make -C roms" in str(err.value) and "pong.symbols.json" in str(err.value)
    assert gbc.known_profiles().count("pong") == 1


def test_state_spec_beside_the_rom_serves_obs_type_state():
    spec_path = PONG_DIR / "pong.state_spec.json"
    env = gym.make("GBCPong-v0", obs_type="state")
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (len(json.loads(spec_path.read_text())["features"]),)
    assert ((obs >= 0) & (obs <= 1)).all()
    env.close()


def test_a_person_plays_it_in_a_window_and_00_play_runs_it():
    import pygame

    held_down = play("pong", seed=0, fps=0, max_frames=20, scripted_keys={2: [(pygame.KEYDOWN, pygame.K_DOWN)]})
    assert held_down["variables"]["player_y"] > gbc.get_profile("pong").constants["PADDLE_START_Y"]
    assert held_down["lives"] is None
    script = Path(__file__).resolve().parents[1] / "scripts" / "00_play.py"
    done = subprocess.run([sys.executable, str(script), "--game", "pong", "--max-frames", "5"], capture_output=True,
                          text=True, env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, timeout=120, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 5 and "cpu_score" in summary["variables"]


def test_bench_times_the_pong_env():
    from gbc.bench import bench_gbc

    record = bench_gbc("ram", 0.05, env_id="GBCPong-v0")
    assert record["env"] == "GBCPong-v0" and record["steps_per_s"] > 0 and record["frame_skip"] == 4


def test_batched_env_matches_the_single_env(env):
    envs = gym.make_vec("GBCPong-v0", num_envs=2, num_workers=1, obs_type="ram", frame_skip=1)
    try:
        envs.reset(seed=[3, 4])
        for _ in range(30):
            obs = envs.step(np.array([1, 2]))[0]
    finally:
        envs.close()
    env.reset(seed=4)
    for _ in range(30):
        single = env.step(2)[0]
    np.testing.assert_array_equal(obs[1], single)
