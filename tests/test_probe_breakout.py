"""Python Breakout probe data: frame stacks equal what the agent saw, sweeps keep histories consistent, screen
regions sit where the renderer draws each variable, and checkpoints that do not fit are clear errors."""

import numpy as np
import pytest
import torch

import breakout_py
from breakout_py import core
from agents.networks import CNNAgent, MLPAgent
from agents.probing.game import KIND_PLAY
from agents.probing.probes import ProbeError
from agents.probing.python_breakout import (KIND_BALL_GRID, KIND_BRICK_TOGGLE, KIND_SWEEP, build_probe_data,
                                            collect_play, render_stacks, screen_regions, set_variable,
                                            setup_for_checkpoint, take)

KWARGS = {"obs_type": "pixels", "obs_size": 20, "frame_stack": 3, "frame_skip": 4}


def tiny_agent(obs_shape=(3, 20, 20)) -> CNNAgent:
    torch.manual_seed(0)
    return CNNAgent(obs_shape, 3, channels=(4, 8), kernels=(4, 3), strides=(2, 1), hidden_size=16).eval()


@pytest.fixture(scope="module")
def play():
    agent = tiny_agent()
    setup = setup_for_checkpoint(agent, {"env_id": "BreakoutPy-v0", "env_kwargs": KWARGS}, "tiny")
    return setup, collect_play(agent, setup, num_games=4, num_steps=260, keep_every=1, seed=0, keep_env_obs=True)


def test_stacks_rendered_from_states_equal_the_env_observations(play):
    setup, data = play
    assert data.episodes >= 1  # episode starts (a stack of one repeated frame) are covered
    stacks = render_stacks(breakout_py.Renderer(setup.obs_size), data.history)
    assert stacks.shape == data.env_obs.shape == (len(data.game), 3, 20, 20)
    assert np.array_equal(stacks, data.env_obs)
    assert not data.history[-1].game_over.any()


def _flying(history, rows):
    return np.all([s.serve_timer[rows] == 0 for s in history], axis=0)


def test_translate_rule_moves_the_whole_path(play):
    setup, data = play
    rows = np.flatnonzero(_flying(data.history, slice(None)))[:40]
    before = take(data.history, rows)
    after = set_variable(before, "ball_x", np.full(rows.size, 0.5), setup.frame_skip)
    assert np.allclose(core.state_vector(after[-1])[:, 1], 0.5, atol=1e-6)
    shift = after[-1].ball_x - before[-1].ball_x
    for old, new in zip(before, after):
        inside = (new.ball_x > core.PLAY_LEFT) & (new.ball_x < core.PLAY_RIGHT)
        assert np.allclose((new.ball_x - old.ball_x)[inside], shift[inside], atol=1e-4)
        for name in ("ball_y", "paddle_x", "ball_vx", "bricks", "score", "lives"):  # held exactly, bit for bit
            assert np.array_equal(getattr(new, name), getattr(old, name))


def test_retrace_rule_makes_earlier_positions_follow_the_new_velocity(play):
    setup, data = play
    rows = np.flatnonzero(_flying(data.history, slice(None)))[:40]
    before = take(data.history, rows)
    vx = 0.3
    after = set_variable(before, "ball_vx", np.full(rows.size, vx), setup.frame_skip)
    step = vx * core.MAX_SPEED * setup.frame_skip
    same_ball = np.all([s.lives == after[-1].lives for s in before], axis=0)
    for older, newer in zip(after[:-1], after[1:]):
        far_from_walls = (older.ball_x > core.PLAY_LEFT + 1) & (newer.ball_x < core.PLAY_RIGHT - 1) & \
                         (older.ball_y > core.PLAY_TOP + 1) & (newer.ball_y > core.PLAY_TOP + 1) & same_ball
        assert far_from_walls.sum() > 5
        assert np.allclose((newer.ball_x - older.ball_x)[far_from_walls], step, atol=1e-6)
        assert np.allclose((newer.ball_y - older.ball_y)[far_from_walls],
                           (after[-1].ball_vy * setup.frame_skip)[far_from_walls], atol=1e-6)
    assert np.allclose(after[-1].speed, np.hypot(after[-1].ball_vx, after[-1].ball_vy))  # speed kept consistent


def test_set_rule_changes_every_frame(play):
    setup, data = play
    before = take(data.history, np.arange(10))
    after = set_variable(before, "lives", np.full(10, 1 / 3), setup.frame_skip)
    assert all(np.all(s.lives == 1) for s in after)
    assert all(np.array_equal(a.ball_x, b.ball_x) for a, b in zip(after, before))


