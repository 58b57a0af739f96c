"""Step 07 on any Game Boy game (agents.probing.gbc_game), on a tiny untrained agent: the adapter builds its spec
for each of our five games from their data alone (no Breakout names in its code); on GBC Breakout, stacks
re-rendered from recorded states equal the env's observations, which variables are swept, their kinds and the
causal check's predicted signs are measured (a variable the game does not draw is not sweepable), a position's
sweep translates the history, a planted unit is found, arrays take their grids from the symbols file, key
variables come from step 06's file, steps 07 + 08 run end to end (as subprocesses), and checkpoints or names that
do not fit are clear errors."""

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.checkpoint import save_checkpoint
from agents.networks import CNNAgent, MLPAgent
from agents.probing import gbc_game
from agents.probing.bars import bar_lines, measure_bars
from agents.probing.game import ProbeConfig
from agents.probing.games import ADAPTERS, run_probe
from agents.probing.probes import ProbeError, fit_probes, split_by_group, unit_correlations
from gbc import GAME_ENV_IDS, PROFILED_ENV_ID
from gbc.emulated_render import EmulatedRenderer, OverrideError
from gbc.profiles import BREAKOUT_SYMBOLS, get_profile

ROOT = Path(__file__).resolve().parents[1]

ROM = get_profile("breakout").rom_path
SPEC = ROM.with_suffix(".state_spec.json")
pytestmark = pytest.mark.skipif(not ROM.is_file() or not SPEC.is_file(),
                                reason=f"needs {ROM} and its state spec (make -C roms)")
KWARGS = {"obs_type": "pixels", "obs_size": 32, "frame_stack": 2, "frame_skip": 4}
TINY = ["--num-games", "2", "--num-steps", "150", "--keep-every", "3", "--num-bases", "6", "--sweep-count", "3",
        "--joint-positions", "2", "--max-train", "400", "--pcs", "16", "--causal-states", "6", "--causal-seeds", "1",
        "--random-directions", "2", "--examples", "2", "--group-steps", "15", "--no-gbc-regions"]


def tiny_agent(actions: int = 3) -> CNNAgent:
    torch.manual_seed(0)
    return CNNAgent((2, 32, 32), actions, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16).eval()


@pytest.fixture(scope="module")
def played():
    agent = tiny_agent()
    adapter = gbc_game.GBCGame("GBCBreakout-v0")
    setup = adapter.check_checkpoint(agent, {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS}, "tiny")
    play = gbc_game.collect_play(agent, setup, adapter.profile, adapter.variables, num_games=2, num_steps=60,
                                 keep_every=2, seed=0)
    play.measured = gbc_game.measure(play, setup, adapter.profile, adapter.variables)
    return adapter, setup, play


def test_the_adapter_names_no_game_variable():
    source = (ROOT / "agents" / "probing" / "gbc_game.py").read_text().lower()
    for word in ("ball_", "paddle", "brick", "breakout"):
        assert word not in source, word


@pytest.mark.parametrize("game", sorted(GAME_ENV_IDS))
def test_every_game_gets_the_generic_adapter_and_its_spec(game):
    env_id = GAME_ENV_IDS[game]
    adapter = ADAPTERS[env_id]
    assert isinstance(adapter, gbc_game.GBCGame) and isinstance(ADAPTERS[PROFILED_ENV_ID], gbc_game.GBCGame)
    adapter.use_profile(game)
    spec = adapter.spec(ProbeConfig(key_variables_csv=""))
    features = json.loads(get_profile(game).rom_path.with_suffix(".state_spec.json").read_text())["features"]
    # every byte of the spec is some variable's, a CGB WRAM bank's in its own bank
    covered = {(v.bank, a) for v in adapter.variables for a in range(v.address, v.address + v.size)}
    assert {(int(f.get("bank") or 0), int(f["addresses"][0], 16)) for f in features} <= covered
    assert len(spec.names) == len(set(spec.names)) and spec.addresses[spec.names[0]].startswith("0x")
    assert spec.toward in get_profile(game).action_names and spec.away in get_profile(game).action_names
    for layout in spec.arrays.values():
        assert len(layout.names) == layout.shape[0] * layout.shape[1]


