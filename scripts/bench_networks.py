"""Update throughput of the agents' networks alone: frames (or state vectors) per second through one PPO-style
forward + backward + Adam step, by network, input and minibatch size. Prints one JSON line per measurement.

    .venv/bin/python scripts/bench_networks.py                    # the pixel candidates and the MLP widths
    .venv/bin/python scripts/bench_networks.py --threads 2 --seconds 3

Besides one fixed minibatch, it times `agents.ppo.ppo_update` on a whole pixel rollout (the pixel preset's frames,
epochs and minibatches, shuffled as in training) in each trunk precision: what the update costs in a training run.

Used to choose the pixel agent's frame and CNN, and the minibatch sizes (agents/trained/results/training_speed.md):
the update is 60-90% of training time on the CPU, and its cost per sample decides how many gradient steps a
second of training buys.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import tyro

from agents.networks import CNNAgent, MLPAgent, trunk_dtype_for, trunk_dtype_name
from agents.ppo import Rollout, ppo_update
from agents.presets import PixelArgs
from breakout_py.errors import run_script
from breakout_py.files import json_line

CNNS = {  # name: (obs shape, CNNAgent kwargs)
    "4x64x64 atari-small (old default)": ((4, 64, 64), dict(channels=(16, 32, 32), kernels=(8, 4, 3),
                                                             strides=(4, 2, 1), hidden_size=256)),
    "2x64x64 atari-small": ((2, 64, 64), dict(channels=(16, 32, 32), kernels=(8, 4, 3), strides=(4, 2, 1),
                                              hidden_size=256)),
    "2x42x42 three-layer 4/2": ((2, 42, 42), dict(channels=(16, 32, 32), kernels=(4, 4, 3), strides=(2, 2, 1),
                                                  hidden_size=256)),
    "4x42x42 two-layer-wide": ((4, 42, 42), dict(channels=(32, 64), kernels=(6, 4), strides=(3, 2), hidden_size=256)),
    "2x42x42 two-layer 6x6/3 (previous default)": ((2, 42, 42), dict(channels=(16, 32), kernels=(6, 4),
                                                                     strides=(3, 2), hidden_size=128)),
    "2x42x42 two-layer 4x4/2 (default)": ((2, 42, 42), dict(channels=(16, 32), kernels=(4, 5), strides=(2, 3),
                                                            hidden_size=128)),
}


@dataclass
class Args:
    seconds: float = 1.5
    """seconds of each measurement"""
    threads: int = 1
    """torch CPU threads"""
    cnn_minibatch: int = 1024
    """minibatch of the CNN comparison"""
    minibatches: tuple[int, ...] = field(default_factory=lambda: (128, 256, 512, 1024, 2048))
    """minibatch sizes measured for the default CNN and each MLP width"""
    trunk_precisions: tuple[str, ...] = ("float32", "bfloat16")
    """conv-trunk dtypes measured for the default CNN (agents/networks.py: auto, float32, bfloat16)"""
    mlp_widths: tuple[int, ...] = field(default_factory=lambda: (64, 128, 256))
    """hidden widths of the MLP (two layers, Python Breakout's 120 inputs)"""
    seed: int = 0


def update_rate(net: torch.nn.Module, obs: torch.Tensor, seconds: float) -> float:
    """Samples per second through loss, backward, gradient clipping and an Adam step."""
    optimizer = torch.optim.Adam(net.parameters(), 1e-4, eps=1e-5)
    actions = torch.randint(0, 3, (obs.shape[0],))
    start, samples = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        _, log_prob, entropy, value = net.get_action_and_value(obs, actions)
        loss = -log_prob.mean() + 0.5 * value.pow(2).mean() - 0.01 * entropy.mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        optimizer.step()
        samples += obs.shape[0]
    return samples / (time.perf_counter() - start)


def rollout_update_rate(net: torch.nn.Module, shape: tuple[int, ...], seconds: float, seed: int) -> dict[str, float]:
    """Frames x epochs per second, and seconds per update, of `ppo_update` on one random pixel rollout of the pixel
    preset's size and settings (at least three whole updates, one alone varying up to 2x here, and until `seconds`
    have passed)."""
    preset = PixelArgs()
    size = preset.num_envs * preset.num_steps
    batch = Rollout(obs=torch.randint(0, 256, (size, *shape), dtype=torch.uint8), actions=torch.randint(0, 3, (size,)),
                    logprobs=torch.full((size,), -1.1), values=torch.randn(size), advantages=torch.randn(size),
                    returns=torch.randn(size), valid=np.ones(size, dtype=bool))
    optimizer = torch.optim.Adam(net.parameters(), preset.learning_rate, eps=1e-5)
    rng = np.random.default_rng(seed)
    start, updates = time.perf_counter(), 0
    while updates < 3 or time.perf_counter() - start < seconds:
        ppo_update(net, optimizer, batch, rng, preset.update_epochs, preset.num_minibatches, preset.clip_coef,
                   preset.clip_vloss, preset.ent_coef, preset.vf_coef, preset.max_grad_norm, preset.norm_adv,
                   preset.target_kl)
        updates += 1
    elapsed = time.perf_counter() - start
    return {"rollout": size, "update_epochs": preset.update_epochs, "minibatch": size // preset.num_minibatches,
            "samples_per_s": round(size * preset.update_epochs * updates / elapsed),
            "seconds_per_update": round(elapsed / updates, 3)}


def main(args: Args) -> list[dict]:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    results = []

    def emit(result: dict) -> None:
        print(json_line({**result, "threads": args.threads}), flush=True)
        results.append(result)

    for name, (shape, kwargs) in CNNS.items():
        net = CNNAgent(shape, 3, **kwargs)
        frames = torch.randint(0, 256, (args.cnn_minibatch, *shape), dtype=torch.uint8)
        emit({"network": name, "minibatch": args.cnn_minibatch,
              "parameters": sum(p.numel() for p in net.parameters()),
              "samples_per_s": round(update_rate(net, frames, args.seconds))})
    name = next(n for n in CNNS if "(default)" in n)
    shape, kwargs = CNNS[name]
    for precision, size in itertools.product(args.trunk_precisions, args.minibatches):
        net = CNNAgent(shape, 3, **kwargs)
        net.trunk_dtype = trunk_dtype_for(precision, torch.device("cpu"))
        frames = torch.randint(0, 256, (size, *shape), dtype=torch.uint8)
        emit({"network": name, "minibatch": size, "trunk_dtype": trunk_dtype_name(net),
              "samples_per_s": round(update_rate(net, frames, args.seconds))})
    for precision in args.trunk_precisions:
        net = CNNAgent(shape, 3, **kwargs)
        net.trunk_dtype = trunk_dtype_for(precision, torch.device("cpu"))
        emit({"network": name, "measure": "ppo_update on a rollout", "trunk_dtype": trunk_dtype_name(net),
              **rollout_update_rate(net, shape, args.seconds, args.seed)})
    for width in args.mlp_widths:
        for size in args.minibatches:
            emit({"network": f"mlp {width}-{width}", "minibatch": size, "samples_per_s": round(
                update_rate(MLPAgent((120,), 3, (width, width)), torch.rand(size, 120), args.seconds))})
    return results


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
