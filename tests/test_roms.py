"""The Game Boy ROMs in roms/: reproducible build, cartridge header, symbols file
and the Breakout ROM's behaviour in PyBoy (headless)."""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from breakout_py import core as python_rules  # the ROM mirrors these rules

ROMS_DIR = Path(__file__).resolve().parents[1] / "roms"
BREAKOUT_DIR = ROMS_DIR / "breakout"
ROM_PATH = BREAKOUT_DIR / "breakout.gb"
MAP_PATH = BREAKOUT_DIR / "breakout.map"
SYMBOLS_PATH = BREAKOUT_DIR / "breakout.symbols.json"

# Cartridge header layout (Pan Docs, "The Cartridge Header")
HEADER_LOGO = slice(0x104, 0x134)
HEADER_TITLE = slice(0x134, 0x143)
HEADER_CGB_FLAG = 0x143
HEADER_CARTRIDGE_TYPE = 0x147
HEADER_ROM_SIZE = 0x148
HEADER_CHECKSUM_RANGE = range(0x134, 0x14D)
HEADER_CHECKSUM = 0x14D
GLOBAL_CHECKSUM = slice(0x14E, 0x150)
CGB_COMPATIBLE = 0x80
ROM_ONLY = 0x00
ROM_SIZE_32K = 0x00
# The boot ROM compares these 48 bytes with its own copy (Pan Docs, "Nintendo Logo")
NINTENDO_LOGO = bytes.fromhex(
    "ceed6666cc0d000b03730083000c000d0008111f8889000e"
    "dccc6ee6ddddd999bbbb67636e0eecccdddc999fbbb9333e"
)

# Memory and registers read by the tests (Pan Docs, "Memory Map")
VRAM_BG_MAP = 0x9800
BG_MAP_WIDTH = 32
CPU_TYPE_CGB = 0x11  # register A at boot on a Game Boy Color

SDCC_VERSION = "SDCC 4.2.0 #13081 (Debian 12 package 4.2.0+dfsg-1)"  # built the committed files
POINTS_BY_ROW = tuple(int(p) for p in python_rules.ROW_POINTS)


@pytest.fixture(scope="module")
def symbols() -> dict:
    return json.loads(SYMBOLS_PATH.read_text())


def test_header_is_valid_and_cgb_compatible():
    rom = ROM_PATH.read_bytes()
    assert len(rom) == 32 * 1024
    assert rom[HEADER_LOGO] == NINTENDO_LOGO
    assert rom[HEADER_TITLE].rstrip(b"\0") == b"BREAKOUT"
    assert rom[HEADER_CGB_FLAG] == CGB_COMPATIBLE
    assert rom[HEADER_CARTRIDGE_TYPE] == ROM_ONLY
    assert rom[HEADER_ROM_SIZE] == ROM_SIZE_32K
    checksum = 0
    for address in HEADER_CHECKSUM_RANGE:
        checksum = (checksum - rom[address] - 1) & 0xFF
    assert rom[HEADER_CHECKSUM] == checksum
    global_sum = (sum(rom) - sum(rom[GLOBAL_CHECKSUM])) & 0xFFFF
    assert int.from_bytes(rom[GLOBAL_CHECKSUM], "big") == global_sum


def _map_symbols(text: str) -> dict[str, int]:
    return {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9A-F]{8})\s+_(\w+)", text, re.M)}


def _map_areas(text: str) -> dict[str, tuple[int, int]]:
    pattern = r"^(_\w+)\s+([0-9A-F]{8})\s+([0-9A-F]{8})\s+="
    return {m.group(1): (int(m.group(2), 16), int(m.group(3), 16)) for m in re.finditer(pattern, text, re.M)}


