"""GBC Breakout pixel probe on a tiny untrained agent: stacks re-rendered from recorded states equal the env's
observations, a ball_x sweep moves the ball in both frames, a planted unit is found, the wall's layout comes from the
symbols file, steps 07 + 08 run end to end (as subprocesses), and checkpoints or names that do not fit are clear
errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.checkpoint import save_checkpoint
from agents.networks import CNNAgent, MLPAgent
from agents.probing.game import ProbeConfig
from agents.probing.games import run_probe
from agents.probing.probes import ProbeError, fit_probes, split_by_group, unit_correlations
from gbc.profiles import BREAKOUT_SYMBOLS, get_profile

ROOT = Path(__file__).resolve().parents[1]

ROM = get_profile("breakout").rom_path
pytestmark = pytest.mark.skipif(not ROM.is_file() or not ROM.with_suffix(".state_spec.json").is_file(),
                                reason=f"needs {ROM} and its state spec (make -C roms)")
KWARGS = {"obs_type": "pixels", "obs_size": 32, "frame_stack": 2, "frame_skip": 4}
TINY = ["--num-games", "2", "--num-steps", "150", "--keep-every", "3", "--num-bases", "6", "--sweep-count", "3",
        "--ball-positions", "2", "--max-train", "400", "--pcs", "16", "--causal-states", "6", "--causal-seeds", "1",
        "--random-directions", "2", "--examples", "2", "--group-steps", "15", "--no-gbc-regions"]


def tiny_agent() -> CNNAgent:
    torch.manual_seed(0)
    return CNNAgent((2, 32, 32), 3, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16).eval()


@pytest.fixture(scope="module")
def played():
    from agents.probing.gbc_breakout import collect_play, load_variables, setup_for_gbc_checkpoint

    agent = tiny_agent()
    setup = setup_for_gbc_checkpoint(agent, {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS}, "tiny")
    variables = load_variables()
    return setup, variables, collect_play(agent, setup, variables, num_games=2, num_steps=40, keep_every=2, seed=0)


def test_stacks_rendered_from_recorded_states_equal_the_env_observations(played):
    from agents.probing.gbc_breakout import decode, render_stack
    from gbc.emulated_render import EmulatedRenderer

    setup, variables, play = played
    names = [v.name for v in variables]
    assert {"ball_x", "ball_y", "paddle_x", "lives", "score", "brick_r0_c0", "brick_r5_c17"} <= set(names)
    renderer = EmulatedRenderer("breakout")
    try:
        for i in range(len(play.game)):
            stack, targets = render_stack(renderer, play.states[i], [{}, {}], setup.obs_size, variables)
            assert np.array_equal(stack, play.env_obs[i]), i
            assert np.array_equal(targets, decode(play.shown[i:i + 1], variables)[0])
    finally:
        renderer.close()
    targets = decode(play.shown, variables)
    assert set(targets[:, names.index("lives")]) <= {1, 2, 3} and set(targets[:, names.index("brick_r0_c0")]) <= {0, 1}


def test_ball_x_sweep_moves_the_ball_in_both_frames(played):
    from agents.probing.gbc_breakout import decode, render_stack, translated
    from gbc.emulated_render import EmulatedRenderer

    setup, variables, play = played
    names = [v.name for v in variables]
    k = names.index("ball_x")
    written = decode(play.written.reshape(-1, play.written.shape[-1]), variables).reshape(len(play.game), 2, -1)
    row = int(np.flatnonzero((written[:, 0, k] > 40) & (written[:, 1, k] < 110))[0])
    renderer = EmulatedRenderer("breakout")
    try:
        moves = translated(variables, play.written[row], {k: int(written[row, 1, k]) + 24})
        assert [variables[k].encode(written[row, f, k] + 24) for f in (0, 1)] == \
            [moves[f][variables[k].address] for f in (0, 1)]  # the earlier frame shifted by the same amount
        stack, targets = render_stack(renderer, play.states[row], moves, setup.obs_size, variables)
    finally:
        renderer.close()
    changed = stack != play.env_obs[row]
    assert changed[0].any() and changed[1].any()
    assert abs(targets[k] - decode(play.shown[row:row + 1], variables)[0, k] - 24) <= 4  # one game step at most
    assert np.array_equal(targets[names.index("paddle_x")], decode(play.shown[row:row + 1], variables)[0,
                          names.index("paddle_x")])


def test_probe_finds_a_unit_planted_with_ball_x(played):
    from agents.probing.gbc_breakout import build_probe_data

    setup, variables, play = played
    data = build_probe_data(play, setup, variables, num_bases=4, sweep_count=3, ball_positions=2, seed=0,
                            group_steps=4)
    names = [v.name for v in variables]
    k = names.index("ball_x")
    assert np.array_equal(data.group[len(play.game):], data.group[data.base[len(play.game):]])
    rng = np.random.default_rng(0)
    acts = np.concatenate([rng.standard_normal((len(data.obs), 5)), data.targets[:, k:k + 1] * 0.1], axis=1)
    chosen = [k, names.index("paddle_x")]
    fit = fit_probes(acts, data.targets[:, chosen], split_by_group(data.group, 0), np.array([False, False]))
    assert fit.test_score[0] > 0.99
    assert np.abs(unit_correlations(acts, data.targets[:, chosen])[5]).argmax() == 0


def test_wall_layout_comes_from_the_symbols_file(tmp_path):
    from agents.probing.gbc_breakout import game_spec, load_variables

    variables = load_variables()
    spec = game_spec(variables)
    wall = spec.arrays["Bricks"]
    assert wall.shape == (6, 18) and wall.names[19] == "brick_r1_c1" and "brick_r1_c1" not in spec.scalars
    # another wall shape in the symbols file, and a brick the spec did not keep: the grid follows, with a hole
    symbols = json.loads(BREAKOUT_SYMBOLS.read_text())
    symbols["constants"].update(BRICK_ROWS=12, BRICK_COLUMNS=9)
    path = tmp_path / "symbols.json"
    path.write_text(json.dumps(symbols))
    kept = [v for v in variables if v.name != "brick_r0_c3"]
    wall = game_spec(kept, path).arrays["Bricks"]
    assert wall.shape == (12, 9) and wall.names[3] == "" and wall.names[1] == "brick_r0_c1"


def test_probe_and_report_end_to_end(tmp_path):
    checkpoint = save_checkpoint(tmp_path / "model.pt", tiny_agent(), None,
                                 {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS})
    out = tmp_path / "probe"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    probe = subprocess.run([sys.executable, "scripts/07_probe.py", "--checkpoint", str(checkpoint), "--out-dir",
                            str(out), *TINY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert probe.returncode == 0, probe.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["arrays"]["Bricks"]["shape"] == [6, 18]
    assert summary["addresses"]["ball_x"] == "0xC0A6" and summary["addresses"]["brick_r0_c0"] == "0xC0B6"
    assert summary["data"]["sweep_samples"] > 0 and summary["bars"]["variables_total"] == 126
    # game_state stays "playing" through these short games: listed as constant on the test split, not unscored
    assert "game_state" in summary["bars"]["variables_constant_on_test"]
    assert summary["bars"]["variables_scored"] + len(summary["bars"]["variables_constant_on_test"]) == 126
    units = (out / "unit_labels.csv").read_text().splitlines()
    assert units[0].split(",")[:5] == ["layer", "unit", "index", "variable", "address"]
    assert all(line.split(",")[4].startswith("0x") for line in units[1:] if line.split(",")[3])
    causal = (out / "causal.csv").read_text()
    assert ",ball_x,random," in causal and ",paddle_x,probe," in causal
    # the screen maps compare with the game's own 160x144 screen, the agent seeing 32x32
    maps = np.load(out / "screen_maps.npz")
    assert maps["ball_x/reference"].shape == maps["ball_x/conv1/probe/gradient_x_foreground"].shape == (144, 160)
    assert maps["paddle_x/reference"].max() > 0
    visualise = subprocess.run([sys.executable, "scripts/08_visualise.py", "--probe-dir", str(out),
                                "--gbc-regions-dir", ""], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=600)
    assert visualise.returncode == 0, visualise.stderr[-3000:]
    page = (out / "report.html").read_text()
    assert "0xC0A6" in page and "probe scores of the bricks" in page and "The 108 bricks" in page


def test_checkpoints_and_names_that_do_not_fit_are_clear_errors():
    from agents.probing.gbc_breakout import setup_for_gbc_checkpoint

    memory = MLPAgent((127,), 3)
    with pytest.raises(ProbeError, match="memory agent"):
        setup_for_gbc_checkpoint(memory, {"env_id": "GBCBreakout-v0", "env_kwargs": {"obs_type": "state"}}, "ckpt")
    with pytest.raises(ProbeError, match=r"takes observations \[2, 32, 32\].*gives \[2, 40, 40\]"):
        setup_for_gbc_checkpoint(tiny_agent(), {"env_id": "GBCBreakout-v0",
                                                "env_kwargs": {**KWARGS, "obs_size": 40}}, "ckpt")
    checkpoint = {"env_id": "GBCBreakout-v0", "env_kwargs": KWARGS}
    for config, message in ((ProbeConfig(variables=("ball_z",)), r"unknown variable\(s\) \['ball_z'\]"),
                            (ProbeConfig(layers=("conv7",)), r"no layer named \['conv7'\]")):
        with pytest.raises(ProbeError, match=message):
            run_probe(tiny_agent(), checkpoint, "ckpt", config)
