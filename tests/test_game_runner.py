"""The runner ROM (roms/runner) and GBCRunner-v0: symbols file, rules checked every frame while the scripted player
plays (RAM read through the symbols file, the column ring from CGB WRAM bank 2), the raster split, seeding, game
over, DMG mode, the env contract and bad input."""

import dataclasses
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gbc  # noqa: F401  (registers the envs)
from gbc.baselines import RUNNER_DUCK, RUNNER_JUMP, RUNNER_NOOP, RandomAgent, RunnerAgent, run_episode
from gbc.emulator import GameBoy
from gbc.profiles import RUNNER_ROM, RUNNER_SYMBOLS, RomNotFoundError, get_profile, read_symbols

pytestmark = pytest.mark.skipif(not RUNNER_ROM.is_file(), reason="roms/runner/runner.gb absent: make -C roms")

REPO = Path(__file__).resolve().parents[1]
MAP_PATH = RUNNER_ROM.with_suffix(".map")
# Registers and memory (Pan Docs): scroll, LCD control, palettes, tile maps, OAM, WRAM banks.
LCDC, SCX, BGP, WX, WY = 0xFF40, 0xFF43, 0xFF47, 0xFF4B, 0xFF4A
LCDC_ON, LCDC_OBJ_ON = 0x80, 0x02
BG_MAP, WINDOW_MAP, MAP_WIDTH = 0x9800, 0x9C00, 32
OAM, OAM_Y_OFFSET = 0xFE00, 16
STAT_VECTOR = 0x48
JP, RETI = 0xC3, 0xD9
SEED = 7


@pytest.fixture(scope="module")
def symbols() -> dict:
    return read_symbols(RUNNER_SYMBOLS)


@pytest.fixture(scope="module")
def constants(symbols) -> dict:
    return symbols["constants"]


@pytest.fixture(scope="module")
def game():
    game = GameBoy("runner")
    yield game
    game.close()


def ring(game: GameBoy, symbols: dict, cgb: bool = True) -> list[int]:
    """The column ring, from WRAM bank 2 on CGB (the game leaves bank 1 selected), from 0xD000 on DMG."""
    entry = next(v for v in symbols["variables"] if v["name"] == "column_ring")
    start, end = entry["address"], entry["address"] + entry["size"]
    return list(game.memory[entry["cgb_wram_bank"], start:end] if cgb else game.memory[start:end])


def map_tile(game: GameBoy, base: int, row: int, column: int) -> int:
    return game.memory[base + row * MAP_WIDTH + column % MAP_WIDTH]


def test_symbols_file_agrees_with_map_and_rom(symbols):
    assert symbols["sha1"] == hashlib.sha1(RUNNER_ROM.read_bytes()).hexdigest()
    map_text = MAP_PATH.read_text()
    addresses = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9A-F]{8})\s+_(\w+)", map_text, re.M)}
    base, size = (int(x, 16) for x in re.search(r"^_WRAM_BANK2\s+([0-9A-F]{8})\s+([0-9A-F]{8})", map_text, re.M).groups())
    by_bank: dict[int, list] = {}
    for v in symbols["variables"]:
        assert v["address"] == addresses[v["name"]] and v["kind"] in ("state", "screen", "runtime", "scratch")
        by_bank.setdefault(v.get("cgb_wram_bank", 1), []).append((v["address"], v["address"] + v["size"], v["name"]))
    # the banked ring is the whole bank-2 area; the profile leaves it out (observations see bank 1 there)
    assert by_bank[2] == [(base, base + size, "column_ring")] and (base, size) == (0xD000, 32)
    assert "column_ring" not in get_profile("runner").variables and "distance" in get_profile("runner").variables
    for spans in by_bank.values():
        spans.sort()
        for (_, end, name), (start, _, after) in zip(spans, spans[1:]):
            assert end <= start, f"{name} overlaps {after}"
    # the STAT vector jumps to the runner's handler; Breakout's still only returns
    rom = RUNNER_ROM.read_bytes()
    assert rom[STAT_VECTOR] == JP and int.from_bytes(rom[STAT_VECTOR + 1:STAT_VECTOR + 3], "little") == addresses[
        "stat_handler"]
    assert (REPO / "roms/breakout/breakout.gb").read_bytes()[STAT_VECTOR] == RETI


