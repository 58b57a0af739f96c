"""The direct renderer (gbc.render) against known pictures and against PyBoy's own screen, the emulated render
(gbc.emulated_render) and the pictures scripts/05_render_gbc.py writes (gbc.render_pictures).

Every hand-made dump is also shown in PyBoy (gbc.dump.show_in_pyboy, on a ROM that only loops) and the frame PyBoy
draws must equal the direct render byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

warnings.filterwarnings("ignore", message="Using SDL2 binaries from pysdl2-dll")

from gbc.dump import (  # noqa: E402
    BCPS,
    BGP,
    IO_START,
    OBP0,
    OBP1,
    OCPS,
    SCX,
    SCY,
    WX,
    WY,
    MemoryDump,
    concatenate,
    empty_dumps,
    show_in_pyboy,
)
from gbc.emulated_render import (  # noqa: E402
    SCREEN_LAG_FRAMES,
    EmulatedRenderer,
    OverrideError,
    new_pyboy,
    record_episode,
)
from gbc.emulator import GameBoy  # noqa: E402
from gbc.hardware import LCDC, LCDC_ENABLE  # noqa: E402
from gbc.profiles import get_profile  # noqa: E402
from gbc.render import (  # noqa: E402
    LCDC_BG_ON,
    LCDC_OBJ_ON,
    LCDC_OBJ_TALL,
    LCDC_TILES_8000,
    LCDC_WINDOW_MAP_HIGH,
    LCDC_WINDOW_ON,
    MAP_HIGH,
    MAP_LOW,
    check_recording,
    render,
    summarize,
)
from gbc.render_pictures import RenderJob, RenderRequestError, render_pictures  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BREAKOUT = get_profile("breakout")
MODELS = ("DMG", "CGB")
GREY = {0: (255, 255, 255), 1: (0x99, 0x99, 0x99), 2: (0x55, 0x55, 0x55), 3: (0, 0, 0)}  # PyBoy's DMG shades


# --- a ROM that loops forever, so that PyBoy shows exactly what the test writes ----------------------------------


def idle_rom() -> bytes:
    """32 KiB, no MBC, CGB-compatible (0x143 = 0x80): at 0x100 `nop; jp 0x150`, at 0x150 `jr -2`."""
    rom = bytearray(0x8000)
    rom[0x100:0x104] = bytes([0x00, 0xC3, 0x50, 0x01])
    rom[0x150:0x152] = bytes([0x18, 0xFE])
    rom[0x143] = 0x80
    rom[0x14D] = (-sum(rom[0x134:0x14D]) - 25) & 0xFF  # header checksum (Pan Docs, 014D)
    return bytes(rom)


@pytest.fixture(scope="module")
def pyboys():
    emulators = {}
    for model in MODELS:
        pyboy = new_pyboy(idle_rom(), model)
        pyboy.tick(120, False)  # past the boot ROM
        # One frame with the window on first: a fresh PyBoy draws the first window frame it is shown with the last
        # line of each window tile row off by one (rows 47 and 55 of test_window_over_background), every later one as
        # the direct render does; without this the tests' outcome depended on their order (alone, or on a -n 2 worker).
        emulators[model] = pyboy
        pyboy_frame(emulators, canvas(model, LCDC_ENABLE | LCDC_BG_ON | LCDC_WINDOW_ON))
    yield emulators
    for pyboy in emulators.values():
        pyboy.stop(save=False)


def pyboy_frame(pyboys, dump: MemoryDump) -> np.ndarray:
    pyboy = pyboys[("DMG", "CGB")[int(dump.model[0])]]
    show_in_pyboy(pyboy, dump)
    # The next frame began before the writes; if they switched the LCD on, that frame ends at once and the one
    # after is blank (as on hardware). The third shows the dump either way.
    pyboy.tick(3, True)
    return pyboy.screen.ndarray[:, :, :3].copy()


def rendered_like_pyboy(pyboys, dump: MemoryDump) -> np.ndarray:
    frame = render(dump)[0]
    expected = pyboy_frame(pyboys, dump)
    assert np.array_equal(frame, expected), f"{int((frame != expected).any(axis=2).sum())} pixels differ from PyBoy"
    return frame


# --- hand-made dumps ------------------------------------------------------------------------------------------------


def set_register(dump: MemoryDump, address: int, value: int) -> None:
    dump.io[0, address - IO_START] = value


def cgb_word(palette: int, colour: int, sprite: bool) -> int:
    """A distinct RGB555 colour for every palette entry."""
    r, g, b = 4 * palette + colour, 31 - 4 * palette - colour, (7 * palette + 11 * colour + 16 * sprite) & 31
    return r | (g << 5) | (b << 10)


def cgb_rgb(palette: int, colour: int, sprite: bool = False) -> tuple[int, int, int]:
    word = cgb_word(palette, colour, sprite)
    return ((word & 31) << 3, ((word >> 5) & 31) << 3, ((word >> 10) & 31) << 3)


def canvas(model: str, lcdc: int = LCDC_ENABLE | LCDC_BG_ON | LCDC_OBJ_ON | LCDC_TILES_8000) -> MemoryDump:
    """A dump with the LCD on, blank tiles, sprites off-screen, BGP = OBP0 = 0xE4 (colour c -> shade c), OBP1 = 0x1B
    (colour c -> shade 3 - c) and, on a CGB, a distinct colour in every palette entry."""
    d = empty_dumps(1, model)
    set_register(d, LCDC, lcdc)
    set_register(d, BGP, 0xE4)
    set_register(d, OBP0, 0xE4)
    set_register(d, OBP1, 0x1B)
    set_register(d, WX, 0xFF)  # window off-screen
    if model == "CGB":
        for ram, sprite in ((d.bg_palette_ram, False), (d.obj_palette_ram, True)):
            words = [cgb_word(p, c, sprite) for p in range(8) for c in range(4)]
            ram[0] = np.array([[w & 0xFF, w >> 8] for w in words], np.uint8).reshape(-1)
        set_register(d, BCPS, 0x80)
        set_register(d, OCPS, 0x80)
    return d


def tile_bytes(rows: list[str]) -> np.ndarray:
    """8 rows of 8 colour numbers ('0'-'3', leftmost first) -> the 16 bytes of a tile (2 bit planes per row)."""
    out = []
    for row in rows:
        values = [int(c) for c in row]
        out.append(sum((v & 1) << (7 - i) for i, v in enumerate(values)))
        out.append(sum((v >> 1) << (7 - i) for i, v in enumerate(values)))
    return np.array(out, np.uint8)


def solid(colour: int) -> list[str]:
    return [str(colour) * 8] * 8


L_SHAPE = ["33333333"] + ["30000000"] * 7  # top row and left column: shows every flip


def put_tile(d: MemoryDump, index: int, rows: list[str], bank: int = 0) -> None:
    d.vram[0, bank, index * 16 : index * 16 + 16] = tile_bytes(rows)


def put_map(d: MemoryDump, col: int, row: int, tile: int, attributes: int = 0, base: int = MAP_LOW) -> None:
    d.vram[0, 0, base + 32 * row + col] = tile
    d.vram[0, 1, base + 32 * row + col] = attributes


def fill_map(d: MemoryDump, tile: int, base: int = MAP_LOW) -> None:
    d.vram[0, 0, base : base + 1024] = tile


def put_sprite(d: MemoryDump, slot: int, x: int, y: int, tile: int, attributes: int = 0) -> None:
    d.oam[0, 4 * slot : 4 * slot + 4] = (y + 16, x + 8, tile, attributes)


def bg_colour(model: str, colour: int, palette: int = 0) -> tuple[int, int, int]:
    return GREY[colour] if model == "DMG" else cgb_rgb(palette, colour)


def obj_colour(model: str, colour: int, palette: int = 0) -> tuple[int, int, int]:
    return GREY[colour] if model == "DMG" else cgb_rgb(palette, colour, sprite=True)


def is_colour(pixels: np.ndarray, rgb) -> bool:
    return bool((pixels.reshape(-1, 3) == np.array(rgb, np.uint8)).all())


# --- PPU features on hand-made dumps --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_background_scrolls_and_wraps(pyboys, model):
    d = canvas(model)
    put_tile(d, 1, solid(3))
    put_map(d, 0, 0, 1)  # the only marked tile, at the map's top-left corner
    set_register(d, SCX, 250)
    set_register(d, SCY, 252)
    frame = rendered_like_pyboy(pyboys, d)
    # Map column 0 shows from screen x = 256 - 250 = 6, map row 0 from y = 256 - 252 = 4 (wrapped around).
    assert is_colour(frame[4:12, 6:14], bg_colour(model, 3))
    marked = (frame == np.array(bg_colour(model, 3), np.uint8)).all(axis=2)
    assert marked.sum() == 64


@pytest.mark.parametrize("model", MODELS)
def test_window_over_background(pyboys, model):
    d = canvas(model, LCDC_ENABLE | LCDC_BG_ON | LCDC_TILES_8000 | LCDC_WINDOW_ON | LCDC_WINDOW_MAP_HIGH)
    put_tile(d, 1, solid(1))
    put_tile(d, 2, solid(2))
    put_tile(d, 3, solid(3))
    fill_map(d, 1)
    fill_map(d, 2, MAP_HIGH)
    d.vram[0, 0, MAP_HIGH + 32 : MAP_HIGH + 64] = 3  # window map row 1
    set_register(d, WY, 40)
    set_register(d, WX, 50 + 7)
    set_register(d, SCY, 5)  # the window does not scroll
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[:40], bg_colour(model, 1))
    assert is_colour(frame[40:, :50], bg_colour(model, 1))
    assert is_colour(frame[40:48, 50:], bg_colour(model, 2))  # window row 0 starts at WY
    assert is_colour(frame[48:56, 50:], bg_colour(model, 3))


@pytest.mark.parametrize("model", MODELS)
def test_flipped_sprites(pyboys, model):
    d = canvas(model)
    put_tile(d, 1, L_SHAPE)
    for i, flips in enumerate((0x00, 0x20, 0x40, 0x60)):  # none, X, Y, both
        put_sprite(d, i, 8 + 16 * i, 8, 1, flips)
    frame = rendered_like_pyboy(pyboys, d)
    shape = np.array([[int(c) for c in row] for row in L_SHAPE]) == 3
    for i, pattern in enumerate((shape, shape[:, ::-1], shape[::-1], shape[::-1, ::-1])):
        x = 8 + 16 * i
        drawn = (frame[8:16, x : x + 8] == np.array(obj_colour(model, 3), np.uint8)).all(axis=2)
        assert np.array_equal(drawn, pattern), f"sprite {i}"


@pytest.mark.parametrize("model", MODELS)
def test_sprite_behind_background_colours(pyboys, model):
    d = canvas(model)
    put_tile(d, 2, solid(2))
    put_tile(d, 5, solid(3))
    for row in range(32):
        d.vram[0, 0, MAP_LOW + 32 * row + 10 : MAP_LOW + 32 * row + 20] = 2  # right half: colour 2
    put_sprite(d, 0, 76, 20, 5, 0x80)  # behind the background, across x = 80
    put_sprite(d, 1, 76, 40, 5, 0x00)  # in front
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[20:28, 76:80], obj_colour(model, 3))  # over background colour 0: shown
    assert is_colour(frame[20:28, 80:84], bg_colour(model, 2))  # over colour 2: hidden
    assert is_colour(frame[40:48, 76:84], obj_colour(model, 3))


@pytest.mark.parametrize("model", MODELS)
def test_tall_sprites(pyboys, model):
    d = canvas(model, LCDC_ENABLE | LCDC_BG_ON | LCDC_OBJ_ON | LCDC_TILES_8000 | LCDC_OBJ_TALL)
    put_tile(d, 4, solid(1))
    put_tile(d, 5, solid(3))
    put_sprite(d, 0, 30, 30, 5)  # odd tile number: the pair 4 (top), 5 (bottom)
    put_sprite(d, 1, 50, 30, 4, 0x40)  # flipped vertically: the halves swap
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[30:38, 30:38], obj_colour(model, 1))
    assert is_colour(frame[38:46, 30:38], obj_colour(model, 3))
    assert is_colour(frame[30:38, 50:58], obj_colour(model, 3))
    assert is_colour(frame[38:46, 50:58], obj_colour(model, 1))
    assert is_colour(frame[46:54, 30:58], bg_colour(model, 0))


@pytest.mark.parametrize("model", MODELS)
def test_ten_sprites_per_line_and_priority(pyboys, model):
    d = canvas(model)
    put_tile(d, 1, solid(1))
    put_tile(d, 2, solid(2))
    put_tile(d, 3, solid(3))
    for i in range(12):  # 12 on the same lines: only the first 10 in OAM are drawn
        put_sprite(d, i, 8 * i, 10, 3)
    put_sprite(d, 12, 120, 40, 1)  # overlapping pair: OAM 12 at x 120, OAM 13 at x 116
    put_sprite(d, 13, 116, 40, 2)
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[10:18, 0:80], obj_colour(model, 3))
    assert is_colour(frame[10:18, 80:96], bg_colour(model, 0))
    # DMG: the lower X wins (OAM 13); CGB: the lower OAM index wins (OAM 12).
    winner = 2 if model == "DMG" else 1
    assert is_colour(frame[40:48, 120:124], obj_colour(model, winner))


def test_dmg_palettes(pyboys):
    d = canvas("DMG")
    set_register(d, BGP, 0x1B)  # colour c -> shade 3 - c
    put_tile(d, 1, ["01230123"] * 8)
    fill_map(d, 1)
    put_sprite(d, 0, 40, 40, 1, 0x00)  # OBP0 = 0xE4
    put_sprite(d, 1, 40, 60, 1, 0x10)  # OBP1 = 0x1B
    frame = rendered_like_pyboy(pyboys, d)
    for x, colour in enumerate([0, 1, 2, 3]):
        assert is_colour(frame[0:8, x], GREY[3 - colour])
        if colour:  # colour 0 of a sprite is transparent
            assert is_colour(frame[40:48, 40 + x], GREY[colour])
            assert is_colour(frame[60:68, 40 + x], GREY[3 - colour])


def test_cgb_palettes_and_attributes(pyboys):
    d = canvas("CGB")
    put_tile(d, 1, solid(1))
    put_tile(d, 1, solid(2), bank=1)
    put_tile(d, 6, L_SHAPE)
    put_tile(d, 7, solid(3), bank=1)
    put_map(d, 0, 0, 1, 0x03)  # palette 3, bank 0
    put_map(d, 1, 0, 1, 0x05 | 0x08)  # palette 5, tile data from bank 1
    put_map(d, 2, 0, 6, 0x60 | 0x02)  # both flips, palette 2
    put_map(d, 3, 0, 1, 0x80)  # above sprites
    put_sprite(d, 0, 24, 0, 1, 0x06)  # sprite palette 6, over the 4th tile: hidden by its priority attribute
    put_sprite(d, 1, 40, 0, 7, 0x08 | 0x04)  # sprite tile 7 from bank 1, palette 4
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[0:8, 0:8], cgb_rgb(3, 1))
    assert is_colour(frame[0:8, 8:16], cgb_rgb(5, 2))
    shape = np.array([[int(c) for c in row] for row in L_SHAPE])[::-1, ::-1]
    for colour in (0, 3):
        drawn = (frame[0:8, 16:24] == np.array(cgb_rgb(2, colour), np.uint8)).all(axis=2)
        assert np.array_equal(drawn, shape == colour)
    assert is_colour(frame[0:8, 24:32], cgb_rgb(0, 1))  # BG-to-OAM priority: the map wins over the sprite
    assert is_colour(frame[0:8, 40:48], cgb_rgb(4, 3, sprite=True))
    set_register(d, LCDC, LCDC_ENABLE | LCDC_OBJ_ON | LCDC_TILES_8000)  # LCDC bit 0 clear: sprites on top
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[0:8, 24:32], cgb_rgb(6, 1, sprite=True))


@pytest.mark.parametrize("model", MODELS)
def test_signed_tile_numbers(pyboys, model):
    d = canvas(model, LCDC_ENABLE | LCDC_BG_ON)  # LCDC bit 4 clear: tiles 0-127 at 0x9000, 128-255 at 0x8800
    put_tile(d, 256 + 1, solid(1))  # tile number 1 -> 0x9010
    put_tile(d, 128, solid(2))  # tile number 0x80 -> 0x8800
    put_tile(d, 1, solid(3))  # 0x8010: not used by the map in this mode
    put_tile(d, 256, solid(0))
    put_map(d, 0, 0, 1)
    put_map(d, 1, 0, 0x80)
    frame = rendered_like_pyboy(pyboys, d)
    assert is_colour(frame[0:8, 0:8], bg_colour(model, 1))
    assert is_colour(frame[0:8, 8:16], bg_colour(model, 2))


@pytest.mark.parametrize("model", MODELS)
def test_lcd_off_and_first_frame_are_blank(pyboys, model):
    d = canvas(model)
    put_tile(d, 1, solid(3))
    fill_map(d, 1)
    assert not is_colour(render(d)[0], GREY[0])
    first = canvas(model)
    first.vram[:] = d.vram
    first.lcd_first_frame[0] = True
    assert is_colour(render(first)[0], GREY[0])  # BGP colour 0 through PyBoy's background colours: white
    set_register(d, LCDC, 0)
    assert is_colour(rendered_like_pyboy(pyboys, d), GREY[0])


@pytest.mark.parametrize("model", MODELS)
def test_random_dumps_render_like_pyboy(pyboys, model):
    """Random VRAM, OAM (crowded lines, overlaps, off-screen sprites), LCDC, scroll, window and palettes."""
    rng = np.random.default_rng(11)
    dumps, frames = [], []
    for i in range(12):
        d = canvas(model)
        d.vram[0, 0] = rng.integers(0, 256, 0x2000)
        if model == "CGB":
            d.vram[0, 1] = rng.integers(0, 256, 0x2000)
            d.bg_palette_ram[0] = rng.integers(0, 256, 64)
            d.obj_palette_ram[0] = rng.integers(0, 256, 64)
        oam = d.oam.reshape(40, 4)
        oam[:, 0] = rng.integers(40, 100, 40) if i % 2 else rng.integers(0, 256, 40)
        oam[:, 1:] = rng.integers(0, 256, (40, 3))
        set_register(d, LCDC, LCDC_ENABLE | int(rng.integers(0, 128)))
        for register in (SCX, SCY, BGP, OBP0, OBP1):
            set_register(d, register, int(rng.integers(0, 256)))
        set_register(d, WY, int(rng.integers(0, 150)))
        set_register(d, WX, int(rng.integers(0, 170)))
        dumps.append(d)
        frames.append(pyboy_frame(pyboys, d))
    batch = render(concatenate(dumps))  # one batch: the same frames as one by one
    differing = [i for i in range(len(dumps)) if not np.array_equal(batch[i], frames[i])]
    assert differing == []


def test_a_batch_may_mix_models_and_blank_frames():
    pictures = []
    for model in MODELS:
        d = canvas(model)
        put_tile(d, 1, L_SHAPE)
        fill_map(d, 1)
        put_sprite(d, 0, 20, 20, 1, 0x20)
        pictures.append(d)
    off = canvas("CGB")
    set_register(off, LCDC, 0)
    batch = render(concatenate(pictures + [off]))
    for i, d in enumerate(pictures + [off]):
        assert np.array_equal(batch[i], render(d)[0])
    assert not np.array_equal(batch[0], batch[1])  # grey and colour


# --- recorded episodes of our ROM ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=MODELS)
def episode(request):
    return request.param, record_episode("breakout", request.param, seed=5)  # a game that breaks bricks


def test_a_large_batch_drawn_on_threads_equals_frame_by_frame_even_in_a_forked_child(episode):
    _, recording = episode
    indices = np.arange(len(recording.dumps))[::2]  # over 2 x THREAD_CHUNK frames: split over the cores
    assert len(indices) >= 2 * 64
    dumps, lines = recording.dumps[indices], recording.scanline_registers[indices]
    batch = render(dumps, lines)
    one_by_one = np.concatenate([render(dumps[[k]], lines[[k]]) for k in range(len(indices))])
    assert np.array_equal(batch, one_by_one)
    pid = os.fork()  # an env worker forked after a batch: the parent's pool threads are not there
    if pid == 0:
        os._exit(0 if np.array_equal(render(dumps, lines), batch) else 1)
    for _ in range(600):  # a child waiting on the parent's threads would hang: give it 60 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("render() in a forked child hung on the parent's thread pool")
    assert status == 0


def test_direct_render_equals_pyboy_on_episodes(episode):
    model, recording = episode
    d = recording.dumps
    state = d.read(BREAKOUT.address("game_state"))[:, 0]
    assert {0, 1, 2} <= set(state.tolist()), "the episode has title, play and game over"
    score = d.read(BREAKOUT.address("score"), 2).astype(int)
    assert (score[:, 0] | (score[:, 1] << 8)).max() > 0, "bricks broke: tiles and score redrawn in VBlank"
    checks = check_recording(recording)  # with the per-line registers of the boot animation
    summary = summarize(checks)
    lcd_on = (d.register(LCDC) & LCDC_ENABLE) != 0
    switched_off = int((lcd_on[:-1] & ~lcd_on[1:]).sum())
    # PyBoy shows a frame blank when the LCD is switched off during it, in BGP's colour 0 as it is then, and a
    # frame with the LCD off in BGP's colour as the frame ends: the recorded writes draw those too.
    assert switched_off > 0
    assert summary == {"frames": len(d), "equal": len(d), "differing_by_cause": {}}
    boot = np.flatnonzero((recording.scanline_registers[:, :, 0] != recording.scanline_registers[:, :1, 0]).any(axis=1))
    assert boot.size > 10 and all(checks[i].equal for i in boot), "boot animation, per-line SCX, drawn exactly"


def test_mid_frame_scroll_is_reported(episode):
    model, recording = episode
    checks = check_recording(recording, use_scanline_registers=False)
    causes = summarize(checks)["differing_by_cause"]
    assert "unexplained" not in causes
    assert causes["mid_frame_scroll"] > 10  # the boot ROM's wobbling logo


# --- timing contract and emulated render ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def game():
    gb = GameBoy("breakout")
    gb.restart(seed=7)
    gb.tick(60, True)  # the ball is in flight
    assert gb.read("serve_timer") == 0
    yield gb
    gb.close()


def test_dump_renders_the_next_frame(game):
    before = game.screen_rgb()
    dump = game.dump()
    frame = render(dump)[0]
    game.tick(1, True)
    assert np.array_equal(frame, game.screen_rgb())
    assert not np.array_equal(frame, before)  # the ball moved


BALL_WHITE = (248, 248, 248)  # the ball's RGB15(31, 31, 31) as PyBoy converts it


def ball_columns(frame: np.ndarray, rows: slice) -> np.ndarray:
    """Columns of the ball (the only white pixels between the wall and the paddle)."""
    white = (frame[rows] == np.array(BALL_WHITE, np.uint8)).all(axis=2)
    return np.flatnonzero(white.any(axis=0))


def test_emulated_render_moves_the_ball(game):
    state = game.save_state()
    renderer = EmulatedRenderer("breakout")
    try:
        ball_y = game.read("ball_y")
        rows = slice(max(ball_y - 4, 60), ball_y + 8)
        left = renderer.run(state, {"ball_x": 40})
        right = renderer.run(state, {"ball_x": 100})
        assert left.frames_run == SCREEN_LAG_FRAMES
        columns_left, columns_right = ball_columns(left.frame, rows), ball_columns(right.frame, rows)
        assert columns_left.size == columns_right.size == 4
        assert columns_right[0] - columns_left[0] == 60  # moved with ball_x
        assert columns_left[0] == left.values["ball_x"]  # the ball is drawn where the game left ball_x
        differing_rows = np.flatnonzero((left.frame != right.frame).any(axis=(1, 2)))
        assert differing_rows.min() >= rows.start and differing_rows.max() < rows.stop  # only the ball moved
        # One frame after the write the screen still shows the state before: the two-frame lag.
        unchanged = renderer.render(state, {}, frames=1)
        assert np.array_equal(renderer.render(state, {"ball_x": 40}, frames=1), unchanged)
        # The direct render of the dump the shown frame was drawn from is that frame.
        assert np.array_equal(render(left.dump)[0], left.frame)
        # The RAM alone, asked for, is the dump's RAM: WRAM as the CPU sees it then HRAM, and every WRAM bank.
        both = renderer.run(state, {"ball_x": 40}, with_ram=True)
        assert left.ram is None and np.array_equal(both.frame, left.frame)
        ram = both.ram.read()
        assert np.array_equal(ram[:0x2000], both.dump.read(0xC000, 0x2000)[0])
        assert np.array_equal(ram[0x2000:], both.dump.read(0xFF80, 0x7F)[0])
        assert np.array_equal(both.ram.read_wram(np.arange(8 * 0x1000)), both.dump.wram[0].reshape(-1))
        by_address = renderer.render(state, {BREAKOUT.address("ball_x"): 40})
        assert np.array_equal(by_address, left.frame)
    finally:
        renderer.close()


def test_a_fresh_renderer_draws_its_first_frame_as_the_env_does():
    """The runner's HUD (a window split off by a STAT interrupt) came out wrong in a fresh PyBoy's first frames
    after load_state; the renderer runs a new emulator once before it draws."""
    runner = GameBoy("runner")
    try:
        runner.restart(seed=0)
        runner.hold(("DOWN",))
        runner.tick(12, True)
        state, held = runner.save_state(), runner.held
        renderer = EmulatedRenderer("runner")
        try:
            first = renderer.render(state, {})
        finally:
            renderer.close()
        runner.load_state(state, held)
        runner.tick(renderer.frames, True)
        assert np.array_equal(first, runner.screen_rgb())
    finally:
        runner.close()


def test_emulated_render_errors(game):
    renderer = EmulatedRenderer("breakout")
    state = game.save_state()
    with pytest.raises(OverrideError, match="no variable 'ball_z'"):
        renderer.render(state, {"ball_z": 1})
    with pytest.raises(OverrideError, match="only 0x8000-0xFFFF is writable"):
        renderer.render(state, {0x0100: 1})
    with pytest.raises(OverrideError, match="does not fit in 1 byte"):
        renderer.render(state, {"ball_x": 300})
    with pytest.raises(OverrideError, match="2 bytes given for a 1-byte variable"):
        renderer.render(state, {"ball_x": b"\x01\x02"})
    with pytest.raises(OverrideError, match="state version"):
        renderer.render(b"\x07" * 100, {})
    renderer.close()


# --- gbc.render_pictures and scripts/05_render_gbc.py ---------------------------------------------------------------


def test_pictures_of_dumps_compared_with_pyboy(tmp_path, game):
    from gbc.dump import Recorder, save_dumps

    recorder = Recorder(game.pyboy, game.profile.sha1)
    for _ in range(6):
        recorder.step()
    recording = recorder.recording()
    path = save_dumps(tmp_path / "dumps.npz", recording.dumps, recording.screens, recording.scanline_registers)
    out = render_pictures(RenderJob(dumps=[str(path)], every=2, compare=True, out_dir=tmp_path / "out"))
    assert sorted(p.name for p in (out / "frames").iterdir()) == [f"frame_{i:06d}.png" for i in (0, 2, 4)]
    assert (out / "contact_sheet.png").stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rendered"] == 3 and summary["check"]["equal"] == 3


def test_pictures_of_a_recorded_episode_with_emulated_render(tmp_path):
    job = RenderJob(record=True, compare=True, every=150, max_play_frames=40, override=["ball_x=40"], out_dir=tmp_path)
    out = render_pictures(job)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rendered"] >= 2 and len(summary["panels"]) == 3
    assert (out / f"episode_CGB_s0.npz").is_file() and any((out / "states").iterdir())


def test_script_bad_input_is_one_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "05_render_gbc.py"), "--dumps", str(tmp_path / "missing.npz")],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: dump file")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("job, message", [
    (RenderJob(), "either --dumps"),
    (RenderJob(dumps=["a.npz"], record=True), "either --dumps"),
    (RenderJob(record=True, every=0), "must be positive"),
    (RenderJob(record=True, model="GBA"), "DMG or CGB"),
    (RenderJob(record=True, compare=True, override=["ball_x"]), "NAME=VALUE"),
    (RenderJob(record=True, compare=True, override=["ball_x=forty"]), "must be integers"),
    (RenderJob(record=True, override=["ball_x=40"]), "needs --record --compare"),
])
def test_render_requests_that_do_not_go_together(tmp_path, job, message):
    job.out_dir = tmp_path
    with pytest.raises(RenderRequestError, match=message):
        render_pictures(job)
    assert not any(tmp_path.iterdir())  # refused before anything was recorded or written


def test_compared_panels_are_named_above_each_panel():
    from gbc.render_pictures import CAPTION_HEIGHT, PANEL_NAMES, captioned

    panels = [np.zeros((144, 160, 3), np.uint8) for _ in range(3)]
    picture = captioned(panels, PANEL_NAMES)
    assert picture.shape == (144 + CAPTION_HEIGHT, 3 * 160 + 2 * 4, 3)
    strip = picture[:CAPTION_HEIGHT].max(axis=(0, 2))
    for k in range(3):  # white text over the start of each panel
        start = k * (160 + 4)
        assert strip[start:start + 60].max() > 200, PANEL_NAMES[k]
