"""GBCSnake-v0 and its ROM (roms/snake): symbols file, rules checked every frame from RAM while the scripted player
plays, what the background map shows, seeded replays, game over, DMG mode, check_env and bad input."""

import hashlib
import json
import re
import shutil

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gbc.profiles as profiles
from gbc.baselines import (SNAKE_ACTION_DOWN, SNAKE_ACTION_LEFT, SNAKE_ACTION_NOOP, SNAKE_ACTION_RIGHT,
                           SNAKE_ACTION_UP, ChaseFoodAgent, RandomAgent, agent_names, run_episode)
from gbc.env import GameBoyEnv
from gbc.hardware import ram_obs_index
from gbc.profiles import SNAKE_DIR, SNAKE_ROM, SNAKE_SYMBOLS, RomNotFoundError, UnknownProfileError, read_symbols

pytestmark = pytest.mark.skipif(not SNAKE_ROM.is_file(), reason="roms/snake/snake.gb absent: make -C roms")

MAP_PATH = SNAKE_DIR / "snake.map"
VRAM_BG_MAP, BG_MAP_WIDTH = 0x9800, 32  # Pan Docs, "VRAM Tile Maps"
CPU_TYPE_CGB = 0x11  # register A at boot on a Game Boy Color
CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEPS = {"UP": (0, -1), "RIGHT": (1, 0), "DOWN": (0, 1), "LEFT": (-1, 0)}


@pytest.fixture(scope="module")
def env():
    """One emulator for the module, stepping one frame per action so that every frame can be checked."""
    env = GameBoyEnv("snake", obs_type="ram", frame_skip=1, render_mode="rgb_array")
    yield env
    env.close()


@pytest.fixture(scope="module")
def c(env):
    return env.profile.constants


class Snapshot:
    """The snake's variables read from one RAM observation."""

    def __init__(self, env: GameBoyEnv, obs: np.ndarray):
        def at(name, size=1):
            start = ram_obs_index(env.profile.address(name))
            return obs[start : start + size]

        c = env.profile.constants
        self.head, self.tail, self.length = int(at("head_index")[0]), int(at("tail_index")[0]), int(at("length")[0])
        body_x, body_y = at("body_x", c["BODY_CAPACITY"]), at("body_y", c["BODY_CAPACITY"])
        indices = [(self.tail + i) % c["BODY_CAPACITY"] for i in range(self.length)]
        self.body = [(int(body_x[i]), int(body_y[i])) for i in indices]  # tail first
        self.board = at("board", c["GRID_CELLS"]).reshape(c["GRID_HEIGHT"], c["GRID_WIDTH"]).copy()
        self.food = (int(at("food_x")[0]), int(at("food_y")[0]))
        self.direction, self.next_direction = int(at("direction")[0]), int(at("next_direction")[0])
        self.move_delay, self.move_timer = int(at("move_delay")[0]), int(at("move_timer")[0])
        self.score = int(at("score", 2)[0]) | int(at("score", 2)[1]) << 8
        self.game_state = int(at("game_state")[0])


def background(env: GameBoyEnv) -> np.ndarray:
    """The 32 x 32 tile map as the next VBlank leaves it: VRAM plus the queued updates."""
    memory = env.game.pyboy.memory
    tiles = np.array(memory[VRAM_BG_MAP : VRAM_BG_MAP + BG_MAP_WIDTH * BG_MAP_WIDTH], np.int64)
    offsets = env.game.read_bytes("bg_queue_offset")
    queued = env.game.read_bytes("bg_queue_tile")
    for i in range(env.game.read("bg_queue_length")):
        tiles[offsets[2 * i] | offsets[2 * i + 1] << 8] = queued[i]
    return tiles.reshape(BG_MAP_WIDTH, BG_MAP_WIDTH)


def text_at(tiles: np.ndarray, c: dict, col: int, row: int, length: int) -> str:
    chars = [tiles[row, x] - c["TILE_FONT"] for x in range(col, col + length)]
    return "".join(CHARS[t] if 0 <= t < len(CHARS) else " " for t in chars)


