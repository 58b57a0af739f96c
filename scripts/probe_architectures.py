"""Which conv trunk keeps the key variables linearly readable? Probes of untrained (random-weights) networks of
candidate shapes, and of a trained agent, on the same probe data; one JSON line per (network, init seed).

    .venv/bin/python scripts/probe_architectures.py                       # states from the shipped pixel agent's play
    .venv/bin/python scripts/probe_architectures.py --checkpoint runs/<run>/model.pt --init-seeds 1 2 3

The data are step 07's (agents.probing.python_breakout: play of the agent, sweeps, the ball grid), rendered at each
trunk's frame size; the probes are step 07's ridge probes, scored with R^2 on its held-out split. A random-weights
network is the control of step 07, so a trunk whose random first layer already reads a variable poorly leaves a
trained agent little room above it. Used to choose the pixel agent's trunk (agents/trained/results/
training_breakoutpy.md, "The pixel agent's first layer").
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import tyro

import breakout_py
from agents.networks import build_network
from agents.probing.game import ProbeConfig, with_game_defaults
from agents.probing.pipeline import load_probe_agent
from agents.probing.probes import check_variables, find_layers, fit_probes, record_activations, split_by_group
from agents.probing.python_breakout import ADAPTER, VARIABLES, build_probe_data, collect_play, setup_for_checkpoint
from breakout_py.errors import UserError, run_script
from breakout_py.files import atomic_write, json_line

TRUNKS = {  # name: (frame size, CNNAgent kwargs); 2 stacked frames each
    "42 two-layer 6x6/3 4x4/2": (42, dict(channels=(16, 32), kernels=(6, 4), strides=(3, 2), hidden_size=128)),
    "42 two-layer 4x4/2 5x5/3": (42, dict(channels=(16, 32), kernels=(4, 5), strides=(2, 3), hidden_size=128)),
    "42 two-layer 4x4/2 4x4/2": (42, dict(channels=(16, 32), kernels=(4, 4), strides=(2, 2), hidden_size=128)),
    "42 two-layer-wide 6x6/3 4x4/2": (42, dict(channels=(32, 32), kernels=(6, 4), strides=(3, 2), hidden_size=128)),
    "84 two-layer 8x8/4 4x4/2": (84, dict(channels=(16, 32), kernels=(8, 4), strides=(4, 2), hidden_size=256)),
    "84 nature 8x8/4 4x4/2 3x3/1": (84, dict(channels=(32, 64, 64), kernels=(8, 4, 3), strides=(4, 2, 1),
                                             hidden_size=512)),
}


@dataclass
class Args:
    checkpoint: str = ""
    """the pixel agent whose play gives the states (and which is probed too); empty: the shipped one"""
    trunks: tuple[str, ...] = ()
    """names of TRUNKS to probe with random weights; empty: all"""
    init_seeds: tuple[int, ...] = field(default_factory=lambda: (1, 2))
    """torch seeds of the random initialisations (seed 1 is step 07's control for its default seed 0)"""
    variables: tuple[str, ...] = ("ball_x", "ball_y", "paddle_x")
    """variables to probe (breakout_py.STATE_NAMES)"""
    out: str = "artifacts/probe/architectures.jsonl"
    """where the JSON lines are written as well"""
    torch_threads: int = 1


def _scores(network: torch.nn.Module, obs: np.ndarray, targets: np.ndarray, split: np.ndarray,
            config: ProbeConfig) -> dict[str, list[float]]:
    hidden = [layer for layer in find_layers(network, obs.shape[1:]) if layer.name not in ("actor", "critic")]
    acts = record_activations(network, hidden, obs)
    binary = np.zeros(targets.shape[1], dtype=bool)
    return {layer.name: [round(float(s), 4) for s in fit_probes(acts[layer.name], targets, split, binary,
                                                               max_train=config.max_train, pcs=config.pcs,
                                                               seed=config.seed).test_score] for layer in hidden}


def main(args: Args) -> list[dict]:
    torch.set_num_threads(args.torch_threads)
    unknown = [name for name in args.trunks if name not in TRUNKS]
    if unknown:
        raise UserError(f"unknown trunk(s) {unknown}; choose from {list(TRUNKS)}")
    variables = check_variables(args.variables, VARIABLES)
    agent, checkpoint, source, _ = load_probe_agent(args.checkpoint, breakout_py.ENV_ID)
    setup = setup_for_checkpoint(agent, checkpoint, source)
    config = with_game_defaults(ProbeConfig(), ADAPTER.defaults)
    play = collect_play(agent, setup, config.num_games, config.num_steps, config.keep_every, config.seed)
    columns = [breakout_py.STATE_INDEX[name] for name in variables]
    data_by_size = {}

    def data_for(size: int):
        if size not in data_by_size:  # the same states (same play and seeds), drawn at this frame size
            data = build_probe_data(play, dataclasses.replace(setup, obs_size=size), config.num_bases,
                                    config.sweep_count, config.brick_patterns, config.toggle_bases, config.seed,
                                    config.group_steps, config.joint_positions)
            data_by_size[size] = (data.obs, data.targets[:, columns], split_by_group(data.group, config.seed))
        return data_by_size[size]

    rows = []
    obs, targets, split = data_for(setup.obs_size)
    rows.append({"network": f"trained: {source}", "obs_shape": list(obs.shape[1:]), "init_seed": None,
                 "r2": _scores(agent, obs, targets, split, config)})
    print(json_line(rows[-1]), flush=True)
    for name in args.trunks or TRUNKS:
        size, kwargs = TRUNKS[name]
        obs, targets, split = data_for(size)
        for seed in args.init_seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                network = build_network({"type": "cnn", "obs_shape": list(obs.shape[1:]),
                                         "n_actions": len(setup.action_meanings), **kwargs}).eval()
            rows.append({"network": f"random weights: {name}", "obs_shape": list(obs.shape[1:]),
                         "init_seed": seed, "r2": _scores(network, obs, targets, split, config)})
            print(json_line(rows[-1]), flush=True)
    out = atomic_write(args.out, "".join(json_line({**row, "variables": variables,
                                                    "time": time.strftime("%Y-%m-%d %H:%M")}) + "\n" for row in rows))
    print(f"wrote {out} ({len(rows)} lines; R^2 per layer in the order of 'variables')")
    return rows


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