def test_without_symbols_variables_are_named_by_address(tmp_path):
    named = gbc_game.load_variables("pong", symbols_path=tmp_path / "none.json")
    assert not named.symbols and all(re.fullmatch(r"0x[0-9A-F]{4}", v.name) for v in named.variables)
    assert len(named.variables) == len(json.loads(get_profile("pong").rom_path.with_suffix(".state_spec.json")
                                                  .read_text())["features"])


def test_an_indexed_input_is_a_variable_read_through_its_index_and_never_written():
    """Snake's spec reads the head's cell through head_index (gbc.extract.spec's indexed inputs): the probe gets it
    as a variable named as step 06 names it, matched to 06's address column, read from the RAM the way the state
    observation reads it, and refused as an override (where it lives moves with its index)."""
    game = gbc_game.load_variables("snake")
    head_x = next(v for v in game.variables if v.name == "body_x[head_index]")
    assert head_x.indexed and head_x.label == "0xC0A5[0xC2A5]"
    assert gbc_game.owner_by_address(game.variables)("0xc0a5[0xc2a5]") == "body_x[head_index]"
    with pytest.raises(ProbeError, match="no fixed address"):
        head_x.key
    indexed = [v for v in game.variables if v.indexed]
    assert [v.name for v in indexed] == ["body_x[head_index]", "body_y[head_index]", "board[rng_state]"]
    reader = gbc_game.VariableBytes(indexed)
    low, high = np.array([v.low for v in indexed]), np.array([v.high for v in indexed])
    env = gym.make("GBCSnake-v0", obs_type="state", state_scaling="range")
    try:
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        heads = set()
        for _ in range(60):
            obs = env.step(int(rng.integers(env.action_space.n)))[0]
            read = reader.read(env.unwrapped.game.ram).astype(float)
            # the observation's last inputs are the spec's indexed ones: the same bytes, scaled to their range
            assert np.allclose(obs[-3:], np.clip((read - low) / (high - low), 0, 1), atol=1e-6)
            ram = env.unwrapped.game.ram.read()
            head = int(ram[gbc_game.ram_obs_index(0xC2A5)])
            assert read[0] == ram[gbc_game.ram_obs_index(0xC0A5) + head]  # and without the shared formula
            heads.add(head)
        assert len(heads) > 5  # the index moved, and the read followed it
    finally:
        env.close()


def test_a_cgb_wram_bank_variable_is_read_and_written_in_its_own_bank():
    variables = gbc_game.load_variables("runner").variables
    ring = [v for v in variables if v.bank]
    assert len(ring) == 32 and {v.bank for v in ring} == {2} and {v.array for v in ring} == {"column_ring"}
    assert (ring[24].name, ring[24].label, ring[24].key) == ("column_ring[24]", "2:0xD018", (2, 0xD018))
    owner = gbc_game.owner_by_address(variables)
    assert owner("2:0xD018") == "column_ring[24]" and owner("0xD018") is None  # bank 1's byte is another
    env = gym.make("GBCRunner-v0", **KWARGS)
    renderer = EmulatedRenderer("runner")
    try:
        env.reset(seed=0)
        for _ in range(20):
            env.step(0)
        game = env.unwrapped.game
        assert game.ram.switched_bank() != 2  # the game keeps its level bank switched out between frames
        reader = gbc_game.VariableBytes(ring)
        assert np.array_equal(reader.read(game.ram), game.ram.wram_banks()[2, :32])
        state, bank_1 = game.save_state(), game.ram.wram_banks()[1, 0x18]
        new = (int(game.ram.wram_banks()[2, 0x18]) + 1) % 3  # column kinds are 0-2
        shot = renderer.run(state, {ring[24].key: new}, frames=1, with_ram=True)
        assert gbc_game.VariableBytes([ring[24]]).read(shot.ram)[0] == new and shot.values[ring[24].key] == new
        assert shot.dump.wram[0, 1, 0x18] == bank_1  # the byte bank 1 holds at that address is untouched
        with pytest.raises(OverrideError, match="CGB WRAM bank lies at"):
            renderer.run(state, {(2, 0xC000): 1})
        for bad_key in [(2, "0xD018"), (2.0, 0xD018), (9, 0xD018)]:
            with pytest.raises(OverrideError, match="a banked key is"):
                renderer.run(state, {bad_key: 1})
    finally:
        renderer.close()
        env.close()


