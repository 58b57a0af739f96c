"""Throughput of whole PPO training for each agent: env steps/s and the share of time in env stepping,
inference and updates. Prints one JSON line per (agent, torch threads) measured.

    .venv/bin/python scripts/bench_train.py                         # both agents on BreakoutPy-v0, script defaults
    .venv/bin/python scripts/bench_train.py --threads 1 2 --pixel-steps 16384

Each measurement trains from scratch with the training script's own defaults (02_train_memory.py /
03_train_pixel.py) for a few iterations into a temporary folder, with videos and checkpoints off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import tyro

SCRIPTS = Path(__file__).resolve().parent


@dataclass
class Args:
    env_id: str = "BreakoutPy-v0"
    """env to train on"""
    agents: tuple[str, ...] = ("memory", "pixel")
    """which agents to measure"""
    memory_steps: int = 65_536
    """env steps of each memory-agent measurement"""
    pixel_steps: int = 16_384
    """env steps of each pixel-agent measurement"""
    threads: tuple[int, ...] = field(default_factory=tuple)
    """torch thread counts to measure (default: each script's own setting)"""
    num_envs: int = 0
    """sub-envs (0: the script's default)"""
    seed: int = 1
    """seed of the runs"""


SCRIPT_OF = {"memory": "02_train_memory.py", "pixel": "03_train_pixel.py"}


def load_script(name: str):
    module_name = "bench_" + name.replace(".py", "")
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def main(args: Args) -> list[dict]:
    unknown = set(args.agents) - set(SCRIPT_OF)
    if unknown:
        raise ValueError(f"unknown agents {sorted(unknown)}; choose from {sorted(SCRIPT_OF)}")
    results = []
    with tempfile.TemporaryDirectory() as runs_dir:
        for agent in args.agents:
            script = load_script(SCRIPT_OF[agent])
            defaults = script.Args()
            for threads in args.threads or (defaults.torch_threads,):
                run_args = dataclasses.replace(
                    defaults, env_id=args.env_id, seed=args.seed, torch_threads=threads, runs_dir=runs_dir,
                    run_name=f"bench_t{threads}", video_interval=0, checkpoint_interval=0, progress_bar=False,
                    num_envs=args.num_envs or defaults.num_envs,
                    total_timesteps=args.memory_steps if agent == "memory" else args.pixel_steps,
                )
                with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON lines
                    summary = script.main(run_args)
                fractions = {key: round(summary[f"{key}_fraction"], 3) for key in ("env", "inference", "update")}
                config = json.loads((Path(summary["run_dir"]) / "config.json").read_text())
                result = {
                    "agent": agent, "env_id": args.env_id, "env_kwargs": json.loads(config["args"]["env_kwargs"]),
                    "num_envs": run_args.num_envs, "num_steps": run_args.num_steps, "torch_threads": threads,
                    "env_steps": summary["global_step"], "seconds": round(summary["session_seconds"], 2),
                    "sps": round(summary["sps"], 1), **{f"{k}_fraction": v for k, v in fractions.items()},
                    "other_fraction": round(1 - sum(fractions.values()), 3),
                }
                print(json.dumps(result), flush=True)
                results.append(result)
    return results


if __name__ == "__main__":
    main(tyro.cli(Args))
