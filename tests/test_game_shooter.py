"""GBCShooter-v0 and its ROM (roms/shooter): symbols file, the rules checked at every frame while the scripted player
plays (read from RAM through the symbols file), seeded replays, game over, sprite flicker, DMG mode, check_env."""

from __future__ import annotations

import hashlib
import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from breakout_py.errors import UserError
from gbc.baselines import SHOOTER_FIRE, AimAndDodgeAgent, RandomAgent, agent_names, run_episode
from gbc.env import GameBoyEnv
from gbc.hardware import HRAM_END, HRAM_START, WRAM_END, WRAM_START
from gbc.profiles import SHOOTER_ROM, SHOOTER_SYMBOLS, RomNotFoundError, read_symbols

pytestmark = pytest.mark.skipif(not SHOOTER_ROM.is_file(), reason="roms/shooter/shooter.gb absent: make -C roms")

MAP_PATH = SHOOTER_ROM.with_suffix(".map")
OAM_Y_OFFSET, OAM_X_OFFSET = 16, 8  # OAM coordinates are offset from the screen (Pan Docs, "OAM")
OAM_PAGES = (0xC0, 0xC1)
OAM = 0xFE00  # object attribute memory, where DMA copies a page
CPU_TYPE_CGB = 0x11
NOOP, LEFT = 0, 1


@pytest.fixture(scope="module")
def env():
    env = GameBoyEnv("shooter", obs_type="ram", frame_skip=1, render_mode="rgb_array")
    yield env
    env.close()


@pytest.fixture(scope="module")
def c(env) -> dict[str, int]:
    return dict(env.profile.constants)


def popcount(byte: int) -> int:
    return bin(byte).count("1")


def bcd(raw: list[int]) -> int:
    digits = "".join(f"{b:02x}" for b in reversed(raw))
    assert re.fullmatch(r"[0-9]+", digits), f"score bytes {raw} are not BCD"
    return int(digits)


def snapshot(env: GameBoyEnv) -> dict:
    """Every variable of the game by name: integers, byte lists for arrays."""
    game = env.game
    state = {}
    for name, variable in env.profile.variables.items():
        state[name] = variable.value(game.read(name)) if variable.size <= 2 and name != "score" \
            else list(game.read_bytes(name))
    state["page"] = {page: list(game.memory[page << 8 : (page << 8) + 160]) for page in OAM_PAGES}
    state["oam"] = list(game.memory[OAM : OAM + 160])
    state["lcd_on"] = bool(game.lcd_on())
    return state


def frame_done(p: dict, s: dict) -> bool:
    """Whether the game finished its frame before the tick ended: it swaps the OAM pages first thing every frame,
    and only a new wave, which redraws the shields with the LCD off, runs over a tick (a few frames)."""
    return s["lcd_on"] and s["oam_back_page"] != p["oam_back_page"]


def crowded(s: dict, c: dict) -> bool:
    """The ROM's rule for rotating the sprite order: some row band may hold more than 10 sprites on a line."""
    shots = [(s["player_shot_active"], s["player_shot_y"])]
    shots += [(s["enemy_shots"][3 * i], s["enemy_shots"][3 * i + 2]) for i in range(c["ENEMY_SHOTS"])]
    above = 0
    for row in range(c["FORMATION_ROWS"]):
        top = s["formation_y"] + row * c["ROW_SPACING"]
        own = popcount(s["enemy_alive"][row])
        count = own + above + sum(1 for active, y in shots if active and y + 16 > top and y < top + c["ROW_SPACING"])
        above = own
        if count > c["SPRITES_PER_LINE"]:
            return True
    return False


def enemy_sprites(page: list[int], c: dict) -> set[tuple[int, int, int]]:
    """(x, y, tile) of the shown enemy sprites of a shadow OAM page, in screen pixels."""
    first, last = c["TILE_ENEMY"], c["TILE_PLAYER"]
    return {(page[i + 1] - OAM_X_OFFSET, page[i] - OAM_Y_OFFSET, page[i + 2])
            for i in range(0, 160, 4) if page[i] and first <= page[i + 2] < last}