def test_arrays_take_their_grid_from_the_symbols_file(tmp_path):
    wall = gbc_game.load_variables("breakout").arrays["bricks"]
    assert wall.shape == (6, 18) and wall.names[19] == "bricks[19]"
    board = gbc_game.load_variables("snake").arrays["board"]
    assert board.shape == (14, 18)  # GRID_HEIGHT x GRID_WIDTH of snake.h
    # another shape in the constants, and an element the spec did not keep: the grid follows, with a hole
    symbols = json.loads(BREAKOUT_SYMBOLS.read_text())
    symbols["constants"].update(BRICK_ROWS=12, BRICK_COLUMNS=9)
    (tmp_path / "symbols.json").write_text(json.dumps(symbols))
    spec = json.loads(SPEC.read_text())
    spec["features"] = [f for f in spec["features"] if f["addresses"] != ["0xc0b9"]]  # bricks[3]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    wall = gbc_game.load_variables("breakout", tmp_path / "spec.json", tmp_path / "symbols.json").arrays["bricks"]
    assert wall.shape == (12, 9) and wall.names[3] == "" and wall.names[1] == "bricks[1]"
    # no pair of constants fits: one row
    symbols["constants"] = {}
    (tmp_path / "symbols.json").write_text(json.dumps(symbols))
    assert gbc_game.load_variables("breakout", symbols_path=tmp_path / "symbols.json").arrays["bricks"].shape == \
        (1, 108)


def test_what_is_swept_and_each_kind_are_measured(played):
    adapter, _, play = played
    names = [v.name for v in adapter.variables]
    measured = play.measured
    sweepable = dict(zip(names, measured.sweepable()))
    kinds = dict(zip(names, measured.kinds))
    # sprites follow RAM within the screen lag; the score and lives are redrawn only on events
    assert sweepable["ball_x"] and sweepable["ball_y"] and sweepable["paddle_x"]
    assert not sweepable["score"] and not sweepable["lives"] and not sweepable["bricks[0]"]
    assert measured.changed[names.index("score")] == 0
    assert kinds["ball_x"] == kinds["ball_y"] == kinds["paddle_x"] == "position"
    assert kinds["ball_dx"] == "velocity" and kinds["reached_red"] == "flag" and kinds["bricks[5]"] == "array element"
    # pressing RIGHT instead of LEFT moves the paddle right: the agent's own position; the ball drawn along x: to follow
    spec = adapter.spec(ProbeConfig(), play)
    assert spec.policy_signs == {"paddle_x": -1, "ball_x": 1} and (spec.toward, spec.away) == ("RIGHT", "LEFT")
    assert spec.families["ball_x"] == "position"


def test_without_left_right_or_up_down_only_the_generic_causal_test():
    assert gbc_game.causal_actions(get_profile("runner")) == ("JUMP", "DUCK", "")
    assert gbc_game.causal_actions(get_profile("pong")) == ("DOWN", "UP", "y")
    assert gbc_game.causal_actions(get_profile("snake"))[2] == "x"


def test_key_variables_come_from_step_06_when_its_file_exists(played, tmp_path):
    adapter, _, play = played
    rows = ["feature,addresses,symbol,kind,policy_importance,ci_low,ci_high,value_importance,grad_x_input,rank",
            "ball_dx,0xC0AA 0xC0AB,ball_dx,word,1,1,1,0,0,2", "ball_x,0xC0A6,ball_x,byte,5,5,5,0,0,1",
            "bricks[3],0xC0B9,bricks,array,0.1,0,0,0,0,3", "0xFF90,0xFF90,,byte,0.1,0,0,0,0,4",
            "0xC0AA[0xC0C0],0xC0AA[0xC0C0],,indexed,9,9,9,0,0,0"]  # an indexed input: no probe variable holds it
    path = tmp_path / "key_variables.csv"
    path.write_text("\n".join(rows) + "\n")
    spec = adapter.spec(ProbeConfig(key_variables_csv=str(path)), play)
    assert spec.key_variables == ("ball_x", "ball_dx", "bricks[3]") and str(path) in spec.key_source
    assert spec.r2_bar == ("ball_x",)  # the R^2 bar holds to the on-screen positions among them
    # without the file: the measured positions, and summary.json says so
    spec = adapter.spec(ProbeConfig(key_variables_csv=""), play)
    assert set(spec.key_variables) == {"ball_x", "ball_y", "paddle_x"} and "positions" in spec.key_source
    with pytest.raises(ProbeError, match="does not exist"):
        adapter.spec(ProbeConfig(key_variables_csv=str(tmp_path / "missing.csv")), play)


