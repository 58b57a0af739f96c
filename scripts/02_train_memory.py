"""Train the memory agent: PPO with an MLP on the env's state/RAM vector (default: Python Breakout's state).

    .venv/bin/python scripts/02_train_memory.py                       # BreakoutPy-v0, 12M steps
    .venv/bin/python scripts/02_train_memory.py --env-id CartPole-v1 --total-timesteps 150000 --num-envs 4
    .venv/bin/python scripts/02_train_memory.py --run-name NAME        # resume runs/<env>__memory__s<seed>__NAME

Writes runs/<env_id>__memory__s<seed>__<run_name or timestamp>/: TensorBoard scalars (CleanRL names), config.json,
checkpoints/checkpoint.pt, model.pt (final) and videos/*.mp4.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import tyro

from agents.trainer import PPOArgs, train

# Env kwargs used when --env-kwargs is left empty. Breakout decides every 4 frames, as Atari agents do: measured here,
# PPO with the game's default 2 frames per step had not started to learn after 1M steps, with 4 it had. On the Game Boy
# the memory agent reads the bytes the extractor kept (step 01's committed spec); '{"obs_type": "ram"}' gives it the
# whole RAM instead.
DEFAULT_ENV_KWARGS = {"BreakoutPy-v0": {"obs_type": "state", "frame_skip": 4}, "GBCBreakout-v0": {"obs_type": "state"}}


@dataclass
class Args(PPOArgs):
    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space and a flat observation"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments; empty: DEFAULT_ENV_KWARGS of the env id (none for other envs)"""
    total_timesteps: int = 12_000_000
    """env steps to train for (all sub-envs together): about 6-10 minutes on 2 CPU cores"""
    num_envs: int = 64
    """parallel sub-envs (one batched forward pass per step for all of them)"""
    num_steps: int = 128
    """steps per sub-env in each rollout (64 x 128 = 8,192 steps per update)"""
    num_minibatches: int = 8
    """minibatches per epoch (1,024 steps each)"""
    update_epochs: int = 4
    """passes over each rollout"""
    learning_rate: float = 1e-3
    """Adam learning rate (eps 1e-5), annealed linearly to 0 over total_timesteps"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    torch_threads: int = 1
    """torch CPU threads (scripts/bench_train.py --threads 1 2 measures both)"""
    video_interval: int = 1000
    """record one episode every this many iterations (about 8M steps), and after the last (0: never)"""
    hidden_sizes: tuple[int, ...] = field(default_factory=lambda: (64, 64))
    """widths of the actor's and the critic's hidden layers"""


def main(args: Args, callback=None) -> dict:
    """Train; `callback` is agents.trainer.train's per-iteration hook (scripts/tune.py uses it)."""
    if not args.env_kwargs:
        args = dataclasses.replace(args, env_kwargs=json.dumps(DEFAULT_ENV_KWARGS.get(args.env_id, {})))
    return train(args, agent_name="memory", network={"type": "mlp", "hidden_sizes": list(args.hidden_sizes)},
                 callback=callback)


if __name__ == "__main__":
    from agents.cli import run_script

    print(json.dumps(run_script(lambda: main(tyro.cli(Args)))))