def expected_enemies(s: dict, c: dict) -> set[tuple[int, int, int]]:
    out = set()
    for row in range(c["FORMATION_ROWS"]):
        tile = c["TILE_ENEMY"] + (s["row_kind"][row] * 2 + s["anim_frame"]) * 2
        for col in range(c["FORMATION_COLUMNS"]):
            if s["enemy_alive"][row] >> col & 1:
                out.add((s["formation_x"] + col * c["COLUMN_SPACING"], s["formation_y"] + row * c["ROW_SPACING"], tile))
    return out


def check_frame(p: dict, s: dict, reward: float, c: dict) -> None:
    """The rules between two consecutive frames of play, p then s."""
    full_row = (1 << c["FORMATION_COLUMNS"]) - 1
    generated = p["wave_timer"] == c["WAVE_DELAY"] and s["wave_timer"] == c["WAVE_DELAY"] - 1
    new_wave = s["wave"] == p["wave"] + 1
    assert s["wave"] in (p["wave"], p["wave"] + 1)
    assert s["enemies_left"] == sum(popcount(b) for b in s["enemy_alive"])
    # score: (kind + 1) * 10 per enemy killed this frame, the env's reward
    killed = [p["enemy_alive"][r] & ~s["enemy_alive"][r] for r in range(c["FORMATION_ROWS"])]
    points = sum(popcount(k) * (s["row_kind"][r] + 1) * c["POINTS_PER_KIND"] for r, k in enumerate(killed))
    if generated:
        assert bcd(s["score"]) == bcd(p["score"]) and reward == 0
    else:
        assert all(s["enemy_alive"][r] & ~p["enemy_alive"][r] == 0 for r in range(c["FORMATION_ROWS"]))
        assert bcd(s["score"]) - bcd(p["score"]) == points == reward
    # scratch buffers change only while a wave is laid out, and lay it out
    if generated:
        order, kinds, holes = s["wave_column_order"], s["wave_row_kinds"], (s["wave"] - 1) % 4
        assert sorted(order) == list(range(c["FORMATION_COLUMNS"]))
        assert kinds == sorted(kinds, reverse=True) and max(kinds) < c["ENEMY_KINDS"] and s["row_kind"] == kinds
        assert s["enemy_alive"] == [full_row & ~sum(1 << col for col in order[:holes])] + [full_row] * 3
        assert s["formation_x"] == c["FORMATION_START_X"]
        assert s["formation_y"] == c["FORMATION_START_Y"] + min(s["wave"] - 1, c["WAVE_DROPS_MAX"]) * 8
    else:
        assert (s["wave_column_order"], s["wave_row_kinds"]) == (p["wave_column_order"], p["wave_row_kinds"])
    # the formation: inside the playfield, moving a march step sideways or dropping, never rising
    if s["enemies_left"]:
        columns = [col for col in range(c["FORMATION_COLUMNS"]) if any(b >> col & 1 for b in s["enemy_alive"])]
        assert s["formation_x"] + min(columns) * c["COLUMN_SPACING"] >= c["PLAYFIELD_LEFT"]
        assert s["formation_x"] + max(columns) * c["COLUMN_SPACING"] + c["ENEMY_WIDTH"] <= c["PLAYFIELD_RIGHT"]
        if not generated and s["wave_timer"] == 0:
            assert 1 <= s["march_timer"] <= s["enemies_left"] // 2 + c["MARCH_INTERVAL_MIN"]
    if not (generated or s["wave_timer"] == c["WAVE_DELAY"]):  # a new wave rebuilds the shields first
        move = (s["formation_x"] - p["formation_x"], s["formation_y"] - p["formation_y"])
        assert move in ((0, 0), (c["MARCH_STEP"], 0), (-c["MARCH_STEP"], 0), (0, c["FORMATION_DROP"])), move
        assert all(d >= e for d, e in zip(s["shield_damage"], p["shield_damage"]))
    assert max(s["shield_damage"]) <= c["SHIELD_DAMAGE_GONE"]
    # player and shots
    assert c["PLAYFIELD_LEFT"] <= s["player_x"] <= c["PLAYER_X_MAX"]
    if s["player_shot_active"]:
        assert c["PLAYFIELD_TOP"] <= s["player_shot_y"] < c["PLAYER_Y"]
    for i in range(c["ENEMY_SHOTS"]):
        active, _, y = s["enemy_shots"][3 * i : 3 * i + 3]
        assert active in (0, 1) and (not active or y + c["SHOT_HEIGHT"] <= c["GROUND_Y"])
    # lives: one at most per frame, and a lost one clears the shots and parks the cannon
    assert s["lives"] in (p["lives"], p["lives"] - 1)
    if s["lives"] < p["lives"]:
        assert not s["player_shot_active"] and not any(s["enemy_shots"][0::3])
        assert s["respawn_timer"] == c["RESPAWN_DELAY"] or s["lives"] == 0
    # double-buffered shadow OAM: the pages alternate; the one copied to OAM this frame was left alone
    if not frame_done(p, s):
        return
    assert {p["oam_back_page"], s["oam_back_page"]} == set(OAM_PAGES)
    if p["lcd_on"]:
        assert s["page"][p["oam_back_page"]] == p["page"][p["oam_back_page"]]
    page = s["page"][s["oam_back_page"]]
    assert s["oam"] == page  # the page written this frame was copied to OAM in the VBlank that ended the tick
    shown = s["respawn_timer"] == 0
    assert page[:4] == ([c["PLAYER_Y"] + OAM_Y_OFFSET] if shown else [0]) + [
        s["player_x"] + OAM_X_OFFSET, c["TILE_PLAYER"], 0]
    assert enemy_sprites(page, c) == expected_enemies(s, c)
    # flicker: the order rotates exactly while a scan line may hold more than 10 sprites
    rotation = (p["oam_rotation"] + c["FLICKER_STEP"]) % c["ENEMY_COUNT"] if crowded(s, c) else p["oam_rotation"]
    assert s["oam_rotation"] == rotation
    # game over exactly when the lives run out or the formation reaches the cannon's row
    rows = [r for r in range(c["FORMATION_ROWS"]) if s["enemy_alive"][r]]
    reached = bool(rows) and s["formation_y"] + rows[-1] * c["ROW_SPACING"] + c["ENEMY_HEIGHT"] > c["PLAYER_Y"]
    assert (s["game_state"] == c["GAME_STATE_GAME_OVER"]) == (s["lives"] == 0 or reached)