def test_symbols_file_agrees_with_map_and_rom(symbols):
    map_text = MAP_PATH.read_text()
    addresses = _map_symbols(map_text)
    areas = _map_areas(map_text)
    assert symbols["rom"] == ROM_PATH.name and symbols["source"] == MAP_PATH.name
    assert symbols["sha1"] == hashlib.sha1(ROM_PATH.read_bytes()).hexdigest()

    variables = symbols["variables"]
    names = [v["name"] for v in variables]
    assert len(names) == len(set(names))
    for v in variables:
        assert v["address"] == addresses[v["name"]], v["name"]
        assert v["address_hex"] == f"0x{v['address']:04X}"
        assert v["kind"] in ("state", "screen", "runtime")
        assert v["size"] >= 1 and v["description"]
    # the variables tile each RAM area without gaps or overlaps
    for area in ("_SHADOW_OAM", "_DATA", "_INITIALIZED"):
        base, size = areas[area]
        inside = sorted((v for v in variables if base <= v["address"] < base + size), key=lambda v: v["address"])
        assert inside and inside[0]["address"] == base, area
        for before, after in zip(inside, inside[1:]):
            assert before["address"] + before["size"] == after["address"], (before["name"], after["name"])
        assert inside[-1]["address"] + inside[-1]["size"] == base + size, area


def test_symbols_file_names_the_contract_variables(symbols):
    by_name = {v["name"]: v for v in symbols["variables"]}
    expected = {
        "paddle_x": (1, "state"), "ball_x": (1, "state"), "ball_y": (1, "state"),
        "ball_dx": (2, "state"), "ball_dy": (2, "state"), "ball_speed": (1, "state"),
        "hit_count": (1, "state"), "lives": (1, "state"), "score": (2, "state"),
        "bricks": (symbols["constants"]["BRICK_COUNT"], "state"), "bricks_left": (1, "state"),
        "game_state": (1, "state"), "rng_state": (2, "state"), "shadow_oam": (160, "screen"),
    }
    for name, (size, kind) in expected.items():
        assert (by_name[name]["size"], by_name[name]["kind"]) == (size, kind), name
    assert by_name["shadow_oam"]["address"] % 256 == 0  # OAM DMA copies from a 256-byte page
    constants = symbols["constants"]
    assert (constants["GAME_STATE_TITLE"], constants["GAME_STATE_PLAY"], constants["GAME_STATE_GAME_OVER"]) == (0, 1, 2)
    assert constants["BRICK_COUNT"] == 18 * 6


def test_make_symbols_refuses_an_unannotated_global(tmp_path):
    sys.path.insert(0, str(ROMS_DIR / "tools"))
    try:
        import make_symbols
    finally:
        sys.path.pop(0)
    source = (BREAKOUT_DIR / "breakout.c").read_text()
    stripped = re.sub(r"(uint8_t paddle_x;)\s*/\*[^*]*\*/", r"\1", source)
    assert stripped != source
    (tmp_path / "breakout.c").write_text(stripped)
    sources = [tmp_path / "breakout.c", ROMS_DIR / "runtime" / "runtime.c", ROMS_DIR / "runtime" / "crt0.s"]
    with pytest.raises(ValueError, match="paddle_x"):
        make_symbols.build(ROM_PATH, MAP_PATH, [ROMS_DIR / "runtime" / "crt0.s"], sources, [])


