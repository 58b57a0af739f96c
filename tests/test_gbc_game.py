"""GBCBreakout-v0 plays our ROM: RAM variables (from the symbols file), the screen and the rewards agree."""

import hashlib

import numpy as np
import pytest

from gbc.baselines import ACTION_LEFT, ACTION_NOOP, ACTION_RIGHT, FollowBallAgent
from gbc.env import GameBoyEnv
from gbc.hardware import HRAM_END, HRAM_START, WRAM_END, WRAM_START, ram_obs_index
from gbc.profiles import BREAKOUT_ROM, BREAKOUT_SYMBOLS, read_symbols

pytestmark = pytest.mark.skipif(not BREAKOUT_ROM.is_file(), reason="roms/breakout/breakout.gb absent: make -C roms")

# Sprite coordinates in OAM are offset from the screen by (16, 8) (https://gbdev.io/pandocs/OAM.html).
OAM_Y_OFFSET, OAM_X_OFFSET = 16, 8
TILE = 8  # background tiles are 8 x 8 pixels


@pytest.fixture
def env():
    env = GameBoyEnv("breakout", obs_type="ram", frame_skip=4, render_mode="rgb_array")
    yield env
    env.close()


def foreground(region: np.ndarray) -> np.ndarray:
    """Pixels that differ from the region's most common colour (the background)."""
    colours, counts = np.unique(region.reshape(-1, 3), axis=0, return_counts=True)
    return np.any(region != colours[counts.argmax()], axis=-1)


def paddle_on_screen(screen: np.ndarray, env: GameBoyEnv) -> tuple[int, int]:
    """(left, width) of the paddle: the run of foreground pixels on its row that touches neither wall."""
    row = foreground(screen[env.profile.constants["PADDLE_Y"] + 1][None])[0].astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row, [0]])))
    runs = [(s, e - s) for s, e in zip(edges[::2], edges[1::2]) if s > 0 and e < len(row)]
    assert len(runs) == 1, f"expected one paddle on its row, found runs {runs}"
    return int(runs[0][0]), int(runs[0][1])