def test_symbols_file_agrees_with_map_and_rom():
    symbols = read_symbols(SHOOTER_SYMBOLS)
    assert symbols["sha1"] == hashlib.sha1(SHOOTER_ROM.read_bytes()).hexdigest()
    map_text = MAP_PATH.read_text()
    addresses = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9A-F]{8})\s+_(\w+)", map_text, re.M)}
    areas = {m.group(1): (int(m.group(2), 16), int(m.group(3), 16))
             for m in re.finditer(r"^(_\w+)\s+([0-9A-F]{8})\s+([0-9A-F]{8})\s+=", map_text, re.M)}
    variables = symbols["variables"]
    for v in variables:
        assert v["address"] == addresses[v["name"]], v["name"]
        assert v["kind"] in ("state", "screen", "runtime", "scratch") and v["description"]
        assert WRAM_START <= v["address"] and v["address"] + v["size"] <= WRAM_END or \
            HRAM_START <= v["address"] and v["address"] + v["size"] <= HRAM_END
    for area in ("_SHADOW_OAM", "_SHADOW_OAM_B", "_DATA"):  # each RAM area tiled without gaps or overlaps
        base, size = areas[area]
        inside = sorted((v for v in variables if base <= v["address"] < base + size), key=lambda v: v["address"])
        assert inside[0]["address"] == base, area
        for before, after in zip(inside, inside[1:]):
            assert before["address"] + before["size"] == after["address"], (before["name"], after["name"])
        assert inside[-1]["address"] + inside[-1]["size"] == base + size, area
    by_name = {v["name"]: v for v in variables}
    assert [by_name[n]["address"] for n in ("shadow_oam", "shadow_oam_b")] == [page << 8 for page in OAM_PAGES]
    assert by_name["shadow_oam_b"]["kind"] == "screen" and by_name["shadow_oam_b"]["size"] == 160
    shots = by_name["enemy_shots"]
    assert shots["type"] == "struct enemy_shot[3]" and shots["size"] == 9
    assert [(f["name"], f["offset"]) for f in shots["fields"]] == [("active", 0), ("x", 1), ("y", 2)]
    assert {n for n, v in by_name.items() if v["kind"] == "scratch"} == {"wave_column_order", "wave_row_kinds"}
    assert by_name["score"]["size"] == symbols["constants"]["SCORE_BYTES"] and by_name["formation_x"]["type"] == "int16_t"