def drawn_on_events(play, k: int):
    """The play with variable k measured as a position drawn on events (8 px further right per unit, as a snake's food
    is)."""
    kinds = list(play.measured.kinds)
    kinds[k] = "position"
    play_slope = play.measured.play_slope.copy()
    play_slope[k] = (8.0, 0.0)
    return dataclasses.replace(play, measured=dataclasses.replace(play.measured, kinds=tuple(kinds),
                                                                  play_slope=play_slope))


def test_a_key_variable_drawn_on_events_is_held_to_the_r2_bar(played, tmp_path):
    adapter, _, play = played
    k = [v.name for v in adapter.variables].index("score")
    events = drawn_on_events(play, k)
    path = tmp_path / "key_variables.csv"
    path.write_text("feature,addresses,symbol,kind,policy_importance,ci_low,ci_high,value_importance,grad_x_input,"
                    f"rank\nscore,{adapter.variables[k].label},score,byte,1,1,1,0,0,1\n")
    assert adapter.spec(ProbeConfig(key_variables_csv=str(path)), events).r2_bar == ("score",)
    assert "score" in adapter.spec(ProbeConfig(key_variables_csv=""), events).key_variables
    assert adapter.spec(ProbeConfig(key_variables_csv=str(path)), play).r2_bar == ()  # drawn nowhere: not held
    assert "score" not in adapter.spec(ProbeConfig(), events).policy_signs  # no predicted sign without sweeps


def test_a_position_drawn_on_events_gets_its_screen_reference_from_play(played):
    adapter, setup, play = played
    k = [v.name for v in adapter.variables].index("score")
    states = np.arange(0, len(play.states), 5)
    perturbed = adapter.screen_perturbations(drawn_on_events(play, k), setup, k, states, 4)
    assert perturbed.reference_source == "play"
    assert perturbed.obs.shape == (len(states), 1, *play.env_obs.shape[1:])  # the inputs as played, none redrawn
    assert (perturbed.obs[:, 0] == play.env_obs[states]).all()
    assert perturbed.changed.shape == perturbed.screen.shape == (len(states), 144, 160)
    assert adapter.screen_perturbations(play, setup, k, states, 4).reference_source == "perturbation"


def test_stacks_rendered_from_recorded_states_equal_the_env_observations(played):
    from gbc.emulated_render import EmulatedRenderer

    adapter, setup, play = played
    variables = adapter.variables
    names = [v.name for v in variables]
    assert {"ball_x", "ball_y", "paddle_x", "lives", "score", "bricks[0]", "bricks[107]"} <= set(names)
    renderer = EmulatedRenderer("breakout")
    try:
        for i in range(len(play.game)):
            stack, targets = gbc_game.render_stack(renderer, play.states[i], [{}, {}], setup.obs_size, variables)
            assert np.array_equal(stack, play.env_obs[i]), i
            assert np.array_equal(targets, gbc_game.decode(play.shown[i:i + 1], variables)[0])
    finally:
        renderer.close()
    targets = gbc_game.decode(play.shown, variables)
    assert set(targets[:, names.index("lives")]) <= {1, 2, 3} and set(targets[:, names.index("bricks[0]")]) <= {0, 1}