def test_screen_regions_sit_where_the_renderer_draws(play):
    setup, data_play = play
    data = build_probe_data(data_play, setup, num_bases=12, sweep_count=4, brick_patterns_per_base=1,
                            toggle_bases=3, seed=0, group_steps=16)
    maps, counts = screen_regions(data)
    renderer = breakout_py.Renderer(setup.obs_size)
    index = breakout_py.STATE_INDEX
    paddle = np.zeros((20, 20), dtype=bool)
    paddle[renderer.paddle_rows] = True
    assert maps[index["paddle_x"]].any() and not maps[index["paddle_x"]][~paddle].any()
    hud = np.zeros((20, 20), dtype=bool)
    hud[renderer.hud_rows] = True
    assert maps[index["score"]].any() and not maps[index["score"]][~hud].any()
    assert not maps[index["ball_x"]][hud].any() and maps[index["ball_x"]].any()
    for name in ("brick_r0_c0", "brick_r3_c7", "brick_r5_c17"):
        only = np.zeros((2, 6, 18), dtype=bool)
        row, col = (int(p[1:]) for p in name.split("_")[1:])
        only[1, row, col] = True
        state = core.state_from_vector(np.zeros((2, core.STATE_DIM)))
        state.bricks[:] = only
        frames = renderer.render(state)
        expected = frames[0] != frames[1]
        assert np.array_equal(maps[index[name]] > 0, expected), name
        assert counts[index[name]] == 3
    # sweeps and toggles inherit their base's block of play, so a split never separates them
    sweeps = np.isin(data.kind, (KIND_SWEEP, KIND_BRICK_TOGGLE))
    assert np.array_equal(data.group[sweeps], data.group[data.base[sweeps]])


def test_ball_grid_places_ball_and_paddle_jointly_inside_the_observed_box(play):
    setup, data_play = play
    data = build_probe_data(data_play, setup, num_bases=10, sweep_count=2, brick_patterns_per_base=0,
                            toggle_bases=0, seed=0, group_steps=16, ball_positions_per_base=5)
    grid = np.flatnonzero(data.kind == KIND_BALL_GRID)
    assert grid.size == 50 and np.all(data.variable[grid] == -1)
    assert np.array_equal(data.group[grid], data.group[data.base[grid]])
    play_rows = data.kind == KIND_PLAY
    for name in ("ball_x", "ball_y", "paddle_x"):
        column = data.targets[:, breakout_py.STATE_INDEX[name]]
        lo, hi = np.quantile(column[play_rows], (0.01, 0.99))
        assert np.all((column[grid] >= lo - 1e-5) & (column[grid] <= hi + 1e-5)), name
        assert np.unique(np.round(column[grid], 4)).size > 25, name  # drawn, not copied from the bases
    held = [breakout_py.STATE_INDEX[n] for n in ("score", "lives", "ball_vx", "ball_vy")]
    assert np.array_equal(data.targets[grid][:, held], data.targets[data.base[grid]][:, held])
    # the ball is drawn where the grid put it, in the current frame of the stack
    renderer = breakout_py.Renderer(setup.obs_size)
    state = core.state_from_vector(data.targets[grid])
    assert np.array_equal(data.obs[grid, -1] == renderer.render(state), np.ones_like(data.obs[grid, -1], bool))


def test_checkpoints_that_do_not_fit_are_clear_errors():
    agent = tiny_agent()
    with pytest.raises(ProbeError, match="trained on 'CartPole-v1'"):
        setup_for_checkpoint(agent, {"env_id": "CartPole-v1", "env_kwargs": {}}, "ckpt")
    memory = MLPAgent((core.STATE_DIM,), 3)
    with pytest.raises(ProbeError, match="memory agent"):
        setup_for_checkpoint(memory, {"env_id": "BreakoutPy-v0", "env_kwargs": {"obs_type": "state"}}, "ckpt")
    with pytest.raises(ProbeError, match=r"expects observations \[3, 20, 20\].*gives \[3, 24, 24\]"):
        setup_for_checkpoint(agent, {"env_id": "BreakoutPy-v0", "env_kwargs": {**KWARGS, "obs_size": 24}}, "ckpt")


def test_key_variables_come_from_step_06_when_its_file_exists(tmp_path):
    from agents.probing.game import ProbeConfig
    from agents.probing.python_breakout import ADAPTER
    rows = ["feature,addresses,symbol,kind,policy_importance,ci_low,ci_high,value_importance,grad_x_input,rank",
            "ball_vx,state[3],,scalar,5,5,5,0,0,2", "ball_x,state[1],,scalar,9,9,9,0,0,1",
            f"{breakout_py.STATE_NAMES[20]},state[20],,scalar,0.1,0,0,0,0,3", "paddle_x,state[0],,scalar,1,1,1,0,0,4"]
    path = tmp_path / "key_variables.csv"
    path.write_text("\n".join(rows) + "\n")
    spec = ADAPTER.spec(ProbeConfig(key_variables_csv=str(path)))
    assert spec.key_variables == ("ball_x", "ball_vx", breakout_py.STATE_NAMES[20], "paddle_x")
    assert str(path) in spec.key_source
    assert spec.r2_bar == ("ball_x", "paddle_x")  # the R^2 bar holds to the on-screen positions among them
    with pytest.raises(ProbeError, match="does not exist"):
        ADAPTER.spec(ProbeConfig(key_variables_csv=str(tmp_path / "missing.csv")))
    path.write_text("feature,score\nball_x,1\n")
    with pytest.raises(ProbeError, match="not a key_variables.csv"):
        ADAPTER.spec(ProbeConfig(key_variables_csv=str(path)))


def test_every_variable_has_a_kind_in_the_game_boy_adapters_terms():
    from agents.probing.gbc_game import KINDS
    from agents.probing.python_breakout import SPEC
    assert set(SPEC.kinds) == set(breakout_py.STATE_NAMES) and set(SPEC.kinds.values()) <= set(KINDS)
    expected = {"ball_x": "position", "paddle_x": "position", "ball_vy": "velocity", "score": "counter",
                "serve_timer": "counter", "hit_red": "flag", breakout_py.STATE_NAMES[-1]: "array element"}
    assert {name: SPEC.kinds[name] for name in expected} == expected
