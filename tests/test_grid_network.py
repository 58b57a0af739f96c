"""The memory agent's grid network (agents.networks.GridAgent): the planes it convolves are the game's playfield as
the RAM holds it, its config rebuilds it, games without a grid refuse it, and step 06 ranks its inputs."""

from __future__ import annotations

import dataclasses
import json

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn as nn

import gbc  # noqa: F401  (registers the GBC env ids)
from agents.networks import GridAgent, MLPAgent, build_network
from agents.presets import MemoryArgs, memory_network
from agents.probing.game import ProbeConfig, key_variables_of
from agents.probing.key_variable_games import features_for_env, grids_as_features
from agents.probing.key_variables import Feature, permutation_importance
from agents.trainer import with_grid_layouts
from breakout_py.errors import UserError
from gbc.hardware import ram_obs_index
from gbc.profiles import Grid, ProfileError, get_profile, load_profile_file


@pytest.mark.parametrize("scaling", ["arrays", "thermometer"])
def test_snake_planes_are_the_board_body_food_and_head_in_ram(scaling):
    env = gym.make("GBCSnake-v0", obs_type="state", state_scaling=scaling)
    game = env.unwrapped
    profile = game.profile
    (layout,) = game.grid_layouts()
    agent = GridAgent(env.observation_space.shape, 5, [layout])
    at = {name: ram_obs_index(profile.address(name)) for name in ("board", "body_x", "body_y", "head_index")}
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    heads, foods = set(), 0
    try:
        for _ in range(150):
            ram = game.game.ram.read()
            board = ram[at["board"]:at["board"] + 252].reshape(14, 18)
            head = int(ram[at["head_index"]])
            head_cell = (int(ram[at["body_y"] + head]), int(ram[at["body_x"] + head]))
            planes = agent.planes(torch.as_tensor(obs)[None], 0)[0].numpy()
            assert planes.shape == (3, 14, 18)
            np.testing.assert_array_equal(planes[0], board == 1)
            np.testing.assert_array_equal(planes[1], board == 2)
            assert planes[2].sum() == 1 and planes[2][head_cell] == 1
            heads.add(head_cell)
            foods += int((board == 2).any())
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(1, 5)))
            if terminated or truncated:
                obs, _ = env.reset(seed=int(rng.integers(100)))
    finally:
        env.close()
    assert len(heads) > 10 and foods > 100  # the head moved about and the food was on the board


def test_a_grid_agent_rebuilds_from_its_config_and_keeps_a_missing_cell_empty():
    layout = {"name": "g", "height": 2, "width": 3, "cells": [0, 1, 2, 3, 4, -1], "cell_low": [0.0] * 6,
              "cell_span": [2.0] * 6, "codes": [1, 2],
              "markers": [{"x": 5, "x_low": 0.0, "x_span": 2.0, "y": 6, "y_low": 0.0, "y_span": 1.0}]}
    torch.manual_seed(0)
    agent = GridAgent((7,), 3, [layout], channels=(4, 4), strides=(1, 2), hidden_size=8)
    rebuilt = build_network(agent.config)
    rebuilt.load_state_dict(agent.state_dict())
    x = torch.tensor([[0.5, 1.0, 0.0, 0.5, 1.0, 1.0, 1.0]])  # cells 1 2 0 / 1 2 (absent); marker at column 2, row 1
    planes = agent.planes(x, 0)[0]
    torch.testing.assert_close(planes[0], torch.tensor([[1.0, 0, 0], [1, 0, 0]]))
    torch.testing.assert_close(planes[1], torch.tensor([[0.0, 1, 0], [0, 1, 0]]))
    torch.testing.assert_close(planes[2], torch.tensor([[0.0, 0, 0], [0, 0, 1]]))
    torch.testing.assert_close(rebuilt.policy_logits(x), agent.policy_logits(x))
    with pytest.raises(ValueError, match="lists 5 cells"):
        GridAgent((7,), 3, [{**layout, "cells": layout["cells"][:5]}])


def test_games_without_a_grid_refuse_the_grid_network():
    with pytest.raises(UserError, match="names no grid.*--network mlp"):
        with_grid_layouts({"type": "grid"}, "GBCPong-v0", {"obs_type": "state"})
    with pytest.raises(UserError, match="no grid layouts.*--network mlp"):
        with_grid_layouts({"type": "grid"}, "CartPole-v1", {})
    with pytest.raises(UserError, match="obs_type='state'"):
        with_grid_layouts({"type": "grid"}, "GBCSnake-v0", {"obs_type": "ram"})
    with pytest.raises(UserError, match="--network must be one of"):
        memory_network(MemoryArgs(network="conv"))
    assert memory_network(MemoryArgs(network="grid"))["strides"] == [1, 2]


def test_a_grid_of_the_wrong_size_is_refused():
    with pytest.raises(ProfileError, match="18 x 13 cells needs 234 bytes, the variable has 252"):
        dataclasses.replace(get_profile("snake"), grids=(Grid("board", 18, 13),))
    with pytest.raises(ProfileError, match="no_such_byte"):
        dataclasses.replace(get_profile("snake"), grids=(Grid("board", 18, 14, (("no_such_byte", "food_y"),)),))