def test_a_position_sweep_translates_the_history_other_kinds_are_set(played):
    from gbc.emulated_render import EmulatedRenderer

    adapter, setup, play = played
    variables, kinds = adapter.variables, play.measured.kinds
    names = [v.name for v in variables]
    k, speed = names.index("ball_x"), names.index("ball_dx")
    written = gbc_game.decode(play.written.reshape(-1, play.written.shape[-1]), variables).reshape(
        len(play.game), 2, -1)
    row = int(np.flatnonzero((written[:, 0, k] > 40) & (written[:, 1, k] < 110)
                             & (written[:, 0, k] != written[:, 1, k]))[0])  # the ball moved between the frames
    moves = gbc_game.stack_overrides(variables, kinds, play.written[row], {k: int(written[row, 1, k]) + 24,
                                                                           speed: 100})
    assert [variables[k].encode(written[row, f, k] + 24) for f in (0, 1)] == \
        [moves[f][variables[k].address] for f in (0, 1)]  # the earlier frame shifted by the same amount
    assert [moves[f][variables[speed].address] for f in (0, 1)] == [variables[speed].encode(100)] * 2
    renderer = EmulatedRenderer("breakout")
    try:
        moves = gbc_game.stack_overrides(variables, kinds, play.written[row], {k: int(written[row, 1, k]) + 24})
        stack, targets = gbc_game.render_stack(renderer, play.states[row], moves, setup.obs_size, variables)
    finally:
        renderer.close()
    changed = stack != play.env_obs[row]
    assert changed[0].any() and changed[1].any()
    shown = gbc_game.decode(play.shown[row:row + 1], variables)[0]
    assert abs(targets[k] - shown[k] - 24) <= 4  # one game step at most
    assert targets[names.index("paddle_x")] == shown[names.index("paddle_x")]


def test_probe_finds_a_unit_planted_with_a_swept_variable(played):
    adapter, setup, play = played
    data = gbc_game.build_probe_data(play, setup, adapter.profile, adapter.variables, num_bases=4, sweep_count=3,
                                     joint_positions=2, seed=0, group_steps=4)
    names = [v.name for v in adapter.variables]
    k = names.index("ball_x")
    n_play = len(play.game)
    assert np.array_equal(data.group[n_play:], data.group[data.base[n_play:]])
    swept = {names[i] for i in np.unique(data.variable[data.kind == gbc_game.KIND_SWEEP])}
    assert swept == {n for n, ok in zip(names, play.measured.sweepable()) if ok} and "score" not in swept
    assert data.sweep_source["ball_x"] == "observed" and data.sweep_source["score"] == "play only"
    sweeps = np.flatnonzero(data.kind == gbc_game.KIND_SWEEP)
    for base, k in {(data.base[i], data.variable[i]) for i in sweeps}:  # every kept sweep drew its values
        rows = sweeps[(data.base[sweeps] == base) & (data.variable[sweeps] == k)]
        assert len(rows) == 1 or (data.obs[rows, -1] != data.obs[rows[0], -1]).any(), names[k]
    rng = np.random.default_rng(0)
    acts = np.concatenate([rng.standard_normal((len(data.obs), 5)), data.targets[:, k:k + 1] * 0.1], axis=1)
    chosen = [k, names.index("paddle_x")]
    fit = fit_probes(acts, data.targets[:, chosen], split_by_group(data.group, 0), np.array([False, False]))
    assert fit.test_score[0] > 0.99
    assert np.abs(unit_correlations(acts, data.targets[:, chosen])[5]).argmax() == 0


def test_a_position_drawn_on_events_is_measured_from_play():
    # a tile drawn at column 4 * food (as a snake's food is drawn when placed: writing it draws nothing), a score drawn
    # brighter in one place as it grows, and a random byte the screen does not show
    rng = np.random.default_rng(0)
    n, size = 400, 40
    food, score, noise = rng.integers(0, 8, n), np.sort(rng.integers(0, 50, n)), rng.integers(0, 256, n)
    obs = np.zeros((n, 1, size, size), np.uint8)
    for i in range(n):
        obs[i, 0, 20:23, 4 * food[i]:4 * food[i] + 3] = 200
        obs[i, 0, 2, 30] = 4 * score[i]
        obs[i, 0, 10:12, 5:7] = rng.integers(0, 30)
    variables = [gbc_game.Variable(name, 0xC0A0 + k, 1, False, False, 0, 255, "value")
                 for k, name in enumerate(("food_x", "score", "seed"))]
    play = gbc_game.GBCPlay(states=[], written=np.zeros((n, 1, 3), np.uint8),
                            shown=np.stack([food, score, noise], axis=1).astype(np.uint8), env_obs=obs,
                            game=np.zeros(n, int), step=np.arange(n), mean_return=0.0, episodes=0)
    slope = gbc_game.measure_play_drawing(play, variables, np.ones(3, bool))
    # 4 observation px per unit along x = 16 screen px on a 160-px-wide screen seen as 40 px; nothing along y
    assert slope[0, 0] == pytest.approx(4 * 160 / size, rel=0.05) and slope[0, 1] == 0
    assert (slope[1:] == 0).all()
    kinds = gbc_game.refine_kinds(play, variables, np.zeros((3, 2)), slope)
    assert kinds[0] == "position" and kinds[1] != "position" and kinds[2] != "position"
    # not measured (the screen test found it drawn at once, so its sweeps say where it is): no slope from play
    assert (gbc_game.measure_play_drawing(play, variables, np.zeros(3, bool)) == 0).all()
    measured = gbc_game.Measured(changed=np.zeros(3), slope=np.zeros((3, 2)), kinds=kinds,
                                 controlled=np.zeros(3), play_slope=slope)
    assert measured.drawn_on_events().tolist() == [True, False, False]
    assert measured.on_screen().tolist() == [True, False, False]