def test_rom_rebuilds_byte_identical():
    missing = [tool for tool in ("make", "sdcc", "sdasgb", "sdldgb", "makebin") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: install Debian's sdcc package (setup.sh does, as root)")
    result = subprocess.run(["make", "-C", str(ROMS_DIR), "check"], capture_output=True, text=True, timeout=300)
    version = subprocess.run(["sdcc", "--version"], capture_output=True, text=True).stdout.strip()
    assert result.returncode == 0, (
        f"{result.stdout}{result.stderr}\nThe committed ROMs were built with {SDCC_VERSION}; this machine has "
        f"{version!r}. If the sources changed, run `make -C roms` and commit the outputs."
    )
    assert "breakout/breakout.gb identical" in result.stdout
    assert "runner/runner.gb identical" in result.stdout


# ---- behaviour in PyBoy ----

class Game:
    """The Breakout ROM in PyBoy with its variables addressed by name."""

    def __init__(self, symbols: dict, cgb: bool | None = None):
        from pyboy import PyBoy

        self.pyboy = PyBoy(str(ROM_PATH), window="null", sound_emulated=False, cgb=cgb)
        self.variables = {v["name"]: v for v in symbols["variables"]}
        self.constants = symbols["constants"]

    def read(self, name: str, signed: bool = False) -> int:
        v = self.variables[name]
        raw = bytes(self.pyboy.memory[v["address"] + i] for i in range(v["size"]))
        return int.from_bytes(raw, "little", signed=signed)

    def read_array(self, name: str) -> list[int]:
        v = self.variables[name]
        return [self.pyboy.memory[v["address"] + i] for i in range(v["size"])]

    def write(self, name: str, value: int) -> None:
        v = self.variables[name]
        for i, byte in enumerate(value.to_bytes(v["size"], "little", signed=value < 0)):
            self.pyboy.memory[v["address"] + i] = byte

    def write_array(self, name: str, values: list[int]) -> None:
        v = self.variables[name]
        assert len(values) == v["size"]
        for i, byte in enumerate(values):
            self.pyboy.memory[v["address"] + i] = byte

    def bg_tile(self, col: int, row: int) -> int:
        return self.pyboy.memory[VRAM_BG_MAP + row * BG_MAP_WIDTH + col]

    def bg_tiles_with_pending(self) -> dict[int, int]:
        """Tile map offsets -> tiles, including updates queued for the next VBlank."""
        pending = {}
        offsets = self.read_array("bg_queue_offset")
        tiles = self.read_array("bg_queue_tile")
        for i in range(self.read("bg_queue_length")):
            pending[offsets[2 * i] | offsets[2 * i + 1] << 8] = tiles[i]
        return pending

    def screen_tile(self, col: int, row: int) -> int:
        return self.bg_tiles_with_pending().get(row * BG_MAP_WIDTH + col, self.bg_tile(col, row))

    def text_at(self, col: int, row: int, length: int) -> str:
        font = self.constants["TILE_FONT"]
        chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        out = []
        for c in range(col, col + length):
            tile = self.screen_tile(c, row)
            out.append(chars[tile - font] if font <= tile < font + len(chars) else " ")
        return "".join(out)

    def tick(self, frames: int = 1, render: bool = False) -> None:
        self.pyboy.tick(frames, render)

    def hold(self, button: str | None) -> None:
        for b in ("left", "right"):
            if b != button:
                self.pyboy.button_release(b)
        if button:
            self.pyboy.button_press(button)

    def boot_to_play(self, render: bool = False) -> int:
        """Wait for the title, press START, return the frames the title took to leave."""
        for _ in range(600):
            if self.read("title_frames"):  # the title loop reads the joypad
                break
            self.tick(render=render)
        assert self.read("game_state") == self.constants["GAME_STATE_TITLE"]
        # pressed for one frame: a button still held would be held in a state saved now
        self.pyboy.button("start")
        for frames in range(1, 10):
            self.tick(render=render)
            if self.read("game_state") == self.constants["GAME_STATE_PLAY"]:
                break
        return frames

    def track_ball(self) -> None:
        """Steer the paddle's centre towards the ball's centre."""
        c = self.constants
        ball = self.read("ball_x") + c["BALL_SIZE"] // 2
        paddle = self.read("paddle_x") + c["PADDLE_WIDTH"] // 2
        self.hold("left" if ball < paddle - 2 else "right" if ball > paddle + 2 else None)

    def stop(self) -> None:
        self.pyboy.stop(save=False)


@pytest.fixture(scope="module")
def play_start_state(symbols) -> bytes:
    """Saved state at the first frame of play."""
    game = Game(symbols)
    game.boot_to_play()
    state = io.BytesIO()
    game.pyboy.save_state(state)
    game.stop()
    return state.getvalue()


@pytest.fixture
def game(symbols, play_start_state):
    game = Game(symbols)
    game.pyboy.load_state(io.BytesIO(play_start_state))
    yield game
    game.stop()


def test_title_waits_for_a_button_then_play_starts(symbols):
    game = Game(symbols)
    try:
        game.tick(400)
        c = game.constants
        assert game.read("game_state") == c["GAME_STATE_TITLE"]
        assert game.read("boot_cpu_type") == CPU_TYPE_CGB
        assert game.text_at(6, 6, 8) == "BREAKOUT"
        assert game.boot_to_play(render=True) <= 6  # the playfield is drawn with the LCD off
        assert game.read("lives") == c["START_LIVES"] and game.read("score") == 0
        assert game.read_array("bricks") == [1] * c["BRICK_COUNT"] and game.read("bricks_left") == c["BRICK_COUNT"]
        assert game.read("serve_timer") > 0
        # the first frame of play already shows the ball, the paddle and the wall
        screen = game.pyboy.screen.ndarray[:, :, :3].astype(int)
        black = screen[c["BRICK_BOTTOM"] + 2, c["PLAYFIELD_LEFT"] + 2]
        assert black.sum() == 0
        assert screen[game.read("ball_y") + 1, game.read("ball_x") + 1].sum() > 600
        assert screen[c["PADDLE_Y"] + 1, game.read("paddle_x") + 1].sum() > 0
        brick_pixels = [screen[c["BRICK_TOP"] + c["BRICK_HEIGHT"] * row + 1, c["PLAYFIELD_LEFT"] + 2]
                        for row in range(c["BRICK_ROWS"])]
        assert all(pixel.sum() > 0 for pixel in brick_pixels)
        assert len({tuple(pixel) for pixel in brick_pixels}) == c["BRICK_ROWS"]  # a colour per row
        sprites = [game.pyboy.get_sprite(i) for i in range(1 + c["PADDLE_SPRITES"])]
        assert all(s.on_screen for s in sprites)
        assert (sprites[0].x, sprites[0].y) == (game.read("ball_x"), game.read("ball_y"))
        assert (sprites[1].x, sprites[1].y) == (game.read("paddle_x"), c["PADDLE_Y"])
        assert game.text_at(1, c["HUD_ROW"], 9) == "SCORE 000"
        assert game.text_at(12, c["HUD_ROW"], 7) == "LIVES 3"
    finally:
        game.stop()


def test_rules_match_the_python_breakout(symbols):
    """The ROM's constants give the Python Breakout's rules, in Game Boy pixels."""
    c = symbols["constants"]
    assert (c["BRICK_ROWS"], c["BRICK_COLUMNS"]) == (python_rules.BRICK_ROWS, python_rules.BRICK_COLS)
    assert c["BRICK_WIDTH"] / c["BRICK_HEIGHT"] == python_rules.BRICK_WIDTH / python_rules.BRICK_HEIGHT
    assert c["START_LIVES"] == python_rules.START_LIVES
    assert (c["SPEEDUP_HIT_1"], c["SPEEDUP_HIT_2"]) == python_rules.PADDLE_HIT_SPEEDUPS
    assert tuple(range(c["RED_ROWS_END"])) == python_rules.RED_ROWS
    assert tuple(range(c["RED_ROWS_END"], c["ORANGE_ROWS_END"])) == python_rules.ORANGE_ROWS
    # speeds relative to the base speed, and the paddle's speed relative to the ball's
    base, step = python_rules.BASE_SPEED, python_rules.SPEED_STEP
    assert (python_rules.MAX_SPEED - base) / step == pytest.approx(c["SPEED_LEVELS"] - 1)
    assert c["BALL_SPEED_STEP"] / c["BALL_SPEED_BASE"] == pytest.approx(step / base)
    assert c["PADDLE_SPEED"] * 64 / c["BALL_SPEED_BASE"] == pytest.approx(python_rules.PADDLE_SPEED / base)


def _speed_px(game, level: int) -> float:
    c = game.constants
    return (c["BALL_SPEED_BASE"] + level * c["BALL_SPEED_STEP"]) / 64


def _velocity(game) -> tuple[int, int]:
    return game.read("ball_dx", signed=True), game.read("ball_dy", signed=True)


def _serve(game, seed: int) -> list[tuple[int, int, int, int]]:
    """Ball x, y, dx, dy over the rest and the first frames of flight, with `seed` written at play start."""
    game.write("rng_state", seed)
    path = []
    for _ in range(game.constants["SERVE_DELAY"] + 20):
        game.tick()
        path.append((game.read("ball_x"), game.read("ball_y"), *_velocity(game)))
    return path


def test_seed_written_at_play_start_decides_the_serve(symbols, play_start_state):
    c = symbols["constants"]
    paths = {}
    for seed in (1, 2, 3, 1234, 40000, 65535, 1234):
        game = Game(symbols)
        game.pyboy.load_state(io.BytesIO(play_start_state))
        paths.setdefault(seed, []).append(_serve(game, seed))
        game.stop()
    assert paths[1234][0] == paths[1234][1]  # same seed, same game
    assert len({runs[0][0][0] for runs in paths.values()}) >= 4  # seeds vary the serve position
    assert len({runs[0][-1][2] > 0 for runs in paths.values()}) == 2  # and its side
    for runs in paths.values():
        path = runs[0]
        rest = path[: c["SERVE_DELAY"]]
        # the ball rests on the serve line at its drawn x, then moves down at 45 degrees
        assert len({(x, y) for x, y, _, _ in rest}) == 1
        x, y, dx, dy = rest[0]
        assert c["SERVE_X_MIN"] <= x <= c["SERVE_X_MAX"] and y == c["SERVE_Y"]
        assert dy > 0 and abs(dx) == dy
        assert math.hypot(dx, dy) / 256 == pytest.approx(c["BALL_SPEED_BASE"] / 64, rel=0.02)
        assert path[-1][1] > y


def test_screen_shows_the_state_of_the_previous_tick(game):
    """RAM is read after a tick; the screen drawn during that tick shows the state after the tick before."""
    c = game.constants
    game.tick(c["SERVE_DELAY"] + 5, render=True)
    previous = (game.read("ball_x"), game.read("ball_y"))
    for _ in range(30):
        game.track_ball()
        game.tick(render=True)
        screen = game.pyboy.screen.ndarray[:, :, :3].astype(int)
        ball_pixels = np.argwhere(screen.sum(axis=2) > 700)  # the only white object
        top, left = ball_pixels.min(axis=0)
        assert (left, top) == previous
        previous = (game.read("ball_x"), game.read("ball_y"))


def test_paddle_moves_with_the_dpad_and_stops_at_the_walls(game):
    c = game.constants
    start = game.read("paddle_x")
    game.hold("right")
    game.tick(10)
    assert game.read("paddle_x") == start + 10 * c["PADDLE_SPEED"]
    game.tick(200)
    assert game.read("paddle_x") == c["PLAYFIELD_RIGHT"] - c["PADDLE_WIDTH"]
    game.hold("left")
    game.tick(200)
    assert game.read("paddle_x") == c["PLAYFIELD_LEFT"]


def _drawn_bricks(game) -> list[bool]:
    """Bricks as the background shows them (two brick rows per tile)."""
    c = game.constants
    halves = {c["TILE_EMPTY"]: (False, False), c["TILE_BRICK_TOP"]: (True, False),
              c["TILE_BRICK_BOTTOM"]: (False, True), c["TILE_BRICK_BOTH"]: (True, True)}
    drawn = [False] * c["BRICK_COUNT"]
    for tile_row in range(c["BRICK_ROWS"] // 2):
        for col in range(c["BRICK_COLUMNS"]):
            top, bottom = halves[game.screen_tile(c["BRICK_FIRST_COL"] + col, c["BRICK_TOP_ROW"] + tile_row)]
            drawn[2 * tile_row * c["BRICK_COLUMNS"] + col] = top
            drawn[(2 * tile_row + 1) * c["BRICK_COLUMNS"] + col] = bottom
    return drawn


def test_rules_hold_while_a_tracking_player_plays(game):
    """Score, bricks, speed-ups and what the screen shows follow the rules at every frame."""
    c = game.constants
    columns = c["BRICK_COLUMNS"]
    red_rows = range(c["RED_ROWS_END"])
    orange_rows = range(c["RED_ROWS_END"], c["ORANGE_ROWS_END"])
    removed_before_ball: set[int] = set()
    previous = {"lives": game.read("lives"), "removed": set(), "hits": 0, "dy": 0}
    max_speed_seen = 0
    for frame in range(8000):
        game.track_ball()
        game.tick()
        if game.read("game_state") != c["GAME_STATE_PLAY"]:
            break
        bricks = game.read_array("bricks")
        removed = {i for i, present in enumerate(bricks) if not present}
        lives, hits, (dx, dy) = game.read("lives"), game.read("hit_count"), _velocity(game)
        assert game.read("bricks_left") == c["BRICK_COUNT"] - len(removed)
        assert game.read("score") == sum(POINTS_BY_ROW[i // columns] for i in removed)
        new_bricks = removed - previous["removed"]
        assert len(new_bricks) <= 1  # at most one brick per frame
        if new_bricks:
            assert (dy > 0) != (previous["dy"] > 0)  # a brick sends the ball back vertically
        if lives != previous["lives"]:
            removed_before_ball = set(removed)  # a new ball clears its counters
            assert hits == 0 and game.read("ball_speed") == 0
        by_this_ball = removed - removed_before_ball
        reached_red = any(i // columns in red_rows for i in by_this_ball)
        reached_orange = any(i // columns in orange_rows for i in by_this_ball)
        assert (game.read("reached_red"), game.read("reached_orange")) == (reached_red, reached_orange)
        level = min(c["SPEED_LEVELS"] - 1,
                    (hits >= c["SPEEDUP_HIT_1"]) + (hits >= c["SPEEDUP_HIT_2"]) + reached_orange + 2 * reached_red)
        assert game.read("ball_speed") == level
        max_speed_seen = max(max_speed_seen, level)
        if game.read("serve_timer") < c["SERVE_DELAY"]:  # the serve has been drawn
            assert math.hypot(dx, dy) / 256 == pytest.approx(_speed_px(game, level), rel=0.02)
        if hits > previous["hits"]:
            assert dy < 0  # the paddle sends the ball up
        if frame % 50 == 0:
            assert _drawn_bricks(game) == [bool(b) for b in bricks]
            assert game.text_at(c["SCORE_DIGITS_COL"], c["HUD_ROW"], 3) == f"{game.read('score'):03d}"
            assert game.text_at(c["LIVES_DIGIT_COL"], c["HUD_ROW"], 1) == str(lives)
        previous = {"lives": lives, "removed": removed, "hits": hits, "dy": dy}
    # the player was good enough to exercise the rules
    assert game.read("score") >= 50 and max_speed_seen >= 4


def test_paddle_offset_sets_the_bounce_angle(game):
    """The paddle sends the ball along (2.5 * offset, -1), offset = where it met the paddle, in [-1, 1]."""
    c = game.constants
    game.tick(c["SERVE_DELAY"] + 1)
    paddle_centre = game.read("paddle_x") + c["PADDLE_WIDTH"] / 2
    for offset_px in range(-c["PADDLE_OFFSET_MAX"], c["PADDLE_OFFSET_MAX"] + 1):
        # drop the ball straight onto the paddle so that its centre is offset_px from the paddle's
        game.write("ball_x", int(paddle_centre + offset_px - c["BALL_SIZE"] / 2))
        game.write("ball_y", c["PADDLE_Y"] - c["BALL_SIZE"] - 3)
        game.write("ball_dx", 0)
        game.write("ball_dy", 256)
        game.write("hit_count", 0)
        game.tick(5)
        dx, dy = _velocity(game)
        offset = offset_px / c["PADDLE_REACH"]
        expected = math.atan2(python_rules.PADDLE_ANGLE_FACTOR * offset, 1.0)
        assert dy < 0 and math.atan2(dx, -dy) == pytest.approx(expected, abs=math.radians(1)), offset_px


def test_game_over_after_the_last_ball_and_stays_until_a_button(game):
    c = game.constants
    lives_seen = []
    for _ in range(20000):
        # steer away from the ball so that every ball is lost
        ball, middle = game.read("ball_x"), (c["PLAYFIELD_LEFT"] + c["PLAYFIELD_RIGHT"]) // 2
        game.hold("right" if ball < middle else "left")
        game.tick()
        lives = game.read("lives")
        if not lives_seen or lives_seen[-1] != lives:
            lives_seen.append(lives)
        if game.read("game_state") == c["GAME_STATE_GAME_OVER"]:
            break
    assert lives_seen == [3, 2, 1, 0]
    game.hold(None)
    game.tick(600)
    assert game.read("game_state") == c["GAME_STATE_GAME_OVER"] and game.read("game_won") == 0
    assert game.text_at(5, c["MESSAGE_ROW"], 9) == "GAME OVER"
    assert game.text_at(c["LIVES_DIGIT_COL"], c["HUD_ROW"], 1) == "0"
    game.pyboy.button("start")
    game.tick(10)  # the title is drawn with the LCD off
    assert game.read("game_state") == c["GAME_STATE_TITLE"]


def test_clearing_the_wall_ends_the_game_as_a_win(game):
    c = game.constants
    row, col = c["BRICK_ROWS"] - 1, 8
    bricks = [0] * c["BRICK_COUNT"]
    bricks[row * c["BRICK_COLUMNS"] + col] = 1
    game.write_array("bricks", bricks)
    game.write("bricks_left", 1)
    # the ball rises straight into the last brick
    game.write("serve_timer", 0)
    game.write("ball_x", c["PLAYFIELD_LEFT"] + col * c["BRICK_WIDTH"] + c["BRICK_WIDTH"] // 2 - c["BALL_SIZE"] // 2)
    game.write("ball_y", c["BRICK_BOTTOM"] + 10)
    game.write("ball_dx", 0)
    game.write("ball_dy", -256)
    game.tick(30)
    assert game.read("game_state") == c["GAME_STATE_GAME_OVER"]
    assert game.read("game_won") == 1 and game.read("bricks_left") == 0
    assert game.read("score") == POINTS_BY_ROW[row]
    assert game.text_at(6, c["MESSAGE_ROW"], 7) == "YOU WIN"


def test_runs_on_the_original_game_boy(symbols):
    game = Game(symbols, cgb=False)
    try:
        game.boot_to_play()
        assert game.read("boot_cpu_type") != CPU_TYPE_CGB
        game.tick(2, render=True)
        screen = game.pyboy.screen.ndarray
        c = game.constants
        wall = screen[c["BRICK_TOP"]:c["BRICK_BOTTOM"], c["PLAYFIELD_LEFT"]:c["PLAYFIELD_RIGHT"], :3]
        background = screen[c["BRICK_BOTTOM"] + 16, c["PLAYFIELD_LEFT"] + 2, :3]
        # every brick row is drawn in a shade different from the background
        for row in range(c["BRICK_ROWS"]):
            assert (wall[row * c["BRICK_HEIGHT"] + 1, 2] != background).any(), row
    finally:
        game.stop()
