"""Game profiles: the registry, a user's JSON profile, and the errors for bad input."""

import dataclasses
import hashlib
import json
import shutil

import numpy as np
import pytest

from gbc.env import GameBoyEnv
from gbc.profiles import (
    BREAKOUT_ROM,
    BREAKOUT_SYMBOLS,
    Condition,
    GameProfile,
    ProfileError,
    RomHashMismatchError,
    RomNotFoundError,
    UnknownProfileError,
    get_profile,
    known_profiles,
    load_profile_file,
    read_symbols,
)

needs_rom = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")


def user_profile_spec(rom_name: str, sha1: str) -> dict:
    """A hand-written profile for a copy of our Breakout ROM, as a user would write one for their ROM."""
    symbols = {v["name"]: v for v in read_symbols(BREAKOUT_SYMBOLS)["variables"]}
    constants = read_symbols(BREAKOUT_SYMBOLS)["constants"]
    wanted = ("game_state", "score", "lives", "paddle_x", "ball_x", "rng_state")
    return {
        "name": "mybreakout",
        "rom": rom_name,
        "sha1": sha1,
        "variables": {n: {"address": symbols[n]["address_hex"], "size": symbols[n]["size"]} for n in wanted},
        "score": "score",
        "score_encoding": "uint_le",
        "lives": "lives",
        "seed_variable": "rng_state",
        "start_sequence": [{"frames": 120}, {"frames": 2, "buttons": ["start"]}],
        "in_play": {"variable": "game_state", "op": "==", "value": constants["GAME_STATE_PLAY"]},
        "game_over": {"variable": "game_state", "op": "==", "value": constants["GAME_STATE_GAME_OVER"]},
        "actions": [[], ["left"], ["right"]],
        "action_names": ["NOOP", "LEFT", "RIGHT"],
    }


@pytest.fixture
def user_roms(tmp_path):
    """A roms/ folder holding a user's ROM (a copy of ours) and its profile, mygame.profile.json."""
    rom = tmp_path / "mygame.gb"
    shutil.copyfile(BREAKOUT_ROM, rom)
    sha1 = hashlib.sha1(rom.read_bytes()).hexdigest()
    (tmp_path / "mygame.profile.json").write_text(json.dumps(user_profile_spec("mygame.gb", sha1)))
    return tmp_path


def test_unknown_profile_lists_the_known_ones(tmp_path):
    with pytest.raises(UnknownProfileError) as err:
        get_profile("tetris", roms_dir=tmp_path)
    message = str(err.value)
    assert "'tetris'" in message and "breakout" in message and "tetris.profile.json" in message


@needs_rom
def test_user_profile_is_found_by_name_and_plays(user_roms):
    assert "mygame" in known_profiles(user_roms)
    profile = get_profile("mygame", roms_dir=user_roms)
    assert profile.rom_path == user_roms / "mygame.gb"
    assert get_profile(user_roms / "mygame.profile.json") == profile  # a path to the file works too
    # The user's profile of a copy of our ROM must play exactly as the built-in profile: same seed, same actions,
    # same RAM, rewards, end and info at every step, for a whole game: the scripted player scores until the score
    # passes 20 (from 16 on, its bytes read differently in another encoding: 0x10 is 16, or 10 in BCD), then the
    # paddle stays still until the last ball is lost.
    from gbc.baselines import FollowBallAgent

    user_env, builtin_env = GameBoyEnv(profile), GameBoyEnv("breakout")
    try:
        user_obs, user_info = user_env.reset(seed=3)
        builtin_obs, builtin_info = builtin_env.reset(seed=3)
        assert user_info == builtin_info and user_info["lives"] == 3 and user_info["score"] == 0
        assert np.array_equal(user_obs, builtin_obs)
        player = FollowBallAgent(builtin_env.profile, seed=0)
        total = 0.0
        for _ in range(3000):
            action = player.act(builtin_obs) if builtin_info["score"] <= 20 else 0
            user_obs, user_reward, user_end, _, user_info = user_env.step(action)
            builtin_obs, builtin_reward, builtin_end, _, builtin_info = builtin_env.step(action)
            assert np.array_equal(user_obs, builtin_obs)
            assert (user_reward, user_end, user_info) == (builtin_reward, builtin_end, builtin_info)
            total += user_reward
            if user_end:
                break
        assert user_end and total == user_info["score"] > 20 and user_info["lives"] == 0
        assert [user_env.game.read(n) for n in ("paddle_x", "ball_x", "rng_state")] == \
            [builtin_env.game.read(n) for n in ("paddle_x", "ball_x", "rng_state")]
    finally:
        user_env.close()
        builtin_env.close()


@needs_rom
def test_missing_rom_names_the_path_and_the_fix(user_roms):
    (user_roms / "mygame.gb").unlink()
    with pytest.raises(RomNotFoundError) as err:
        GameBoyEnv(get_profile("mygame", roms_dir=user_roms))
    assert str(user_roms / "mygame.gb") in str(err.value)
    built_in = dataclasses.replace(get_profile("breakout"), rom_path=user_roms / "breakout.gb")
    with pytest.raises(RomNotFoundError, match="make -C roms"):
        built_in.verify_rom()


@needs_rom
def test_wrong_hash_gives_expected_and_actual(user_roms):
    rom = user_roms / "mygame.gb"
    data = bytearray(rom.read_bytes())
    data[0x150] ^= 0xFF  # a different ROM
    rom.write_bytes(bytes(data))
    with pytest.raises(RomHashMismatchError) as err:
        get_profile("mygame", roms_dir=user_roms).verify_rom()
    expected = hashlib.sha1(BREAKOUT_ROM.read_bytes()).hexdigest()
    actual = hashlib.sha1(bytes(data)).hexdigest()
    assert expected in str(err.value) and actual in str(err.value)


def test_malformed_profiles_are_rejected_with_the_reason(tmp_path):
    spec = {"name": "x", "rom": "x.gb", "sha1": "0" * 40}
    path = tmp_path / "x.profile.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ProfileError, match="lacks the keys"):
        load_profile_file(path)
    path.write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile_file(path)
    with pytest.raises(ProfileError, match="operator"):
        Condition("mode", "=", 1)
    with pytest.raises(ProfileError, match="does not define"):
        GameProfile(
            name="x", rom_path=tmp_path / "x.gb", sha1="0" * 40, variables={}, start_sequence=(),
            in_play=Condition("mode", "==", 1), game_over=Condition("mode", "==", 2), score="score",
        )


@needs_rom
def test_score_encodings():
    profile = get_profile("breakout")
    assert profile.score_encoding == "uint_le"
    assert profile.decode_score([0x34, 0x12]) == 0x1234
    for encoding, raw, value in (("uint_be", [0x12, 0x34], 0x1234), ("bcd_le", [0x56, 0x34, 0x12], 123456),
                                 ("bcd_be", [0x12, 0x34], 1234)):
        assert dataclasses.replace(profile, score_encoding=encoding).decode_score(raw) == value
    with pytest.raises(ProfileError, match="score_encoding"):
        dataclasses.replace(profile, score_encoding="ascii")