class _Head(nn.Module):
    """A head that is not an nn.Sequential, so step 06 cannot take the MLP fast path."""

    def __init__(self, sequential: nn.Sequential):
        super().__init__()
        self.inner = sequential

    def forward(self, x):
        return self.inner(x)


class _WholeNetwork(nn.Module):
    """An MLP agent behind the interface of a network that runs whole (shared features, then actor and critic)."""

    def __init__(self, mlp: MLPAgent):
        super().__init__()
        self.config = mlp.config
        self.actor, self.critic = _Head(mlp.actor), _Head(mlp.critic)

    def shared_features(self, x):
        return x


def test_step_06_ranks_a_whole_network_as_the_mlp_fast_path_does():
    torch.manual_seed(0)
    mlp = MLPAgent((5,), 3, hidden_sizes=(8,)).eval()
    with torch.no_grad():
        mlp.actor[0].weight[:, 2] *= 20.0  # input 2 dominates the policy
    obs = np.random.default_rng(1).uniform(0, 1, (200, 5)).astype(np.float32)
    features = [Feature(f"x{i}", f"state[{i}]", f"x{i}", "scalar") for i in range(5)]
    fast = permutation_importance(mlp, obs, features, repeats=2, bootstrap=50, seed=3)
    slow = permutation_importance(_WholeNetwork(mlp), obs, features, repeats=2, bootstrap=50, seed=3)
    np.testing.assert_allclose(slow.policy, fast.policy, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(slow.value, fast.value, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(slow.grad_x_input, fast.grad_x_input, rtol=1e-4, atol=1e-7)
    assert slow.rank[2] == 1


def test_a_user_profile_file_names_the_same_grid(tmp_path):
    snake = get_profile("snake")
    names = ("game_state", "score", "rng_state", "board", "body_x", "body_y", "head_index")
    user = {"name": "mysnake", "rom": str(snake.rom_path), "sha1": snake.sha1,
            "variables": {n: {"address": hex(snake.address(n)), "size": snake.variables[n].size} for n in names},
            "score": "score", "seed_variable": "rng_state",
            "start_sequence": [{"frames": 120}, {"frames": 2, "buttons": ["start"]}],
            "in_play": {"variable": "game_state", "op": "==", "value": 1},
            "game_over": {"variable": "game_state", "op": "==", "value": 2},
            "actions": [[], ["up"], ["down"], ["left"], ["right"]],
            "grids": [{"array": "board", "width": 18, "height": 14,
                       "markers": [["body_x[head_index]", "body_y[head_index]"]]}]}
    path = tmp_path / "mysnake.profile.json"
    path.write_text(json.dumps(user))
    envs = [gym.make("GBC-v0", profile=str(path), obs_type="state"), gym.make("GBCSnake-v0", obs_type="state")]
    try:
        assert envs[0].unwrapped.grid_layouts() == envs[1].unwrapped.grid_layouts()
    finally:
        for env in envs:
            env.close()
    path.write_text(json.dumps({**user, "grids": [{"array": "board", "width": 18, "height": 14, "markers": [["x"]]}]}))
    with pytest.raises(ProfileError, match=r"grids\[0\].markers must be \[column variable, row variable\] pairs"):
        load_profile_file(path)
    path.write_text(json.dumps({**user, "grids": [{"array": "board", "widht": 18, "height": 14}]}))
    with pytest.raises(ProfileError, match="widht"):
        load_profile_file(path)


def test_step_06_ranks_a_grid_as_one_feature_and_07_does_not_probe_it(tmp_path):
    env_kwargs = {"obs_type": "state", "state_scaling": "arrays"}
    feature_set = features_for_env("GBCSnake-v0", env_kwargs)
    env = gym.make("GBCSnake-v0", **env_kwargs)
    try:
        agent = GridAgent(env.observation_space.shape, 5, env.unwrapped.grid_layouts())
    finally:
        env.close()
    grouped = grids_as_features(feature_set, agent)
    (board,) = [f for f in grouped.features if f.kind == "grid"]
    at = grouped.features.index(board)
    assert (board.name, board.symbol, board.addresses) == ("board", "board", "0xC2A8-0xC3A3")
    assert sorted(grouped.columns[at].tolist()) == sorted(c for c in agent.config["grids"][0]["cells"])
    assert len(grouped.features) == len(feature_set.features) - 251
    assert sorted(np.concatenate(grouped.columns).tolist()) == list(range(env.observation_space.shape[0]))
    assert grids_as_features(feature_set, MLPAgent((781,), 5)) is feature_set
    csv_path = tmp_path / "key_variables.csv"
    csv_path.write_text("feature,addresses,kind,rank\nboard,0xC2A8-0xC3A3,grid,1\nfood_x,0xC3A4,byte,2\n")
    config = ProbeConfig(key_variables_csv=str(csv_path))
    assert key_variables_of(config, "GBCSnake-v0", lambda address: f"owner of {address}") == (
        ("owner of 0xC3A4",), f"step 06: {csv_path}")