def check_rules(s: Snapshot, c: dict) -> None:
    """What holds on every frame of play."""
    assert s.length == (s.head - s.tail) % c["BODY_CAPACITY"] + 1
    assert len(set(s.body)) == s.length, "the body crosses itself"
    for (x0, y0), (x1, y1) in zip(s.body, s.body[1:]):
        assert abs(x0 - x1) + abs(y0 - y1) == 1, "body cells are not adjacent"
    assert all(0 <= x < c["GRID_WIDTH"] and 0 <= y < c["GRID_HEIGHT"] for x, y in s.body)
    expected = np.full((c["GRID_HEIGHT"], c["GRID_WIDTH"]), c["CELL_EMPTY"])
    for x, y in s.body:
        expected[y, x] = c["CELL_BODY"]
    assert s.food not in s.body
    expected[s.food[1], s.food[0]] = c["CELL_FOOD"]
    assert np.array_equal(s.board, expected)
    assert s.score == (s.length - c["START_LENGTH"]) * c["POINTS_PER_FOOD"]
    eaten = s.length - c["START_LENGTH"]
    assert s.move_delay == max(c["MOVE_DELAY_MIN"], c["MOVE_DELAY_START"] - eaten // c["FOODS_PER_SPEEDUP"])
    assert 1 <= s.move_timer <= s.move_delay
    assert s.next_direction != (s.direction + 2) % 4, "a reversal was accepted"


def check_screen(env: GameBoyEnv, s: Snapshot, c: dict) -> None:
    """The background map shows the grid, the HUD and the speed as RAM holds them."""
    tiles = background(env)
    grid = tiles[c["GRID_TOP_ROW"] : c["GRID_TOP_ROW"] + c["GRID_HEIGHT"],
                 c["GRID_LEFT_COL"] : c["GRID_LEFT_COL"] + c["GRID_WIDTH"]]
    expected = np.full_like(grid, c["TILE_EMPTY"])
    for x, y in s.body:
        expected[y, x] = c["TILE_BODY"]
    expected[s.body[-1][1], s.body[-1][0]] = c["TILE_HEAD"]
    expected[s.food[1], s.food[0]] = c["TILE_FOOD"]
    assert np.array_equal(grid, expected)
    assert (tiles[c["TOP_WALL_ROW"], : c["RIGHT_WALL_COL"] + 1] == c["TILE_WALL"]).all()
    assert (tiles[c["BOTTOM_WALL_ROW"], : c["RIGHT_WALL_COL"] + 1] == c["TILE_WALL"]).all()
    assert text_at(tiles, c, c["SCORE_DIGITS_COL"], c["HUD_ROW"], 3) == f"{s.score:03d}"
    assert text_at(tiles, c, c["LENGTH_DIGITS_COL"], c["HUD_ROW"], 3) == f"{s.length:03d}"
    speed = c["MOVE_DELAY_START"] + 1 - s.move_delay
    assert text_at(tiles, c, c["SPEED_DIGIT_COL"], c["STATUS_ROW"], 1) == str(speed)


def test_symbols_file_agrees_with_map_and_rom():
    symbols = read_symbols(SNAKE_SYMBOLS)
    assert symbols["rom"] == SNAKE_ROM.name and symbols["sha1"] == hashlib.sha1(SNAKE_ROM.read_bytes()).hexdigest()
    text = MAP_PATH.read_text()
    addresses = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9A-F]{8})\s+_(\w+)", text, re.M)}
    areas = {m.group(1): (int(m.group(2), 16), int(m.group(3), 16))
             for m in re.finditer(r"^(_\w+)\s+([0-9A-F]{8})\s+([0-9A-F]{8})\s+=", text, re.M)}
    variables = symbols["variables"]
    for v in variables:
        assert v["address"] == addresses[v["name"]], v["name"]
        assert v["kind"] in ("state", "screen", "runtime", "scratch") and v["description"], v["name"]
    for area in ("_SHADOW_OAM", "_DATA", "_INITIALIZED"):  # the variables tile each RAM area
        base, size = areas[area]
        inside = sorted((v for v in variables if base <= v["address"] < base + size), key=lambda v: v["address"])
        assert inside[0]["address"] == base, area
        for before, after in zip(inside, inside[1:]):
            assert before["address"] + before["size"] == after["address"], (before["name"], after["name"])
        assert inside[-1]["address"] + inside[-1]["size"] == base + size, area
    by_name = {v["name"]: v for v in variables}
    c = symbols["constants"]
    for name, size in {"body_x": c["BODY_CAPACITY"], "body_y": c["BODY_CAPACITY"], "board": c["GRID_CELLS"],
                       "head_index": 1, "tail_index": 1, "length": 1, "score": 2, "rng_state": 2}.items():
        assert (by_name[name]["size"], by_name[name]["kind"]) == (size, "state"), name
    assert by_name["bg_queue_tile"]["kind"] == "screen" and by_name["title_frames"]["kind"] == "runtime"
    rom = SNAKE_ROM.read_bytes()
    assert rom[0x134:0x143].rstrip(b"\0") == b"SNAKE" and rom[0x143] == 0x80  # title, CGB compatible


