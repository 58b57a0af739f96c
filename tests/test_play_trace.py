"""agents.play_trace (scripts/evaluate.py --trace): a tiny untrained agent's games on the runner, read back from RAM
after every step and summarised; names that do not fit are clear errors."""

import numpy as np
import pytest
import torch

from agents.networks import CNNAgent, MLPAgent
from agents.play_trace import summarise_trace, trace_games, trace_rows
from breakout_py.errors import UserError

KWARGS = {"obs_type": "pixels", "obs_size": 32, "frame_stack": 2, "frame_skip": 4}


def tiny_agent() -> CNNAgent:
    torch.manual_seed(0)
    return CNNAgent((2, 32, 32), 3, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16).eval()


def test_trace_reads_each_step_after_its_action():
    trace = trace_games(tiny_agent(), "GBCRunner-v0", KWARGS, ["ducking", "player_y"], games=2, seed=3)
    names = trace["action_names"]
    ducking, player_y = trace["values"].T
    assert set(np.unique(trace["game"])) == {0, 1} and trace["step"][0] == 0
    # the game sets `ducking` while DOWN is held on the ground: read after the step, it follows that step's action
    assert (ducking == 1).any() and (trace["action"][ducking == 1] == names.index("DUCK")).all()
    assert (player_y[ducking == 1] == player_y.max()).all()  # ducking on the ground: the standing row
    for game in (0, 1):
        steps = trace["game"] == game
        assert trace["returns"][game] == trace["reward"][steps].sum()
        assert np.array_equal(trace["step"][steps], np.arange(steps.sum()))
    summary = summarise_trace(trace)
    assert summary["steps"] == trace["step"].size and sum(summary["actions"].values()) == pytest.approx(1, abs=1e-3)
    assert summary["variables"]["ducking"]["shares"].keys() == {0, 1}
    assert sum(summary["variables"]["ducking"]["at_end"].values()) == pytest.approx(1)
    header, rows = trace_rows(trace)
    assert header == ["game", "step", "action", "reward", "ducking", "player_y"] and len(rows) == trace["step"].size
    again = trace_games(tiny_agent(), "GBCRunner-v0", KWARGS, ["ducking", "player_y"], games=2, seed=3)
    assert np.array_equal(again["values"], trace["values"])  # seeded: the same games


def test_names_and_envs_that_do_not_fit_are_clear_errors():
    with pytest.raises(UserError, match=r"no RAM variables \['player_z'\]"):
        trace_games(tiny_agent(), "GBCRunner-v0", KWARGS, ["player_y", "player_z"], games=1, seed=0)
    with pytest.raises(UserError, match="not a Game Boy env"):
        trace_games(MLPAgent((120,), 3, hidden_sizes=(8,)), "BreakoutPy-v0", {"obs_type": "state"}, ["ball_x"], 1, 0)
    with pytest.raises(UserError, match="at least 1"):
        trace_games(tiny_agent(), "GBCRunner-v0", KWARGS, ["player_y"], games=0, seed=0)
