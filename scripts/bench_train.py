"""Throughput of whole PPO training for each agent: env steps/s and the share of time in env stepping, inference and
updates. Prints one JSON line per (agent, settings, torch threads) measured.

    .venv/bin/python scripts/bench_train.py                          # both agents: old and current defaults
    .venv/bin/python scripts/bench_train.py --agents pixel --presets default --threads 1 2
    .venv/bin/python scripts/bench_train.py --presets default --num-envs 512

Each measurement trains from scratch for a few iterations into a temporary folder (deleted afterwards), with videos
and checkpoints off. Presets: `default` is the agent's current training defaults (agents/presets.py); `old` is the
settings the scripts had before they were tuned (16 memory envs x 128 steps, 8 pixel envs x 128 steps, 64x64 frames;
on a Game Boy game, the pixel agent's 84x84 frames), kept here so that both are measured in the same run on the same
machine:

    .venv/bin/python scripts/bench_train.py --env-id GBCBreakout-v0 --agents pixel --pixel-steps 16384
    .venv/bin/python scripts/bench_train.py --env-id GBCBreakout-v0 --agents pixel --presets default \
        --trunk-precisions auto float32                                # the bfloat16 trunk against float32
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import os
import tempfile
from dataclasses import dataclass, field

import tyro

from agents.presets import PRESETS, Preset
from breakout_py.errors import UserError, run_script
from breakout_py.files import json_line

# The scripts' defaults before tuning: Args fields, env kwargs and network settings.
OLD_DEFAULTS = {
    "memory": {"fields": {"num_envs": 16, "num_steps": 128, "num_minibatches": 4, "update_epochs": 4,
                          "learning_rate": 1e-3, "hidden_sizes": (128, 128), "torch_threads": 1},
               "env_kwargs": {"obs_type": "state", "frame_skip": 4}},
    "pixel": {"fields": {"num_envs": 8, "num_steps": 128, "num_minibatches": 4, "update_epochs": 4,
                         "learning_rate": 2.5e-4, "clip_coef": 0.1, "channels": (16, 32, 32), "kernels": (8, 4, 3),
                         "strides": (4, 2, 1), "hidden_size": 256, "torch_threads": 1,
                         "trunk_precision": "float32"},
              "env_kwargs": {"obs_type": "pixels", "obs_size": 64, "frame_skip": 4}},
}
# The Game Boy pixel preset before its frames shrank to 42x42 (and its trunk took bfloat16): the same CNN and PPO
# settings on 2 stacked 84x84 frames, in float32.
OLD_GBC_PIXEL = {"fields": {"trunk_precision": "float32"},
                 "env_kwargs": {"obs_type": "pixels", "obs_size": 84, "frame_stack": 2, "frame_skip": 4}}
SETTINGS = ("old", "default")  # the presets this tool measures


@dataclass
class Args:
    env_id: str = "BreakoutPy-v0"
    """env to train on (the `old` preset is defined for BreakoutPy-v0 and, for the pixel agent, the GBC games)"""
    agents: tuple[str, ...] = ("memory", "pixel")
    """which agents to measure"""
    presets: tuple[str, ...] = SETTINGS
    """settings to measure: old (before tuning) and/or default (the scripts' current defaults)"""
    memory_steps: int = 262_144
    """env steps of each memory-agent measurement"""
    pixel_steps: int = 32_768
    """env steps of each pixel-agent measurement"""
    threads: tuple[int, ...] = field(default_factory=tuple)
    """torch thread counts to measure, 0 meaning automatic (default: each preset's own setting)"""
    trunk_precisions: tuple[str, ...] = field(default_factory=tuple)
    """the pixel agent's conv-trunk dtypes to measure (auto, float32, bfloat16; default: each preset's own)"""
    num_envs: int = 0
    """sub-envs (0: the preset's)"""
    seed: int = 1
    """seed of the runs"""


def preset_args(training: Preset, preset: str, env_id: str):
    """The agent's Args (and env kwargs) of a preset."""
    defaults = training.args_type()
    if preset == "default":
        return defaults, training.default_env_kwargs(env_id)
    old = OLD_GBC_PIXEL if training.agent == "pixel" and env_id.startswith("GBC") else OLD_DEFAULTS[training.agent]
    return dataclasses.replace(defaults, **old["fields"]), old["env_kwargs"]


def main(args: Args) -> list[dict]:
    unknown = (set(args.agents) - set(PRESETS)) | (set(args.presets) - set(SETTINGS))
    if unknown:
        raise UserError(f"unknown agents/presets {sorted(unknown)}; agents: {sorted(PRESETS)}, presets: {SETTINGS}")
    results = []
    with tempfile.TemporaryDirectory() as runs_dir:
        for agent in args.agents:
            training = PRESETS[agent]
            for preset in args.presets:
                base, env_kwargs = preset_args(training, preset, args.env_id)
                precisions = (args.trunk_precisions or (base.trunk_precision,)) if agent == "pixel" else ("float32",)
                for threads, precision in itertools.product(args.threads or (base.torch_threads,), precisions):
                    run_args = dataclasses.replace(
                        base, env_id=args.env_id, env_kwargs=json.dumps(env_kwargs), seed=args.seed,
                        torch_threads=threads, trunk_precision=precision, runs_dir=runs_dir,
                        run_name=f"bench_{preset}_t{threads}_{precision}", video_interval=0, checkpoint_interval=0,
                        progress_bar=False, num_envs=args.num_envs or base.num_envs,
                        total_timesteps=args.memory_steps if agent == "memory" else args.pixel_steps,
                    )
                    # stdout carries only the JSON lines; the trainer's own lines name a temporary run folder that
                    # is deleted when the measurement ends, so they are dropped rather than shown
                    with contextlib.redirect_stdout(io.StringIO()):
                        summary = training.train(run_args)
                    fractions = {key: round(summary[f"{key}_fraction"], 3) for key in ("env", "inference", "update")}
                    result = {
                        "agent": agent, "preset": preset, "env_id": args.env_id, "env_kwargs": env_kwargs,
                        "num_envs": run_args.num_envs, "num_steps": run_args.num_steps,
                        "update_epochs": run_args.update_epochs, "num_minibatches": run_args.num_minibatches,
                        "torch_threads": summary["torch_threads"], "trunk_dtype": summary["trunk_dtype"],
                        "env_steps": summary["global_step"],
                        "seconds": round(summary["session_seconds"], 2), "sps": round(summary["sps"], 1),
                        **{f"{k}_fraction": v for k, v in fractions.items()},
                        "other_fraction": round(1 - sum(fractions.values()), 3),
                        "load_1min": round(os.getloadavg()[0], 2),
                    }
                    print(json_line(result), flush=True)
                    results.append(result)
    return results


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