class Rules:
    """Checks the runner's rules on every frame, from RAM (via the profile), the ring, VRAM and registers."""

    def __init__(self, game: GameBoy, symbols: dict, constants: dict, cgb: bool = True):
        self.game, self.symbols, self.c, self.cgb = game, symbols, constants, cgb
        self.previous: dict | None = None
        self.frames = 0
        self.obstacles: dict[int, int] = {}  # world column -> kind, as generated
        self.passed: set[int] = set()
        self.seen_until = 0  # world columns before this one have been seen generated
        self.played_before = 0  # frames of play before the first check

    def read(self) -> dict:
        names = ("camera_x", "camera_frac", "speed", "speed_level", "distance", "player_y", "player_vy", "on_ground",
                 "ducking", "next_column", "next_obstacle_x", "next_obstacle_kind", "game_state")
        state = {n: self.game.read(n) for n in names}
        state["player_vy"] = self.game.profile.variables["player_vy"].value(state["player_vy"])
        return state

    def check_frame(self, down_held: bool) -> dict:
        c, s, game = self.c, self.read(), self.game
        assert s["game_state"] == c["GAME_STATE_PLAY"]
        # camera and speed: 1/256 px fixed point, one speed level more every SPEED_LEVEL_FRAMES frames
        played = s["speed_level"] * c["SPEED_LEVEL_FRAMES"] + game.read("level_timer")
        if self.previous is None:
            self.played_before = played - 1
        self.frames += 1
        assert played == self.played_before + self.frames
        level = s["speed_level"]
        assert level <= c["SPEED_LEVEL_MAX"] and s["speed"] == c["SPEED_BASE"] + level * c["SPEED_STEP"]
        if self.previous is not None:
            before = self.previous["camera_x"] * 256 + self.previous["camera_frac"]
            assert s["camera_x"] * 256 + s["camera_frac"] == before + s["speed"] - (
                c["SPEED_STEP"] if level != self.previous["speed_level"] else 0)
        assert game.memory[SCX] == s["camera_x"] & 0xFF
        assert s["distance"] == s["camera_x"] // 8
        # the player: on the ground, or in a jump under gravity
        if s["on_ground"]:
            assert (s["player_y"], s["player_vy"]) == (c["STAND_Y"], 0)
            landed = self.previous is not None and not self.previous["on_ground"]
            assert s["ducking"] == (down_held and not landed)
        else:
            assert s["player_y"] < c["STAND_Y"] and not s["ducking"]
            if self.previous is not None and not self.previous["on_ground"]:
                assert s["player_vy"] == min(self.previous["player_vy"] + c["GRAVITY"], c["MAX_FALL_SPEED"])
        top = c["DUCK_Y"] if s["ducking"] else s["player_y"]
        assert game.memory[OAM] == top + OAM_Y_OFFSET
        # the ring: RING_AHEAD columns generated ahead of the camera, the same on screen (BG map rows)
        camera_column = s["camera_x"] // 8
        assert (s["next_column"] - camera_column) % 256 == c["RING_AHEAD"]
        columns = ring(game, self.symbols, self.cgb)
        tiles = {c["COLUMN_EMPTY"]: (c["TILE_EMPTY"], c["TILE_EMPTY"]), c["COLUMN_BLOCK"]: (
            c["TILE_EMPTY"], c["TILE_BLOCK"]), c["COLUMN_BAR"]: (c["TILE_BAR"], c["TILE_EMPTY"])}
        for world in range(camera_column, camera_column + c["RING_AHEAD"]):
            kind = columns[world % c["RING_SIZE"]]
            assert (map_tile(game, BG_MAP, c["BAR_ROW"], world), map_tile(game, BG_MAP, c["BLOCK_ROW"], world)) == \
                tiles[kind], world
            if kind != c["COLUMN_EMPTY"]:
                self.obstacles[world] = kind
        self.seen_until = camera_column + c["RING_AHEAD"]
        # the nearest obstacle from the player's column on
        player_column = (s["camera_x"] + c["PLAYER_X"]) // 8
        ahead = [w for w in range(player_column, camera_column + c["RING_AHEAD"]) if w in self.obstacles]
        if ahead:
            assert (s["next_obstacle_x"], s["next_obstacle_kind"]) == (ahead[0] * 8 - s["camera_x"],
                                                                       self.obstacles[ahead[0]])
        else:
            assert (s["next_obstacle_x"], s["next_obstacle_kind"]) == (c["NO_OBSTACLE"], c["COLUMN_EMPTY"])
        self.passed.update(w for w in self.obstacles if w < player_column)
        # raster registers restored at VBlank for the top of the next frame
        assert game.memory[LCDC] & (LCDC_ON | LCDC_OBJ_ON) == LCDC_ON | LCDC_OBJ_ON
        assert (game.memory[WY], game.memory[WX]) == (c["HUD_TOP"], c["HUD_WINDOW_X"])
        self.previous = s
        return s

    def check_spacing(self) -> None:
        """Obstacles stand at least GAP_BASE + SPEED_BASE >> GAP_SPEED_SHIFT empty columns apart."""
        c = self.c
        worlds = sorted(self.obstacles)
        gaps = [b - a - 1 for a, b in zip(worlds, worlds[1:])]
        assert gaps and min(gaps) >= c["GAP_BASE"] + (c["SPEED_BASE"] >> c["GAP_SPEED_SHIFT"])