def test_reset_is_the_first_frame_of_play_whose_next_frame_draws_the_food(env, c):
    env.reset(seed=5)
    assert env.game.in_play() and env.game.read("food_placed") == 0
    assert env.game.read("length") == c["START_LENGTH"] and env.game.score() == 0
    obs, *_ = env.step(SNAKE_ACTION_NOOP)
    assert env.game.read("food_placed") == 1
    check_rules(Snapshot(env, obs), c)


def test_rules_and_screen_hold_every_frame_while_the_scripted_player_plays(env, c):
    env.reset(seed=5)
    obs, *_ = env.step(SNAKE_ACTION_NOOP)  # the first frame of play places the food
    agent = ChaseFoodAgent(env.profile)
    before = Snapshot(env, obs)
    check_rules(before, c)
    check_screen(env, before, c)
    moves = 0
    for frame in range(3000):
        obs, reward, terminated, _, _ = env.step(agent.act(obs))
        after = Snapshot(env, obs)
        if terminated:
            assert after.body == before.body, "the snake moved into what ended the game"
            break
        check_rules(after, c)
        assert reward == after.score - before.score
        if after.body != before.body:  # a move: one cell forward in the latched direction
            moves += 1
            assert before.move_timer == 1 and after.move_timer == after.move_delay
            head = np.add(before.body[-1], STEPS[("UP", "RIGHT", "DOWN", "LEFT")[after.direction]])
            assert after.body[-1] == tuple(head) and after.direction != (before.direction + 2) % 4
            grew = after.length == before.length + 1
            assert grew == (before.food == after.body[-1])
            assert after.body[:-1] == before.body[1 - grew :]
        else:
            assert after.move_timer == before.move_timer - 1
        if frame % 25 == 0 or after.score != before.score:
            check_screen(env, after, c)
        before = after
        if after.score >= 3 * c["FOODS_PER_SPEEDUP"]:  # three speed-ups seen: enough
            break
    assert before.score >= 3 * c["FOODS_PER_SPEEDUP"] and moves > 50, "the player was too poor to test the rules"


def test_title_then_play_starts_on_start_and_shows_the_playfield(c):
    from pyboy import PyBoy

    symbols = {v["name"]: v for v in read_symbols(SNAKE_SYMBOLS)["variables"]}
    pyboy = PyBoy(str(SNAKE_ROM), window="null", sound_emulated=False)
    try:
        def read(name):
            return pyboy.memory[symbols[name]["address"]]

        pyboy.tick(200, False)
        assert read("game_state") == c["GAME_STATE_TITLE"] and read("boot_cpu_type") == CPU_TYPE_CGB
        pyboy.button_press("a")  # only START starts
        pyboy.tick(10, False)
        assert read("game_state") == c["GAME_STATE_TITLE"]
        pyboy.button_release("a")
        pyboy.button("start")
        pyboy.tick(8, True)
        assert read("game_state") == c["GAME_STATE_PLAY"]
        screen = pyboy.screen.ndarray[:, :, :3].astype(int)
        x, y = c["START_X"] + c["GRID_LEFT_COL"], c["START_Y"] + c["GRID_TOP_ROW"]
        body = screen[8 * y + 3, 8 * x + 3]
        assert body.sum() > 0 and tuple(body) != tuple(screen[8 * y + 3, 8 * x - 5])  # snake vs empty cell
        assert body[1] > body[0] and body[1] > body[2]  # green on a Game Boy Color
    finally:
        pyboy.stop(save=False)