def test_play_leaves_out_the_sprites_drawn_at_once_and_the_ends_of_a_range():
    """An obstacle drawn on events at column 4 * x, and a player sprite drawn at once (its pixels the screen test
    found) that jumps, big and bright, while the obstacle is near: play sees the obstacle as a position only with the
    player's pixels left out. In the nearest bin the obstacle hides behind the player, and the other obstacle on the
    screen is what that bin differs by."""
    rng = np.random.default_rng(1)
    n, size = 800, 42
    x = rng.integers(1, 10, n)
    obs = np.zeros((n, 1, size, size), np.uint8)
    for i in range(n):
        if x[i] > 1:
            obs[i, 0, 30:33, 4 * x[i]:4 * x[i] + 3] = 150
        else:
            obs[i, 0, 30:33, 38:41] = 150  # the next obstacle but one
        top = 4 if x[i] <= 5 else 20  # the player jumps over a near obstacle
        obs[i, 0, top:top + 10, 0:6] = 255
    variables = [gbc_game.Variable("obstacle_x", 0xC0A0, 1, False, False, 0, 255, "value")]
    play = gbc_game.GBCPlay(states=[], written=np.zeros((n, 1, 1), np.uint8), shown=x[:, None].astype(np.uint8),
                            env_obs=obs, game=np.zeros(n, int), step=np.arange(n), mean_return=0.0, episodes=0)
    player = np.zeros((gbc_game.SCREEN_HEIGHT, gbc_game.SCREEN_WIDTH), bool)
    player[:120, :24] = True  # its screen pixels: 6 of 42 observation columns = 22.9 of 160 screen columns
    obstacle = 4 * 160 / size  # screen px per unit
    # with the player's pixels, every bin's region is mostly the player's: no line at the obstacle's slope
    assert gbc_game.measure_play_drawing(play, variables, np.ones(1, bool))[0, 0] < obstacle / 4
    slope = gbc_game.measure_play_drawing(play, variables, np.ones(1, bool), excluded=player)
    assert slope[0, 0] == pytest.approx(obstacle, rel=0.05) and slope[0, 1] == 0