def play_scripted(game: GameBoy, rules: Rules, frames: int, frame_skip: int = 4) -> None:
    agent = RunnerAgent(game.profile)
    for frame in range(frames):
        if frame % frame_skip == 0:
            action = agent.act(game.ram.read())
            game.hold(game.profile.actions[action])
        game.tick(1, False)
        rules.check_frame(down_held=action == RUNNER_DUCK)


def test_rules_hold_every_frame_while_the_scripted_player_runs(game, symbols, constants):
    game.restart(seed=SEED)
    rules = Rules(game, symbols, constants)
    play_scripted(game, rules, 2 * constants["SPEED_LEVEL_FRAMES"] + 100)
    kinds = {rules.obstacles[w] for w in rules.passed}
    assert kinds == {constants["COLUMN_BLOCK"], constants["COLUMN_BAR"]}, "jumped blocks and ducked under bars"
    assert len(rules.passed) >= 10
    rules.check_spacing()


def test_status_bar_split_switches_palette_and_hides_sprites_below_it(game, symbols, constants):
    """Colour 0 of BG palette 0 is the sky above the split and the status bar's colour below it (window tiles
    use palette 0 too); a sprite placed in the status bar is not drawn, the same sprite above it is."""
    game.restart(seed=SEED)
    shadow_oam = next(v["address"] for v in symbols["variables"] if v["name"] == "shadow_oam")
    spare = shadow_oam + 4 * 10
    x = 80
    game.memory[spare:spare + 8] = [constants["HUD_TOP"] + 8 + OAM_Y_OFFSET, x + 8, constants["TILE_PLAYER_HEAD"], 0,
                                    40 + OAM_Y_OFFSET, x + 8, constants["TILE_PLAYER_HEAD"], 0]
    game.tick(2, True)
    screen = game.screen_rgb()
    assert game.memory[1, WINDOW_MAP] == 0  # the window's tiles take BG palette 0 (VRAM bank 1: attributes)
    sky, bar = screen[0, 0], screen[constants["HUD_TOP"] + 8, 0]
    assert not np.array_equal(sky, bar)
    assert np.array_equal(screen[constants["HUD_TOP"]:, 0], np.repeat(bar[None], 144 - constants["HUD_TOP"], 0))
    assert np.any(screen[40:48, x:x + 8] != sky), "the sprite above the split is drawn"
    hud_sprite = screen[constants["HUD_TOP"] + 8:constants["HUD_TOP"] + 16, x:x + 8]
    assert np.all(hud_sprite == bar), "no sprite in the status bar"