def ball_on_screen(screen: np.ndarray, env: GameBoyEnv, top: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the foreground between row `top` and the paddle, walls excluded."""
    bottom = env.profile.constants["PADDLE_Y"]
    mask = foreground(screen[top:bottom])
    mask[:, mask.all(axis=0)] = False  # the side walls are foreground on every row
    ys, xs = np.nonzero(mask)
    assert len(xs), "no ball on screen"
    return int(xs.min()), int(ys.min()) + top, int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def below_bricks(env: GameBoyEnv) -> int:
    """First screen row under the wall of bricks (the ball waits for its serve below it)."""
    return env.profile.constants["BRICK_BOTTOM"]


def hud(screen: np.ndarray, env: GameBoyEnv) -> np.ndarray:
    """The tile row that shows score and lives."""
    top = env.profile.constants["HUD_ROW"] * TILE
    return screen[top : top + TILE]


def test_symbols_file_matches_the_rom():
    symbols = read_symbols(BREAKOUT_SYMBOLS)
    assert symbols["sha1"] == hashlib.sha1(BREAKOUT_ROM.read_bytes()).hexdigest()
    spans = sorted((v["address"], v["address"] + v["size"], v["name"]) for v in symbols["variables"])
    for start, end, name in spans:
        in_wram = WRAM_START <= start and end <= WRAM_END
        in_hram = HRAM_START <= start and end <= HRAM_END
        assert in_wram or in_hram, f"{name} lies outside WRAM and HRAM"
    for (_, end, name), (start, _, next_name) in zip(spans, spans[1:]):
        assert end <= start, f"{name} overlaps {next_name}"


def test_reset_starts_in_play_with_ball_and_paddle_on_screen(env):
    obs, info = env.reset(seed=0)
    game = env.game
    assert game.in_play() and not game.game_over()
    assert info["lives"] == 3 and info["score"] == 0
    assert obs[ram_obs_index(env.profile.address("lives"))] == 3
    screen = env.render()
    assert paddle_on_screen(screen, env) == (game.read("paddle_x"), env.profile.constants["PADDLE_WIDTH"])
    ball = env.profile.constants["BALL_SIZE"]
    assert ball_on_screen(screen, env, below_bricks(env)) == (game.read("ball_x"), game.read("ball_y"), ball, ball)


def test_right_and_left_move_the_paddle_in_ram_and_on_screen(env):
    env.reset(seed=0)
    start = env.game.read("paddle_x")
    for _ in range(3):
        env.step(ACTION_RIGHT)
    moved = env.game.read("paddle_x")
    assert moved > start
    env.step(ACTION_NOOP)  # the screen shows sprites a frame or two after the game moves them
    assert env.game.read("paddle_x") == moved
    assert paddle_on_screen(env.render(), env)[0] == moved
    for _ in range(2):
        env.step(ACTION_LEFT)
    env.step(ACTION_NOOP)
    back = env.game.read("paddle_x")
    assert back < moved
    assert paddle_on_screen(env.render(), env)[0] == back
    # The shadow OAM (kind "screen") holds the paddle sprite at the variable's position.
    oam = np.array(env.game.read_bytes("shadow_oam")).reshape(-1, 4)
    paddle_y = env.profile.constants["PADDLE_Y"] + OAM_Y_OFFSET
    assert [back + OAM_X_OFFSET, paddle_y] in oam[:, [1, 0]].tolist()


def test_ball_variables_follow_the_ball_on_screen(env):
    env.reset(seed=3)
    top = below_bricks(env)
    served = False
    for _ in range(40):
        x, y = env.game.read("ball_x"), env.game.read("ball_y")
        env.step(ACTION_NOOP)
        if env.game.read("serve_timer") == 0 and env.game.read("ball_y") < env.profile.constants["PADDLE_Y"] - 8:
            served = True
            # The screen lags the RAM by up to a few frames: it lies between the last two positions.
            sx, sy, _, _ = ball_on_screen(env.render(), env, top)
            nx, ny = env.game.read("ball_x"), env.game.read("ball_y")
            assert min(x, nx) <= sx <= max(x, nx) and min(y, ny) <= sy <= max(y, ny)
    assert served


def test_breaking_a_brick_scores_in_ram_on_screen_and_as_reward(env):
    obs, info = env.reset(seed=0)
    reset_screen = env.render()
    agent = FollowBallAgent(env.profile)
    bricks_before = env.game.read("bricks_left")
    for _ in range(3000):
        obs, reward, terminated, _, info = env.step(agent.act(obs))
        assert not terminated, "the ball-following script lost every ball before hitting a brick"
        if reward > 0:
            break
    assert reward > 0
    assert info["score"] == reward == env.game.score()
    assert env.game.read("bricks_left") < bricks_before
    obs, _, _, _, info = env.step(ACTION_NOOP)  # the HUD is redrawn in the next VBlank
    screen = env.render()
    assert info["lives"] == 3, "a ball was lost: the HUD changed for another reason"
    assert not np.array_equal(hud(screen, env), hud(reset_screen, env)), "score on screen did not change"


def test_losing_all_balls_ends_the_episode(env):
    _, info = env.reset(seed=1)
    lives_seen = [info["lives"]]
    for _ in range(3000):
        _, _, terminated, truncated, info = env.step(ACTION_LEFT)  # the paddle waits at the left wall
        if info["lives"] != lives_seen[-1]:
            lives_seen.append(info["lives"])
        if terminated or truncated:
            break
    assert terminated and not truncated
    assert lives_seen == [3, 2, 1, 0]
    assert env.game.game_over()


def test_same_seed_replays_the_same_episode_and_seeds_vary_the_game():
    def trajectory(env, seed):
        obs, _ = env.reset(seed=seed)
        actions = np.random.default_rng(0).integers(0, 3, size=150)
        steps = [(obs.tobytes(), 0.0, False)]
        for action in actions:
            obs, reward, terminated, _, _ = env.step(int(action))
            steps.append((obs.tobytes(), reward, terminated))
            if terminated:
                break
        return steps

    first, second = GameBoyEnv("breakout"), GameBoyEnv("breakout")
    assert trajectory(first, 11) == trajectory(second, 11)
    assert trajectory(first, 11) == trajectory(first, 11)
    serves = set()
    for seed in range(4):
        first.reset(seed=seed)
        for _ in range(25):  # past the serve delay
            first.step(ACTION_NOOP)
        serves.add((first.game.read("ball_x"), first.game.read("ball_y")))
    assert len(serves) > 1, "every seed served the ball the same way"
    first.close()
    second.close()
