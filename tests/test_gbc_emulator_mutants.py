"""gbc.emulator.GameBoy on the real Breakout ROM, a few frames at a time: the tests that kill its mutants.

The boot is pinned frame by frame: the standard start reaches play 4 frames after the start sequence, on VBlank 55;
a variant that starts "in play" at power-on (game_state == 0, the title) must wait for the LCD, which the ROM turns
off for its first 4 frames, to be on for LCD_SETTLE_FRAMES (3) frames: 7 settle frames, fewer after a start
sequence that covers some of them. One emulator serves the module (restarted by each test); the boot tests clear
the per-process cache of play starts so that they really boot.
"""

import dataclasses
import io
import logging
import time

import numpy as np
import pytest

import gbc.emulator
from gbc.emulator import LCD_SETTLE_FRAMES, GameBoy
from gbc.hardware import LCDC
from gbc.profiles import BREAKOUT_ROM, Condition, ProfileError, StartStep, get_profile

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")

BREAKOUT = get_profile("breakout")
TITLE_AT_POWER_ON = dataclasses.replace(BREAKOUT, start_sequence=(), in_play=Condition("game_state", "==", 0))
J_RIGHT, J_LEFT = 0x01, 0x02  # roms/runtime/runtime.h
PLAY_START_VBLANK = 55  # vblank_count on the first frame of play of the standard start


@pytest.fixture(scope="module")
def game():
    emulator = GameBoy("breakout")
    yield emulator
    emulator.close()


@pytest.fixture
def fresh_boot(monkeypatch):
    monkeypatch.setattr(gbc.emulator, "_PLAY_STARTS", {})


def load_play_state(emulator: GameBoy) -> None:
    emulator.pyboy.load_state(io.BytesIO(emulator._play_state))


def colours(screen: np.ndarray) -> int:
    return len(np.unique(screen.reshape(-1, screen.shape[2]), axis=0))


def test_boot_saves_the_first_frame_of_play(fresh_boot):
    emulator = GameBoy(BREAKOUT)
    try:
        assert LCD_SETTLE_FRAMES == 3 and emulator._settle_frames == 0  # the LCD stays on through the start
        load_play_state(emulator)
        assert emulator.read("game_state") == 1 and emulator.read("vblank_count") == PLAY_START_VBLANK
        assert emulator.in_play() and emulator.lcd_on() and colours(emulator.screen_rgb()) > 2
        assert gbc.emulator._PLAY_STARTS == {
            (BREAKOUT.sha1, BREAKOUT.start_sequence, BREAKOUT.in_play): (emulator._play_state, 0)}
    finally:
        emulator.close()


def test_later_emulators_reuse_the_saved_play_start(fresh_boot):
    first = GameBoy(BREAKOUT)
    second = GameBoy(BREAKOUT)
    try:
        assert second._play_state is first._play_state
        assert len(gbc.emulator._PLAY_STARTS) == 1
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("start_frames, settle_frames", [(None, 7), (1, 6), (4, 3), (5, 2), (6, 1), (7, 0), (9, 0)])
def test_restart_waits_until_the_lcd_has_been_on_for_the_settle_frames(fresh_boot, start_frames, settle_frames):
    steps = () if start_frames is None else (StartStep(frames=start_frames),)
    emulator = GameBoy(dataclasses.replace(TITLE_AT_POWER_ON, start_sequence=steps))
    try:
        assert emulator._settle_frames == settle_frames
        emulator.restart()
        assert emulator.lcd_on() and emulator.read("game_state") == 0
        if start_frames is None:
            load_play_state(emulator)  # the first frame: the ROM has switched the LCD off to load its tiles
            assert not emulator.lcd_on() and emulator.read("vblank_count") == 0
    finally:
        emulator.close()


def test_restart_renders_the_settle_frames(fresh_boot):
    emulator = GameBoy(TITLE_AT_POWER_ON)
    try:
        load_play_state(emulator)
        blank = emulator.screen_rgb()
        emulator.restart()
        assert colours(blank) == 1 and colours(emulator.screen_rgb()) > 1
    finally:
        emulator.close()


@pytest.mark.parametrize("profile, max_frames, reaches", [
    (BREAKOUT, 4, True), (BREAKOUT, 3, False), (BREAKOUT, 0, False),
    (TITLE_AT_POWER_ON, 7, True), (TITLE_AT_POWER_ON, 6, False),
])
def test_boot_gives_up_after_max_start_frames(fresh_boot, profile, max_frames, reaches):
    profile = dataclasses.replace(profile, max_start_frames=max_frames)
    if reaches:
        GameBoy(profile).close()
        return
    with pytest.raises(ProfileError) as error:
        GameBoy(profile)
    assert str(error.value) == (
        f"profile 'breakout': the game did not reach play ({profile.in_play}, with the LCD on) within {max_frames} "
        "frames after the start sequence; check start_sequence and in_play")


def test_restart_writes_the_seed_and_releases_the_buttons(game):
    game.hold(("right",))
    game.restart(seed=0x1234)
    assert game.read("rng_state") == 0x1234 and game._held == ()
    paddle = game.read("paddle_x")
    game.tick(5, False)
    assert game.read("joypad_held") == 0 and game.read("paddle_x") == paddle
    game.restart()
    assert game.read("rng_state") == 50  # the ROM's own seed, from its title frames
    assert game.read("vblank_count") == PLAY_START_VBLANK