def test_same_seed_replays_the_game_and_seeds_vary_the_food(env):
    def trajectory(seed):
        obs, _ = env.reset(seed=seed)
        actions = np.random.default_rng(0).integers(0, 5, size=120)
        steps = [obs.tobytes()]
        for action in actions:
            obs, reward, terminated, _, _ = env.step(int(action))
            steps.append((obs.tobytes(), reward, terminated))
            if terminated:
                break
        return steps

    assert trajectory(7) == trajectory(7)
    foods = set()
    for seed in range(6):
        env.reset(seed=seed)
        env.step(SNAKE_ACTION_NOOP)
        foods.add((env.game.read("food_x"), env.game.read("food_y")))
    assert len(foods) >= 4, "seeds do not vary where the food appears"


def test_a_wall_ends_the_game_which_stays_until_start(env, c):
    env.reset(seed=1)
    cells_to_wall = c["GRID_WIDTH"] - 1 - (c["START_X"] + c["START_LENGTH"] - 1)
    frames = 0
    terminated = False
    while not terminated:
        _, reward, terminated, _, info = env.step(SNAKE_ACTION_LEFT)  # a reversal: ignored, the snake goes on right
        frames += 1
        assert frames <= (cells_to_wall + 1) * c["MOVE_DELAY_START"] + 1
    assert frames > cells_to_wall * c["MOVE_DELAY_START"]  # it reached the last column, then hit the wall
    head = env.game.read("head_index")
    assert env.game.read_bytes("body_x")[head] == c["GRID_WIDTH"] - 1 and env.game.read("game_won") == 0
    for _ in range(30):
        env.step(SNAKE_ACTION_NOOP)
    assert env.game.game_over()
    assert text_at(background(env), c, 5, c["MESSAGE_ROW"], 9) == "GAME OVER"
    env.game.hold(("start",))
    env.game.tick(10, False)
    env.game.hold(())
    assert env.game.read("game_state") == c["GAME_STATE_TITLE"]


def place_snake(env: GameBoyEnv, c: dict, cells: list[tuple[int, int]], direction: int) -> None:
    """Write a snake (tail first) into RAM with the food in the bottom-right cell and the score its length gives;
    it moves on the next frame."""
    body_x, body_y = [0] * c["BODY_CAPACITY"], [0] * c["BODY_CAPACITY"]
    board = [c["CELL_EMPTY"]] * c["GRID_CELLS"]
    for i, (x, y) in enumerate(cells):
        body_x[i], body_y[i] = x, y
        board[y * c["GRID_WIDTH"] + x] = c["CELL_BODY"]
    board[-1] = c["CELL_FOOD"]
    memory = env.game.pyboy.memory
    for name, values in (("body_x", body_x), ("body_y", body_y), ("board", board)):
        address = env.profile.address(name)
        memory[address : address + len(values)] = values
    for name, value in (("tail_index", 0), ("head_index", len(cells) - 1), ("length", len(cells)),
                        ("food_x", c["GRID_WIDTH"] - 1), ("food_y", c["GRID_HEIGHT"] - 1),
                        ("direction", direction), ("next_direction", direction), ("move_timer", 1),
                        ("score", (len(cells) - c["START_LENGTH"]) * c["POINTS_PER_FOOD"])):
        env.game.write(name, value)


@pytest.mark.parametrize("length, hits_itself", [(4, False), (5, True)])
def test_the_head_may_take_the_cell_the_tail_leaves_but_not_another_body_cell(env, c, length, hits_itself):
    env.reset(seed=0)
    env.step(SNAKE_ACTION_NOOP)  # the food is placed on the first frame of play; place_snake moves it
    place_snake(env, c, [(x, 7) for x in range(3, 3 + length)], c["DIR_RIGHT"])
    terminated = False
    for action in (SNAKE_ACTION_UP, SNAKE_ACTION_LEFT, SNAKE_ACTION_DOWN):  # a tight U-turn back onto row 7
        for _ in range(c["MOVE_DELAY_START"]):
            _, _, terminated, _, _ = env.step(action)
            if terminated:
                break
    assert terminated == hits_itself
    if not hits_itself:
        check_rules(Snapshot(env, env.game.ram.read()), c)


