"""Train the pixel agent: PPO with a small CNN on stacked grey frames (default: Python Breakout's pixels).

    .venv/bin/python scripts/03_train_pixel.py                        # BreakoutPy-v0 pixels, 9M steps
    .venv/bin/python scripts/03_train_pixel.py --env-id GBCBreakout-v0
    .venv/bin/python scripts/03_train_pixel.py --run-name NAME         # resume runs/<env>__pixel__s<seed>__NAME

Writes runs/<env_id>__pixel__s<seed>__<run_name or timestamp>/ with the same layout as 02_train_memory.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import tyro

from agents.trainer import PPOArgs, train

# Env kwargs used when --env-kwargs is left empty. Python Breakout: 42x42 frames (a 2x2-pixel ball still covers one
# pixel), 2 stacked frames (enough for the ball's direction), 4 frames per decision. Chosen by measured learning per
# CPU-second (README, "Choosing the pixel agent"): this frame and the two-layer CNN below learnt faster than 4 stacked
# 64x64 frames with the three-layer CNN, which update 5x slower per sample. The Game Boy's 160x144 screen keeps 84x84
# frames: its ball is 2x2 of 160 pixels, which 42x42 would average away; it stacks 2 frames as well (measured here,
# on 2 cores: 1,500 env steps/s with 2 stacked 84x84 frames, 915 with 4).
DEFAULT_ENV_KWARGS = {"BreakoutPy-v0": {"obs_type": "pixels", "obs_size": 42, "frame_stack": 2, "frame_skip": 4},
                      "GBCBreakout-v0": {"obs_type": "pixels", "obs_size": 84, "frame_stack": 2, "frame_skip": 4}}


@dataclass
class Args(PPOArgs):
    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space and uint8 (C, H, W) frames"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments selecting pixel observations; empty: DEFAULT_ENV_KWARGS of the env id"""
    total_timesteps: int = 9_000_000
    """env steps to train for (all sub-envs together): about 52 minutes alone on 2 CPU cores"""
    num_envs: int = 64
    """parallel sub-envs (one batched forward pass per step for all of them)"""
    num_steps: int = 64
    """steps per sub-env in each rollout (64 x 64 = 4,096 steps per update)"""
    num_minibatches: int = 16
    """minibatches per epoch (256 frames each: on the CPU an update costs the same per frame from 256 to 1,024
    frames a minibatch, so small minibatches give 4x the gradient steps for the same time, as in ppo_atari.py)"""
    update_epochs: int = 4
    """passes over each rollout"""
    learning_rate: float = 2.5e-4
    """Adam learning rate (eps 1e-5), annealed linearly to 0 (ppo_atari.py's value)"""
    clip_coef: float = 0.1
    """surrogate (and value) clipping coefficient (ppo_atari.py's value)"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    torch_threads: int = 2
    """torch CPU threads: on an otherwise idle 2-core machine 2 threads trained 1.6x faster than 1 (bench_train.py);
    use 1 when other jobs share the cores (2 threads then oversubscribe them)"""
    video_interval: int = 500
    """record one episode every this many iterations (about 2M steps), and after the last (0: never)"""
    channels: tuple[int, ...] = field(default_factory=lambda: (16, 32))
    """output channels of each conv layer"""
    kernels: tuple[int, ...] = field(default_factory=lambda: (4, 5))
    """kernel size of each conv layer"""
    strides: tuple[int, ...] = field(default_factory=lambda: (2, 3))
    """stride of each conv layer: a stride-2 first layer keeps the ball's height linearly readable (6x6 filters at
    stride 3 mixed ball and paddle: README, "The pixel agent's first layer"), at 1.7x the update cost"""
    hidden_size: int = 128
    """width of the fully connected layer shared by actor and critic"""


def main(args: Args, callback=None) -> dict:
    """Train; `callback` is agents.trainer.train's per-iteration hook (scripts/tune.py uses it)."""
    if not args.env_kwargs:
        args = dataclasses.replace(args, env_kwargs=json.dumps(DEFAULT_ENV_KWARGS.get(args.env_id, {})))
    network = {"type": "cnn", "channels": list(args.channels), "kernels": list(args.kernels),
               "strides": list(args.strides), "hidden_size": args.hidden_size}
    return train(args, agent_name="pixel", network=network, callback=callback)


if __name__ == "__main__":
    from agents.cli import run_script

    print(json.dumps(run_script(lambda: main(tyro.cli(Args)))))