def test_rules_hold_at_every_frame_while_the_scripted_player_plays(env, c):
    env.reset(seed=5)
    agent = AimAndDodgeAgent(env.profile, step_px=c["PLAYER_SPEED"])
    previous, seen = snapshot(env), {"kills": 0, "lives_lost": 0, "waves": 0, "flicker": 0, "unfinished": 0}
    obs = env.game.ram.read()
    for _ in range(3000):
        obs, reward, terminated, _, _ = env.step(agent.act(obs))
        state = snapshot(env)
        check_frame(previous, state, reward, c)
        seen["kills"] += sum(popcount(a & ~b) for a, b in zip(previous["enemy_alive"], state["enemy_alive"]))
        seen["lives_lost"] += previous["lives"] - state["lives"]
        seen["waves"] += state["wave"] - previous["wave"]
        seen["flicker"] += state["oam_rotation"] != previous["oam_rotation"]
        seen["unfinished"] += not frame_done(previous, state)
        previous = state
        if terminated:
            break
    assert seen["kills"] >= 20 and seen["waves"] >= 1 and seen["flicker"] >= 10, seen
    assert seen["unfinished"] <= 5 * seen["waves"], seen


def test_clearing_a_wave_lays_out_the_next_one(env, c):
    env.reset(seed=2)
    for _ in range(c["WAVE_DELAY"] + 1):
        env.step(NOOP)
    env.game.write("enemy_alive", 1 << 3)  # one enemy left: row 0, column 3 (the rows' bytes, little-endian)
    env.game.write("enemies_left", 1)
    env.game.write("player_shot_active", 1)
    column_x = env.game.read("formation_x") + 3 * c["COLUMN_SPACING"]
    env.game.write("player_shot_x", column_x + c["ENEMY_WIDTH"] // 2 - c["SHOT_OFFSET_X"])
    env.game.write("player_shot_y", env.game.read("formation_y") + c["ENEMY_HEIGHT"] + 2)
    previous = snapshot(env)
    _, reward, terminated, _, info = env.step(NOOP)
    state = snapshot(env)
    check_frame(previous, state, reward, c)
    assert reward == (state["row_kind"][0] + 1) * c["POINTS_PER_KIND"] and not terminated
    assert state["wave"] == 2 and state["enemies_left"] == 0 and state["wave_timer"] == c["WAVE_DELAY"]
    for _ in range(c["WAVE_DELAY"] + 4):  # the LCD is off while the shields are rebuilt; then the wave appears
        previous = state
        _, reward, _, _, _ = env.step(NOOP)
        state = snapshot(env)
        check_frame(previous, state, reward, c)
    assert state["enemies_left"] == c["ENEMY_COUNT"] - 1  # wave 2 leaves one column of the top row empty
    assert state["formation_y"] == c["FORMATION_START_Y"] + c["WAVE_START_DROP"]


def test_same_seed_replays_and_seeds_vary_the_waves(env):
    def trajectory(seed: int) -> list[bytes]:
        obs, _ = env.reset(seed=seed)
        actions = np.random.default_rng(0).integers(0, env.action_space.n, size=300)
        return [obs.tobytes()] + [env.step(int(a))[0].tobytes() for a in actions]

    assert trajectory(7) == trajectory(7)
    layouts = set()
    for seed in range(5):
        env.reset(seed=seed)
        for _ in range(3):
            env.step(NOOP)
        layouts.add(tuple(env.game.read_bytes("wave_column_order")) + tuple(env.game.read_bytes("row_kind")))
    assert len(layouts) >= 4, "the seed does not decide the wave's layout"


def test_running_out_of_lives_ends_the_episode(env, c):
    _, info = env.reset(seed=1)
    lives_seen = [info["lives"]]
    for _ in range(6000):
        _, _, terminated, truncated, info = env.step(NOOP)  # the cannon waits between two shields
        if info["lives"] != lives_seen[-1]:
            lives_seen.append(info["lives"])
        if terminated:
            break
    assert terminated and lives_seen == [3, 2, 1, 0]
    assert env.game.read("game_state") == c["GAME_STATE_GAME_OVER"]


def test_the_formation_reaching_the_cannon_ends_the_game(env, c):
    env.reset(seed=1)
    for _ in range(c["WAVE_DELAY"] + 1):
        env.step(NOOP)
    # the bottom row one drop above the cannon's row: the next drop or march lands on it
    env.game.write("formation_y", c["PLAYER_Y"] - c["FORMATION_HEIGHT"] - c["FORMATION_DROP"] + 1)
    env.game.write("formation_x", c["PLAYFIELD_RIGHT"] - c["FORMATION_WIDTH"])
    env.game.write("formation_dx", c["MARCH_STEP"])
    env.game.write("respawn_timer", 0)
    for _ in range(2 * c["RESPAWN_DELAY"]):  # a march comes within 18 frames, or after a respawn's pause
        _, _, terminated, _, info = env.step(NOOP)
        if terminated:
            break
    assert terminated and info["lives"] > 0
    assert env.game.read("game_state") == c["GAME_STATE_GAME_OVER"]


def test_crowded_lines_flicker_on_screen(env, c):
    """Two full rows share 2 scan lines (16 sprites): the hardware draws the first 10 in OAM order, and as the order
    rotates, which enemies of row 1 lose their top line changes from frame to frame; over a full cycle of rotations
    each is drawn."""
    env.reset(seed=0)
    for _ in range(3):
        env.step(NOOP)
    drawn = []
    for _ in range(c["ENEMY_COUNT"]):
        # the screen a tick draws shows the state after the tick before
        top = env.game.read("formation_y") + c["ROW_SPACING"]  # row 1's first line, shared with row 0's sprites
        left = env.game.read("formation_x")
        env.step(NOOP)
        screen = env.render()
        drawn.append(frozenset(col for col in range(c["FORMATION_COLUMNS"])
                               if screen[top, left + col * c["COLUMN_SPACING"]:][:c["ENEMY_WIDTH"]].any()))
    assert env.game.read("enemies_left") == c["ENEMY_COUNT"]
    assert sum(len(columns) < c["FORMATION_COLUMNS"] for columns in drawn) > len(drawn) // 2  # mostly some dropped
    assert len(set(drawn)) > 3 and frozenset.union(*drawn) == frozenset(range(c["FORMATION_COLUMNS"]))


def test_reset_shows_cannon_shields_and_hud(env, c):
    env.reset(seed=0)
    for _ in range(3):  # the wave is laid out on the first frame of play; the screen lags by a frame
        env.step(NOOP)
    screen = env.render().astype(int)
    player_x = env.game.read("player_x")
    assert screen[c["PLAYER_Y"] + 6, player_x : player_x + 8].sum() > 0  # the cannon's base
    shield_top = c["SHIELD_TOP_ROW"] * 8
    left = c["SHIELD_FIRST_COL"] * 8
    assert (screen[shield_top : shield_top + 16, left : left + 24].sum(axis=2) > 0).all()  # a whole shield
    x, y = env.game.read("formation_x"), env.game.read("formation_y")
    assert screen[y : y + c["ENEMY_HEIGHT"], x : x + 8].sum() > 0  # an enemy of the top row
    assert screen[: 8].sum() > 0  # the HUD line


def test_dmg_mode_plays(c):
    from pyboy import PyBoy

    symbols = {v["name"]: v["address"] for v in read_symbols(SHOOTER_SYMBOLS)["variables"]}
    pyboy = PyBoy(str(SHOOTER_ROM), window="null", sound_emulated=False, cgb=False)
    try:
        pyboy.tick(120, False)
        assert pyboy.memory[symbols["boot_cpu_type"]] != CPU_TYPE_CGB
        pyboy.button("start")
        pyboy.tick(60, True)
        assert pyboy.memory[symbols["game_state"]] == c["GAME_STATE_PLAY"]
        assert pyboy.memory[symbols["enemies_left"]] == c["ENEMY_COUNT"]
        pyboy.button_press("a")
        pyboy.tick(120, True)
        screen = pyboy.screen.ndarray[:, :, :3]
        assert (screen[..., 0] == screen[..., 1]).all() and (screen[..., 1] == screen[..., 2]).all()  # greys
        assert len(np.unique(screen.reshape(-1, 3), axis=0)) >= 3
        assert pyboy.memory[0xFF47] == 0x1B  # BGP: the DMG palette the ROM sets
    finally:
        pyboy.stop(save=False)


def test_env_passes_check_env_for_each_observation_type(env):
    check_env(env, skip_render_check=True)
    for obs_type in ("pixels", "state"):
        other = gym.make("GBCShooter-v0", obs_type=obs_type).unwrapped
        try:
            check_env(other, skip_render_check=True)
        finally:
            other.close()
    assert env.get_action_meanings() == ["NOOP", "LEFT", "RIGHT", "FIRE", "LEFT+FIRE", "RIGHT+FIRE"]


def test_scripted_player_beats_random_play():
    env = gym.make("GBCShooter-v0", obs_type="ram", max_episode_steps=1200)
    try:
        scores = {"random": [], "aim_and_dodge": []}
        for seed in (0, 1):
            scores["random"].append(run_episode(env, RandomAgent(env.action_space, seed), seed)["score"])
            scores["aim_and_dodge"].append(run_episode(env, AimAndDodgeAgent(env.unwrapped.profile), seed)["score"])
    finally:
        env.close()
    assert sum(scores["aim_and_dodge"]) > 1.5 * sum(scores["random"]), scores
    assert agent_names("shooter") == ("random", "aim_and_dodge") and SHOOTER_FIRE == 3


def test_bad_game_names_and_a_missing_rom_are_one_line_errors(monkeypatch, tmp_path):
    import gbc.profiles as profiles

    with pytest.raises(UserError, match=r"no scripted player for game 'tetris'; games: \["):
        agent_names("tetris")
    monkeypatch.setattr(profiles, "SHOOTER_DIR", tmp_path)
    with pytest.raises(RomNotFoundError) as err:
        GameBoyEnv("shooter")
    assert str(err.value) == (
        f"ROM for profile 'shooter' not found at {tmp_path / 'shooter.gb'}. It is built from source in this "
        f"repository: run `make -C roms` (needs Debian's sdcc), or restore the committed file with "
        f"`git checkout -- {tmp_path / 'shooter.gb'}`.")


def test_the_direct_renderer_draws_what_pyboy_draws(env):
    """gbc.render from a memory dump gives the next tick's screen, 8x16 sprites and dropped sprites included."""
    from gbc.render import render

    env.reset(seed=4)
    for step in range(24):
        dump = env.game.dump()
        env.step(SHOOTER_FIRE if step % 2 else NOOP)
        assert np.array_equal(render(dump)[0], env.render()), f"frame {step} differs"