def test_runs_on_the_original_game_boy(c):
    from pyboy import PyBoy

    symbols = {v["name"]: v for v in read_symbols(SNAKE_SYMBOLS)["variables"]}
    pyboy = PyBoy(str(SNAKE_ROM), window="null", sound_emulated=False, cgb=False)
    try:
        pyboy.tick(200, False)
        assert pyboy.memory[symbols["boot_cpu_type"]["address"]] != CPU_TYPE_CGB
        pyboy.button("start")
        pyboy.tick(40, True)
        assert pyboy.memory[symbols["game_state"]["address"]] == c["GAME_STATE_PLAY"]
        screen = pyboy.screen.ndarray[:, :, :3].astype(int)
        def read(name, index=0):
            return pyboy.memory[symbols[name]["address"] + index]

        food, head = (read("food_x"), read("food_y")), read("head_index")

        def centre(x, y):  # the colour in the middle of grid cell (x, y)
            return tuple(screen[8 * (y + c["GRID_TOP_ROW"]) + 3, 8 * (x + c["GRID_LEFT_COL"]) + 3])

        empty = next(centre(x, 0) for x in range(c["GRID_WIDTH"]) if (x, 0) != food)
        body, food_colour = centre(read("body_x", head), read("body_y", head)), centre(*food)
        assert len({empty, body, food_colour}) == 3  # three shades of grey: empty, snake, food
        assert all(len(set(colour)) == 1 for colour in (empty, body, food_colour))
    finally:
        pyboy.stop(save=False)


@pytest.mark.parametrize("obs_type", ["ram", "pixels", "state"])
def test_check_env_passes(obs_type):
    env = gym.make("GBCSnake-v0", obs_type=obs_type, render_mode="rgb_array").unwrapped
    check_env(env)
    assert env.get_action_meanings() == ["NOOP", "UP", "DOWN", "LEFT", "RIGHT"]
    env.close()


def test_scripted_player_beats_random_play(env):
    scores = {"random": [], "chase_food": []}
    assert agent_names("snake") == tuple(scores)
    limited = gym.wrappers.TimeLimit(GameBoyEnv("snake", obs_type="ram"), max_episode_steps=400)
    for seed in (0, 1):
        scores["random"].append(run_episode(limited, RandomAgent(limited.action_space, seed), seed)["score"])
        scores["chase_food"].append(run_episode(limited, ChaseFoodAgent(env.profile, seed), seed)["score"])
    limited.close()
    assert sum(scores["chase_food"]) >= 10 * (sum(scores["random"]) + 1), scores


def test_bad_input_gets_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(UnknownProfileError, match="no scripted player for game 'tetris'; games: .*'snake'"):
        agent_names("tetris")
    with pytest.raises(UnknownProfileError, match="unknown game profile 'snakes'; known profiles: .*'snake'"):
        gym.make("GBC-v0", profile="snakes")
    shutil.copy(SNAKE_SYMBOLS, tmp_path / SNAKE_SYMBOLS.name)  # the symbols file without its ROM
    monkeypatch.setattr(profiles, "SNAKE_DIR", tmp_path)
    monkeypatch.setattr(profiles, "SNAKE_SYMBOLS", tmp_path / SNAKE_SYMBOLS.name)
    with pytest.raises(RomNotFoundError) as err:
        gym.make("GBCSnake-v0")
    assert str(err.value).startswith(f"ROM for profile 'snake' not found at {tmp_path / 'snake.gb'}.")
    assert "make -C roms" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / SNAKE_SYMBOLS.name).unlink()
    with pytest.raises(RomNotFoundError, match="symbols file .* not found. It is built from source"):
        gym.make("GBCSnake-v0")
    assert json.loads(SNAKE_SYMBOLS.read_text())["rom"] == "snake.gb"


def test_a_person_turns_the_snake_with_the_arrow_keys(c):
    import pygame

    from gbc.play import play

    summary = play("snake", seed=0, fps=0, max_frames=30, scripted_keys={2: [(pygame.KEYDOWN, pygame.K_DOWN)]})
    assert summary["frames"] == 30 and summary["lives"] is None and not summary["game_over"]
    assert summary["variables"]["direction"] == c["DIR_DOWN"]


def test_baselines_and_bench_take_the_snake(capsys):
    from gbc.baselines import Args, main
    from gbc.bench import bench_gbc

    main(Args(game="snake", episodes=1, max_episode_steps=50))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["agent"], "mean_score" in line) for line in lines] == [
        ("random", False), ("random", True), ("chase_food", False), ("chase_food", True)]
    assert lines[1]["game"] == "snake" and lines[2]["steps"] <= 50
    record = bench_gbc("ram", 0.1, env_id="GBCSnake-v0")
    assert record["env"] == "GBCSnake-v0" and record["steps_per_s"] > 0