def test_seed_written_at_play_start_decides_the_course(game, symbols, constants):
    courses = []
    for seed in (SEED, SEED, SEED + 1):
        game.restart(seed=seed)
        game.hold(())
        seen = {}
        for _ in range(16):  # 8 px per 4 frames at least: one generated column per 4 frames at least
            game.tick(4, False)
            camera_column = game.read("camera_x") // 8
            columns = ring(game, symbols)
            seen.update({w: columns[w % 32] for w in range(camera_column, camera_column + constants["RING_AHEAD"])})
        courses.append(seen)
    assert courses[0] == courses[1] and courses[0] != courses[2]


def test_hitting_an_obstacle_ends_the_game_until_start(game, symbols, constants):
    c = constants
    game.restart(seed=SEED)
    game.hold(())
    frames = 0
    while not game.game_over():
        assert frames < 1000, "standing still never hit anything"
        game.tick(1, False)
        frames += 1
    camera_x = game.read("camera_x")
    left, right = camera_x + c["PLAYER_X"] + c["HITBOX_INSET"], camera_x + c["PLAYER_X"] + c["PLAYER_WIDTH"] - 1 - \
        c["HITBOX_INSET"]
    columns = ring(game, symbols)
    assert any(columns[w % 32] != c["COLUMN_EMPTY"] for w in range(left // 8, right // 8 + 1))
    game.tick(2, False)
    message = [map_tile(game, WINDOW_MAP, c["HUD_MESSAGE_ROW"], col) for col in range(5, 14)]
    assert message == [c["TILE_FONT"] + 10 + ord(ch) - ord("A") if ch != " " else 0 for ch in "GAME OVER"]
    camera_before = game.read("camera_x")
    game.tick(30, False)
    assert game.game_over() and game.read("camera_x") == camera_before, "the world stops"
    game.hold(("start",))
    game.tick(2, False)
    game.hold(())
    game.tick(10, False)
    assert game.read("game_state") == c["GAME_STATE_TITLE"]


class DmgRunner:
    """The runner ROM on an original Game Boy (PyBoy cgb=False), with the GameBoy reads the rules use."""

    def __init__(self):
        from pyboy import PyBoy

        from gbc.memory import RamReader

        self.profile = get_profile("runner")
        self.pyboy = PyBoy(str(RUNNER_ROM), window="null", sound_emulated=False, cgb=False)
        self.memory = self.pyboy.memory
        self.ram = RamReader(self.pyboy)
        self._held: tuple[str, ...] = ()

    def read(self, name: str) -> int:
        v = self.profile.variables[name]
        return int.from_bytes(bytes(self.memory[v.address:v.address + v.size]), "little")

    def start(self, seed: int, play_state: int) -> None:
        """Through the title to the first frame of play, and the seed written there (as the env's reset does)."""
        self.pyboy.tick(120, False)
        self.pyboy.button("start")
        while self.read("game_state") != play_state:
            self.pyboy.tick(1, False)
        address = self.profile.variables["rng_state"].address
        self.memory[address:address + 2] = list(seed.to_bytes(2, "little"))

    def hold(self, buttons: tuple[str, ...]) -> None:
        for button in set(self._held) - set(buttons):
            self.pyboy.button_release(button)
        for button in set(buttons) - set(self._held):
            self.pyboy.button_press(button)
        self._held = buttons

    def tick(self, frames: int, render: bool) -> None:
        self.pyboy.tick(frames, render)


def test_runs_on_the_original_game_boy_with_the_ring_in_its_one_bank(game, symbols, constants):
    """DMG mode: no SVBK, so the ring sits at 0xD000 of the fixed bank 1; the rules hold and the same seed gives
    the same course as on CGB."""
    dmg = DmgRunner()
    try:
        dmg.start(SEED, constants["GAME_STATE_PLAY"])
        assert dmg.read("boot_cpu_type") != 0x11  # not a CGB
        dmg_rules = Rules(dmg, symbols, constants, cgb=False)
        play_scripted(dmg, dmg_rules, 400)
    finally:
        dmg.pyboy.stop(save=False)
    game.restart(seed=SEED)
    cgb_rules = Rules(game, symbols, constants)
    play_scripted(game, cgb_rules, 400)
    common = min(dmg_rules.seen_until, cgb_rules.seen_until)
    dmg_course = {w: k for w, k in dmg_rules.obstacles.items() if w < common}
    assert dmg_course and dmg_course == {w: k for w, k in cgb_rules.obstacles.items() if w < common}


def test_env_contract_and_scripted_player_beats_random():
    for obs_type in ("ram", "state", "pixels"):  # state: the committed roms/runner/runner.state_spec.json
        env = gym.make("GBCRunner-v0", obs_type=obs_type)
        check_env(env.unwrapped, skip_render_check=True)
        env.close()
    env = gym.make("GBCRunner-v0", obs_type="ram", max_episode_steps=600)
    assert env.unwrapped.get_action_meanings() == ["NOOP", "JUMP", "DUCK"]
    assert (RUNNER_NOOP, RUNNER_JUMP, RUNNER_DUCK) == (0, 1, 2)
    random = [run_episode(env, RandomAgent(env.action_space, seed), seed) for seed in (0, 1)]
    scripted = [run_episode(env, RunnerAgent(env.unwrapped.profile), seed) for seed in (0, 1)]
    env.close()
    assert all(r["terminated"] and r["return"] == r["score"] > 0 for r in random)  # reward = distance gained
    assert not any(r["terminated"] for r in scripted), "the scripted player runs until the time limit"
    assert sum(r["score"] for r in scripted) > 5 * sum(r["score"] for r in random)


def test_bad_input_gets_one_line_errors(tmp_path):
    moved = dataclasses.replace(get_profile("runner"), rom_path=tmp_path / "runner.gb")
    with pytest.raises(RomNotFoundError, match=r"make -C roms.*roms/runner/runner.gb"):
        moved.verify_rom()
    result = subprocess.run([sys.executable, "scripts/00_play.py", "--game", "runnr"], cwd=REPO, capture_output=True,
                            text=True, env={"PYTHONPATH": str(REPO), "SDL_VIDEODRIVER": "dummy", "PATH": ""})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown game profile 'runnr'")


def test_committed_spec_groups_words_within_variables(symbols):
    """The runner's committed state spec, scored against its symbols file: its 16-bit words each lie within one
    variable (level_timer, which restarts at 600, among them), and a word joining two is reported."""
    from gbc.extract.score import load_json, score_spec

    spec = load_json(RUNNER_ROM.with_suffix(".state_spec.json"))
    result = score_spec(spec, symbols)
    assert result["words_across_variables"] == []
    assert result["words_split"] == ["player_vy", "rng_state"]  # set from constants / a generator's two bytes
    words = {g["addresses"][0] for g in spec["groups"] if g["kind"] == "word"}
    assert f"{symbols_address(symbols, 'level_timer'):#06x}" in words
    vy = symbols_address(symbols, "player_vy")
    false_pair = {"name": "word@x", "kind": "word", "word": "carry", "addresses": [f"{vy + 1:#06x}", f"{vy + 2:#06x}"]}
    broken = dict(spec, groups=spec["groups"] + [false_pair])
    assert score_spec(broken, symbols)["words_across_variables"] == ["player_vy + on_ground"]


def symbols_address(symbols: dict, name: str) -> int:
    return next(int(v["address"]) for v in symbols["variables"] if v["name"] == name)