def test_seed_without_a_seed_variable_is_an_error(fresh_boot):
    emulator = GameBoy(dataclasses.replace(BREAKOUT, seed_variable=None))
    try:
        emulator.restart()
        with pytest.raises(ProfileError, match="^profile 'breakout' has no seed_variable to write a seed into$"):
            emulator.restart(seed=3)
    finally:
        emulator.close()


def test_hold_presses_exactly_the_given_buttons(game):
    game.restart()
    for buttons, joypad in [(("left",), J_LEFT), (("right",), J_RIGHT), (("left", "right"), J_LEFT | J_RIGHT),
                            (("left", "right"), J_LEFT | J_RIGHT), (("right",), J_RIGHT), ((), 0)]:
        game.hold(buttons)
        game.tick(2, False)
        assert game.read("joypad_held") == joypad, buttons
        assert game._held == buttons


def test_tick_runs_that_many_frames_and_renders_only_when_asked(game):
    game.restart()
    before = game.read("vblank_count")
    game.tick(3, False)
    assert game.read("vblank_count") == before + 3
    screen = game.screen_rgb()
    game.hold(("left",))
    game.tick(8, False)
    assert np.array_equal(game.screen_rgb(), screen)
    game.tick(1, True)
    assert not np.array_equal(game.screen_rgb(), screen)  # the paddle moved
    game.hold(())


def test_emulation_runs_as_fast_as_possible(game):
    game.restart()
    start = time.perf_counter()
    game.tick(300, False)  # 5 s of game time at the Game Boy's speed
    assert time.perf_counter() - start < 2.5


def test_pyboy_logs_only_errors_and_opens_no_window(game):
    assert logging.getLogger("pyboy").level == logging.ERROR
    plugins = game.pyboy._plugin_manager
    assert plugins.window_null.enabled() and not plugins.window_sdl2.enabled()


def test_the_start_sequence_is_rendered_into_the_saved_state(fresh_boot):
    # 4 more frames in the start sequence: play holds at once after it, so only the start sequence drew the screen
    steps = BREAKOUT.start_sequence + (StartStep(frames=4),)
    emulator = GameBoy(dataclasses.replace(BREAKOUT, start_sequence=steps, max_start_frames=1))
    try:
        emulator.restart()
        assert emulator._settle_frames == 0 and colours(emulator.screen_rgb()) > 2
    finally:
        emulator.close()


def test_reads_and_writes_are_little_endian(game):
    game.restart()
    score = BREAKOUT.address("score")
    game.write("score", 0x1234)
    assert game.memory[score] == 0x34 and game.memory[score + 1] == 0x12
    assert game.read("score") == 0x1234 and game.read_bytes("score") == [0x34, 0x12] and game.score() == 0x1234
    game.write("paddle_x", 100)
    assert game.memory[BREAKOUT.address("paddle_x")] == 100 and game.read("paddle_x") == 100
    assert game.read_bytes("paddle_x") == [100]
    bricks = BREAKOUT.address("bricks")
    assert game.read("bricks") == int.from_bytes(bytes(game.memory[bricks:bricks + 108]), "little") > 0
    assert game.read_bytes("bricks") == [1] * 108
    with pytest.raises(OverflowError):
        game.write("paddle_x", 256)


def test_an_unknown_variable_names_the_known_ones(game):
    with pytest.raises(ProfileError) as error:
        game.read("nope")
    assert str(error.value) == (
        f"profile 'breakout' has no variable 'nope'; it has {sorted(BREAKOUT.variables)}")


def test_lives_in_play_game_over_and_lcd(game, fresh_boot):
    game.restart()
    assert game.lives() == 3 and game.in_play() and not game.game_over() and game.lcd_on()
    game.write("lives", 2)
    assert game.lives() == 2
    game.write("game_state", 2)
    assert game.game_over() and not game.in_play()
    lcdc = game.memory[LCDC]
    game.memory[LCDC] = lcdc & 0x7F
    assert not game.lcd_on()
    game.memory[LCDC] = lcdc
    game.restart()
    without_lives = GameBoy(dataclasses.replace(BREAKOUT, lives=None))
    assert without_lives.lives() is None
    without_lives.close()


def test_screens_and_state(game):
    game.restart()
    game.tick(1, True)
    rgb, rgba = game.screen_rgb(), game.screen_rgba_view()
    assert rgb.shape == (144, 160, 3) and rgba.shape == (144, 160, 4) and np.array_equal(rgb, rgba[:, :, :3])
    rgb[:] = 0
    assert colours(game.screen_rgb()) > 1  # a copy
    state = game.save_state()
    assert isinstance(state, bytes)
    paddle = game.read("paddle_x")
    game.hold(("right",))
    game.tick(10, False)
    assert game.read("paddle_x") != paddle
    game.pyboy.load_state(io.BytesIO(state))
    assert game.read("paddle_x") == paddle
    game.hold(())


def test_dump_holds_this_rom_and_its_memory(game):
    game.restart()
    dump = game.dump()
    assert len(dump) == 1 and dump.rom_sha1[0] == BREAKOUT.sha1
    assert dump.wram[0].reshape(-1)[: 0x1000].tolist() == game.memory[0xC000:0xD000]