def test_only_the_positions_drawn_at_once_are_left_out_of_play():
    """A sprite that moves with its variable is left out; a game state whose write redraws the whole screen, and a
    variable the screen test did not find drawn, are not."""
    drawn = np.zeros((3, gbc_game.SCREEN_HEIGHT, gbc_game.SCREEN_WIDTH), bool)
    drawn[0, 10:20, 30:40] = True  # the player's sprite
    drawn[1] = True  # the game state: everything redrawn
    drawn[2, 0:5, 0:5] = True  # written once in six tries: not sweepable
    changed = np.array([1.0, 1.0, 1 / 6])
    slope = np.array([[0.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
    assert np.array_equal(gbc_game.positions_drawn_at_once(changed, slope, drawn), drawn[0])


def test_the_play_line_leaves_out_only_the_ends():
    x = np.arange(8.0)
    line = 3 * x + 2
    assert gbc_game.play_line_slope(x, line) == pytest.approx(3)
    for wrong in ([0], [7], [0, 7]):  # the lowest, the highest, both: still the line
        y = line.copy()
        y[wrong] = 60
        assert gbc_game.play_line_slope(x, y) == pytest.approx(3)
    y = line.copy()
    y[3] = 40  # one point off the line inside the range: no line
    assert gbc_game.play_line_slope(x, y) == 0
    y = line[:6].copy()
    y[[0, 5]] = 60  # six points: leaving out both ends would keep four, fewer than five
    assert gbc_game.play_line_slope(x[:6], y) == 0


def test_a_position_drawn_on_events_is_mapped_against_where_play_draws_it():
    """The screen map of a position the game draws only on events: its reference is where play draws its value (the
    planted square A of tests/test_screen_maps.py, seen only through play), which the planted direction recovers."""
    from test_screen_maps import PLANTED_ROWS, SIZE, draw, planted_network

    from agents.probing.screen_maps import ScreenPerturbations, map_variable

    rng = np.random.default_rng(0)
    n = 400
    a, b = rng.integers(2, 12, n), rng.integers(1, 12, n)
    variables = [gbc_game.Variable("a_x", 0xC0A0, 1, False, False, 0, 255, "position")]
    play = gbc_game.GBCPlay(states=[], written=np.zeros((n, 1, 1), np.uint8), shown=a[:, None].astype(np.uint8),
                            env_obs=draw(SIZE, a, b), game=np.zeros(n, int), step=np.arange(n), mean_return=0.0,
                            episodes=0)
    states = np.arange(0, n, 20)
    regions = gbc_game.play_regions(play, variables, 0, states)
    assert regions.shape == (len(states), 144, 160) and regions.any(axis=(1, 2)).all()
    rows = np.flatnonzero(regions.any(axis=(0, 2)))  # A's rows only: the distractor B is not drawn by A's value
    assert rows.min() >= PLANTED_ROWS[0] * 144 // SIZE - 1 and rows.max() <= PLANTED_ROWS[1] * 144 // SIZE + 1
    for region, x in zip(regions, a[states]):  # each state's region touches where its A is drawn (2 px wide)
        assert region[PLANTED_ROWS[0] * 144 // SIZE + 1, x * 160 // SIZE:(x + 2) * 160 // SIZE].any()
    agent, layer, direction = planted_network()
    data = ScreenPerturbations(obs=play.env_obs[states][:, None], changed=regions,
                               screen=np.zeros((len(states), 144, 160), np.uint8), reference_source="play")
    found = map_variable(agent, layer, direction, data, "a_x")
    assert found.reference_source == "play" and found.hits.size == len(states)
    assert found.hit_rate >= 0.8 and found.iou >= 0.5


def test_a_sweep_the_game_does_not_draw_in_its_state_is_left_out():
    newest = np.zeros((6, 3, 3), np.uint8)
    newest[4, 1, 1] = 9
    jobs = [(base, gbc_game.KIND_SWEEP, 0, {0: value}) for base in (0, 1) for value in range(3)]
    assert gbc_game.drawn_sweeps(newest, jobs).tolist() == [False] * 3 + [True] * 3
    # the runner's height is drawn while it stands and not while it ducks (the ducking sprite has its own row)
    from gbc.emulator import GameBoy

    runner = GameBoy("runner")
    states = {}
    try:
        runner.restart(seed=0)
        for name, buttons in (("ducking", ("DOWN",)), ("standing", ())):
            runner.hold(buttons)
            runner.tick(12, False)
            assert runner.read("ducking") == (name == "ducking")
            states[name] = runner.save_state()
    finally:
        runner.close()
    renderer = EmulatedRenderer("runner")
    try:
        for name, state in states.items():
            frames = np.stack([renderer.render(state, {"player_y": y}) for y in (70, 85, 100)])
            assert gbc_game.drawn_sweeps(frames, [(0, gbc_game.KIND_SWEEP, 0, {})] * 3).all() == (name == "standing")
    finally:
        renderer.close()


def _causal_row(name: str, layer: str, direction: str, effect: float) -> dict:
    return {"variable": name, "layer": layer, "direction": direction, "policy_effect_mean": effect,
            "policy_success": np.nan, "policy_success_seed_std": np.nan}


def test_generic_causal_bar_needs_the_policy_to_move_more_than_random():
    causal = [_causal_row("a", "fc1", "probe", 0.3), _causal_row("a", "fc1", "meandiff", 0.1),
              _causal_row("a", "fc1", "random", 0.1), _causal_row("b", "fc1", "probe", 0.05),
              _causal_row("b", "fc1", "meandiff", 0.04), _causal_row("b", "fc1", "random", 0.1)]
    bars = measure_bars([], {}, causal, [], ["a", "b"], {})
    assert bars["causal_generic"]["a"]["pass"] and bars["causal_generic"]["a"]["ratio"] == pytest.approx(3)
    assert not bars["causal_generic"]["b"]["pass"] and bars["causal"] == {}
    assert any(line.startswith("bar causal (policy moves more than random) a: fc1 probe") for line in bar_lines(bars))


def test_probe_and_report_end_to_end(tmp_path):
    checkpoint = save_checkpoint(tmp_path / "model.pt", tiny_agent(), None,
                                 {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS})
    out = tmp_path / "probe"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    # run outside the repository, so that no step 06 file of a researcher's own runs is found
    probe = subprocess.run([sys.executable, str(ROOT / "scripts" / "07_probe.py"), "--checkpoint", str(checkpoint),
                            "--out-dir", str(out), *TINY], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
    assert probe.returncode == 0, probe.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["arrays"]["bricks"]["shape"] == [6, 18]
    assert summary["addresses"]["ball_x"] == "0xC0A6" and summary["addresses"]["bricks[0]"] == "0xC0B6"
    assert summary["data"]["sweep_samples"] > 0 and summary["bars"]["variables_total"] == 126
    assert set(summary["key_variables"]) == {"ball_x", "ball_y", "paddle_x"}
    assert "positions" in summary["key_variables_source"]
    assert summary["policy_signs"] == {"paddle_x": -1, "ball_x": 1}
    # game_state stays "playing" through these short games: listed as constant on the test split, not unscored
    assert "game_state" in summary["bars"]["variables_constant_on_test"]
    assert summary["bars"]["variables_scored"] + len(summary["bars"]["variables_constant_on_test"]) == 126
    units = (out / "unit_labels.csv").read_text().splitlines()
    assert units[0].split(",")[:5] == ["layer", "unit", "index", "variable", "address"]
    assert all(line.split(",")[4].startswith("0x") for line in units[1:] if line.split(",")[3])
    causal = (out / "causal.csv").read_text()
    assert ",ball_x,random," in causal and ",paddle_x,probe," in causal and ",ball_y,probe," in causal
    assert "ball_y" in summary["bars"]["causal_generic"]
    # the screen maps compare with the game's own 160x144 screen, the agent seeing 32x32
    maps = np.load(out / "screen_maps.npz")
    assert maps["ball_x/reference"].shape == maps["ball_x/conv1/probe/gradient_x_foreground"].shape == (144, 160)
    assert maps["paddle_x/reference"].max() > 0
    visualise = subprocess.run([sys.executable, str(ROOT / "scripts" / "08_visualise.py"), "--probe-dir", str(out),
                                "--gbc-regions-dir", ""], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=600)
    assert visualise.returncode == 0, visualise.stderr[-3000:]
    page = (out / "report.html").read_text()
    assert "0xC0A6" in page and "The 108 bricks" in page


def test_checkpoints_and_names_that_do_not_fit_are_clear_errors():
    memory = MLPAgent((127,), 3)
    with pytest.raises(ProbeError, match="memory agent"):
        gbc_game.setup_for_checkpoint("GBCBreakout-v0", memory,
                                      {"env_id": "GBCBreakout-v0", "env_kwargs": {"obs_type": "state"}}, "ckpt")
    with pytest.raises(ProbeError, match=r"takes observations \[2, 32, 32\].*gives \[2, 40, 40\]"):
        gbc_game.setup_for_checkpoint("GBCBreakout-v0", tiny_agent(),
                                      {"env_id": "GBCBreakout-v0", "env_kwargs": {**KWARGS, "obs_size": 40}}, "ckpt")
    checkpoint = {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS}
    for config, message in ((ProbeConfig(variables=("ball_z",)), r"unknown variable\(s\) \['ball_z'\]"),
                            (ProbeConfig(layers=("conv7",)), r"no layer named \['conv7'\]")):
        with pytest.raises(ProbeError, match=message):
            run_probe(tiny_agent(), checkpoint, "ckpt", config)
